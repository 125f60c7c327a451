"""The external provision approval form (对外提供审批表, ACC-1; SAMR art. 17 ¶5: written approval).

An approved request to provide records outside (or a party's copy application) is printed on
an A4 form for the paper file: who asked, for whom, why, the list of records with their digests,
the superior department's opinion, the decision and the article, and a line for the department
head's signature and seal. Issuing it is a custody event carrying the SHA-256 of the very PDF
handed out, so a paper copy can later be matched to the log.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.approvals import can_approve
from access.choices import RequestKind, RequestStatus
from access.models import AccessRequest
from core.errors import DomainError, PermissionDeniedError
from core.pdf import FAMILY, cjk_pdf
from custody.choices import EventCode
from custody.services import record_event
from orgs.choices import Role

FORM_KINDS = (RequestKind.EXTERNAL, RequestKind.PARTY_COPY)
# millimetres on A4 with 15 mm margins: 180 mm of text width
MARGIN = 15
LABEL_WIDTH = 42
RECORD_COLUMNS = (14, 70, 32, 28, 36)  # 编号, 文件名, 采集机构, 开始时间, SHA-256


class ApprovalFormError(DomainError):
    code = "approval_form_refused"


def title() -> str:
    return _("执法音像记录对外提供审批表")


def may_issue(person, request: AccessRequest) -> bool:
    """The requester, a holder of the step's office, or the audit administrator."""
    if person is None or not getattr(person, "is_authenticated", False) or not person.is_active:
        return False
    return (
        person.pk == request.requester_id
        or can_approve(person, request)
        or person.has_role(Role.AUDIT_ADMIN)
    )


def short_sha(hex_digest: str) -> str:
    """First and last eight hex digits: enough to match a file by eye against its full digest."""
    return f"{hex_digest[:8]}…{hex_digest[-8:]}" if len(hex_digest) > 16 else hex_digest


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(value).strftime(fmt) if value else "—"


def _requester_unit(request: AccessRequest) -> str:
    person = request.requester
    if person.unit_id:
        unit = person.unit
        return f"{unit.department.name} {unit.name}"
    return person.department.name if person.department_id else "—"


def _pdf_class():
    from fpdf import FPDF

    class FormPDF(FPDF):
        form_ref = ""

        def footer(self):
            self.set_y(-12)
            self.set_font(FAMILY, size=8)
            self.set_text_color(110)
            self.cell(0, 5, self.form_ref, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, _("第 %(page)s 页，共 {nb} 页") % {"page": self.page_no()}, align="R")
            self.set_text_color(0)

    return FormPDF


def _field_rows(request: AccessRequest) -> list[tuple[str, str]]:
    return [
        (_("申请类型"), request.get_kind_display()),
        (_("申请人"), request.requester_name),
        (_("申请人单位"), _requester_unit(request)),
        (_("记录所属部门"), request.department.name),
        (_("提供对象"), request.recipient or "—"),
        (_("事由"), request.purpose),
        (_("案号"), request.case_number or "—"),
        (_("申请时间"), _when(request.created_at)),
        (_("有效期"), f"{_when(request.valid_from)} — {_when(request.valid_until)}"),
    ]


def _decision_rows(request: AccessRequest) -> list[tuple[str, str]]:
    decider = request.decided_by
    approver = f"{decider.display_name}（{request.get_approver_role_display()}）" if decider else "—"
    opinion = request.get_status_display()
    if request.decision_comment:
        opinion = f"{opinion}：{request.decision_comment}"
    return [
        (_("是否征求上级部门意见"), _("是") if request.consult_superior else _("否")),
        (_("上级部门意见"), request.consult_note or "—"),
        (_("审批意见"), opinion),
        (_("审批人"), approver),
        (_("审批时间"), _when(request.decided_at)),
        (_("依据"), request.basis),
    ]


def _key_values(pdf, rows: list[tuple[str, str]]) -> None:
    from fpdf.fonts import FontFace

    label_style = FontFace(emphasis="BOLD", fill_color=(238, 241, 245))
    width = pdf.epw
    with pdf.table(
        col_widths=(LABEL_WIDTH, width - LABEL_WIDTH),
        first_row_as_headings=False,
        text_align=("LEFT", "LEFT"),
        line_height=6,
        padding=(1.2, 2),
        wrapmode="CHAR",
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=label_style)
            row.cell(value)


def _records(pdf, request: AccessRequest) -> int:
    from fpdf.fonts import FontFace

    items = list(
        request.items.select_related("recording__unit", "recording__original").order_by("recording_id")
    )
    pdf.set_font(FAMILY, size=11)
    pdf.cell(0, 8, _("记录清单（共 %(n)d 条）") % {"n": len(items)}, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=8.5)
    headings = FontFace(emphasis="BOLD", fill_color=(238, 241, 245))
    with pdf.table(
        col_widths=RECORD_COLUMNS,
        headings_style=headings,
        text_align=("CENTER", "LEFT", "LEFT", "CENTER", "CENTER"),
        line_height=4.6,
        padding=(1, 1.5),
        wrapmode="CHAR",
        repeat_headings=1,
    ) as table:
        head = table.row()
        for text in (_("编号"), _("文件名"), _("采集机构"), _("开始时间"), _("SHA-256（节选）")):
            head.cell(text)
        for item in items:
            rec = item.recording
            row = table.row()
            row.cell(str(rec.pk))
            row.cell(rec.original_filename)
            row.cell(rec.unit.name)
            row.cell(_when(rec.start_time))
            row.cell(short_sha(rec.original.sha256))
        if not items:
            row = table.row()
            row.cell(_("（无记录）"), colspan=len(RECORD_COLUMNS))
    return len(items)


def build_approval_form(request: AccessRequest, *, printed_by: str = "", printed_at: datetime | None = None) -> bytes:
    """The form as PDF bytes (one page for a short list; the record table continues overleaf)."""
    pdf = cjk_pdf(title=f"{title()} {request.pk}", pdf_class=_pdf_class())
    pdf.form_ref = _("调阅申请第 %(pk)s 号 · %(title)s") % {"pk": request.pk, "title": title()}
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    pdf.set_font(FAMILY, "B", size=17)
    pdf.cell(0, 11, title(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=9.5)
    pdf.cell(0, 6, _("申请编号：第 %(pk)s 号") % {"pk": request.pk}, align="L")
    pdf.set_x(pdf.l_margin)
    printed = _when(printed_at or timezone.now())
    pdf.cell(0, 6, _("打印人：%(who)s　打印时间：%(when)s") % {"who": printed_by, "when": printed}, align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)

    pdf.set_font(FAMILY, size=10)
    _key_values(pdf, _field_rows(request))
    pdf.ln(3)
    _records(pdf, request)
    pdf.ln(3)
    pdf.set_font(FAMILY, size=10)
    _key_values(pdf, _decision_rows(request))

    # the signature and seal block stays in one piece
    if pdf.will_page_break(34):
        pdf.add_page()
    pdf.ln(8)
    pdf.set_font(FAMILY, size=11)
    pdf.cell(0, 8, _("部门负责人（签字）：____________________    日期：____________"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, 8, _("（部门印章）"), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FAMILY, size=8)
    pdf.set_text_color(110)
    pdf.multi_cell(
        0, 4.5,
        _("本表由执法音像记录管理平台生成，生成记录（含本文件的 SHA-256 摘要）已写入保管链；"
          "记录清单中的摘要为原始文件 SHA-256 的首尾各 8 位，完整摘要见平台记录详情。"),
        new_x="LMARGIN", new_y="NEXT",
    )
    pdf.set_text_color(0)
    return bytes(pdf.output())


def issue_approval_form(request: AccessRequest, actor) -> bytes:
    """The PDF for an approved external provision or party copy; the issue is a custody event."""
    if request.kind not in FORM_KINDS:
        raise ApprovalFormError(_("只有对外提供或当事人申请复制的申请才有对外提供审批表。"))
    if request.status != RequestStatus.APPROVED:
        raise ApprovalFormError(
            _("该申请%(status)s，批准后才能生成审批表。") % {"status": request.get_status_display()}
        )
    if not may_issue(actor, request):
        raise PermissionDeniedError(_("只有申请人、审批人或审计管理员可以生成审批表。"))
    pdf = build_approval_form(request, printed_by=actor.display_name)
    digest = hashlib.sha256(pdf).hexdigest()
    subjects = [("recording", str(pk)) for pk in request.items.values_list("recording_id", flat=True)]
    with transaction.atomic():
        record_event(EventCode.APPROVAL_FORM_ISSUED, actor=actor, subject=request, also=subjects,
                     details={"request": request.pk, "sha256": digest})
    return pdf
