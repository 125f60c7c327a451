"""The audit administrator's pages: the custody log, chain verifications, the access register.

He reads everything of the log and the register and changes nothing (running a chain
verification is a check, not a change: it leaves its result, promise 4). Every other role —
the system and security administrators and every record holder — neither sees these pages in
the navigation (web.context) nor reaches them: 403.
"""

from __future__ import annotations

import functools
import io
import json
from datetime import datetime

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from access.choices import AccessAction
from access.selectors import EXPORT_LIMIT, AccessFilter, export_rows, list_access_entries
from access.services import record_register_export
from core.bounds import parse_id
from core.choices import CheckStatus, CheckTrigger
from core.forms import BoundedDateField, bound_text_fields, refuse_reversed_period
from custody.choices import EventCode
from custody.selectors import (
    SUBJECT_TYPES,
    EventFilter,
    can_read_audit,
    keyset_page,
    list_events,
    list_verifications,
)
from custody.services import verify_custody_chain
from web.views.common import page

EVENTS_PER_PAGE = 50
ACCESS_PER_PAGE = 50
VERIFICATIONS_PER_PAGE = 20


def audit_page(view):
    """``page`` for the audit administrator's pages only; any other role gets a Chinese 403."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not can_read_audit(request.user):
            return render(
                request,
                "web/error.html",
                {"message": _("此页面仅供审计管理员使用：保管链日志与查阅登记由审计管理员查阅。")},
                status=403,
            )
        return view(request, *args, **kwargs)

    return page(guarded)


# --- filter forms ----------------------------------------------------------------------------


def _choices(pairs):
    return [("", gettext_lazy("全部")), *pairs]


class _PeriodForm(forms.Form):
    date_from = BoundedDateField(label=gettext_lazy("日期自"), required=False)
    date_to = BoundedDateField(label=gettext_lazy("至"), required=False)
    before = forms.CharField(required=False, widget=forms.HiddenInput)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    KEYS = ("before", "after")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_text_fields(self)

    def _clean_key(self, name):
        value = self.cleaned_data.get(name) or ""
        if not value:
            return None
        number = parse_id(value)
        if number is None:
            raise forms.ValidationError(_("翻页位置无效，请从第一页重新查看。"))
        return number

    def clean_before(self):
        return self._clean_key("before")

    def clean_after(self):
        return self._clean_key("after")

    def clean(self):
        data = super().clean()
        refuse_reversed_period(self)
        return data

    def is_filtered(self) -> bool:
        if not self.is_bound:
            return False
        if not self.is_valid():
            return True
        return any(v for k, v in self.cleaned_data.items() if k not in self.KEYS)


def _person_ref(text: str) -> tuple[int | None, str]:
    """An id typed as digits (or ``#12``), else a name."""
    text = (text or "").strip()
    number = parse_id(text.removeprefix("#"))
    return (number, "") if number is not None else (None, text)


class EventFilterForm(_PeriodForm):
    actor = forms.CharField(label=gettext_lazy("操作人"), required=False, max_length=100)
    action = forms.ChoiceField(
        label=gettext_lazy("动作"), required=False, choices=_choices(EventCode.choices)
    )
    subject_type = forms.ChoiceField(
        label=gettext_lazy("对象类型"), required=False, choices=_choices(SUBJECT_TYPES.items())
    )
    subject_id = forms.CharField(label=gettext_lazy("对象编号"), required=False, max_length=64)
    field_order = ["actor", "action", "subject_type", "subject_id", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["invalid_choice"] = _("所选动作不存在。")
        self.fields["subject_type"].error_messages["invalid_choice"] = _("所选对象类型不存在。")

    def clean(self):
        data = super().clean()
        if data.get("subject_id") and not data.get("subject_type"):
            self.add_error("subject_type", _("按对象编号筛选时须同时选择对象类型。"))
        return data

    def to_filter(self) -> EventFilter:
        data = self.cleaned_data
        actor_id, actor_text = _person_ref(data.get("actor"))
        return EventFilter(
            actor_id=actor_id,
            actor_text=actor_text,
            action=data.get("action") or "",
            subject_type=data.get("subject_type") or "",
            subject_id=(data.get("subject_id") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class AccessFilterForm(_PeriodForm):
    person = forms.CharField(label=gettext_lazy("查阅人"), required=False, max_length=100)
    recording = forms.CharField(label=gettext_lazy("记录编号"), required=False, max_length=20)
    action = forms.ChoiceField(
        label=gettext_lazy("方式"), required=False, choices=_choices(AccessAction.choices)
    )
    field_order = ["person", "recording", "action", "date_from", "date_to"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["invalid_choice"] = _("所选查阅方式不存在。")

    def clean_recording(self):
        text = (self.cleaned_data.get("recording") or "").strip().removeprefix("#")
        if not text:
            return None
        number = parse_id(text)
        if number is None:
            raise forms.ValidationError(_("记录编号须为正整数。"))
        return number

    def to_filter(self) -> AccessFilter:
        data = self.cleaned_data
        person_id, person_text = _person_ref(data.get("person"))
        return AccessFilter(
            person_id=person_id,
            person_text=person_text,
            recording_id=data.get("recording"),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def _query_without_keys(request) -> str:
    params = request.GET.copy()
    for key in ("before", "after", "format"):
        params.pop(key, None)
    return params.urlencode()


def _filtered_page(request, form, list_rows, key: str, size: int):
    """The keyset page for a filter form; an invalid filter lists nothing (and says so)."""
    invalid = form.is_bound and not form.is_valid()
    if invalid:
        return invalid, None
    flt = form.to_filter() if form.is_bound else None
    qs = list_rows(request.user, flt)
    data = form.cleaned_data if form.is_bound else {}
    result = keyset_page(qs, key, before=data.get("before"), after=data.get("after"), size=size)
    return invalid, result


# --- the log browser ---------------------------------------------------------------------------


def _subject_shown(event) -> str:
    """The subject's id as a person reads it (a failed sign-in's account is a digest)."""
    ident = event.subject_id or ""
    if ident.startswith("sha256:"):
        return ident.removeprefix("sha256:")[:12] + "…"
    return ident


def _decorate_events(rows) -> None:
    for event in rows:
        event.subject_label = SUBJECT_TYPES.get(event.subject_type, _("其他对象"))
        event.subject_shown = _subject_shown(event)


@audit_page
def audit_events(request):
    form = EventFilterForm(request.GET or None)
    invalid, result = _filtered_page(request, form, list_events, "id", EVENTS_PER_PAGE)
    if result:
        _decorate_events(result.rows)
    context = {
        "form": form,
        "invalid": invalid,
        "result": result,
        "rows": result.rows if result else [],
        "subject_labels": SUBJECT_TYPES,
        "filtered": form.is_filtered(),
        "query": _query_without_keys(request),
        "paged": bool(
            form.is_bound
            and not invalid
            and (form.cleaned_data.get("before") or form.cleaned_data.get("after"))
        ),
    }
    return render(request, "web/audit/events.html", context, status=400 if invalid else 200)


# --- chain verifications -----------------------------------------------------------------------


def _key_param(request, name) -> int | None:
    return parse_id(request.GET.get(name, "")) if request.GET.get(name) else None


@audit_page
def audit_verifications(request):
    before, after = _key_param(request, "before"), _key_param(request, "after")
    result = keyset_page(
        list_verifications(request.user),
        "pk",
        before=before,
        after=after,
        size=VERIFICATIONS_PER_PAGE,
    )
    triggers = dict(CheckTrigger.choices)
    for verification in result.rows:
        verification.trigger_label = triggers.get(verification.trigger, _("其他方式"))
    context = {"result": result, "rows": result.rows, "paged": bool(before or after)}
    return render(request, "web/audit/verifications.html", context)


@require_POST
@audit_page
def audit_verify_now(request):
    verification = verify_custody_chain(actor=request.user, trigger=CheckTrigger.MANUAL)
    if verification.status == CheckStatus.PASS:
        messages.success(
            request,
            _("校验完成：哈希链完整，共校验 %(n)s 个事件。")
            % {"n": f"{verification.events_checked:,}"},
        )
    else:
        messages.error(request, _("校验完成：%(detail)s") % {"detail": verification.detail})
    return redirect("web:audit_verifications")


# --- the access register -------------------------------------------------------------------------

EXPORT_HEADERS = [
    gettext_lazy("登记编号"),
    gettext_lazy("时间"),
    gettext_lazy("查阅人"),
    gettext_lazy("查阅人编号"),
    gettext_lazy("记录编号"),
    gettext_lazy("方式"),
    gettext_lazy("衍生资料类型"),
    gettext_lazy("事由"),
    gettext_lazy("审批依据"),
    gettext_lazy("客户端"),
    gettext_lazy("请求编号"),
]


def _local_naive(value: datetime) -> datetime:
    """Spreadsheets hold no zone: write the platform's local time."""
    return timezone.localtime(value).replace(tzinfo=None)


def _derivative_label(kind: str) -> str:
    from recordings.choices import DerivativeKind

    if not kind:
        return ""
    try:
        return str(DerivativeKind(kind).label)
    except ValueError:
        return kind


CHANNELS = {"web": gettext_lazy("网页"), "api": gettext_lazy("接口")}


def _decorate_access(rows) -> None:
    for entry in rows:
        channel, _sep, rest = (entry.client or "").partition(" ")
        entry.channel_label = CHANNELS.get(channel, _("其他"))
        entry.client_ip = rest.split(" ", 1)[0] if rest else ""
        entry.derivative_label = _derivative_label(entry.derivative_kind)
        entry.technical = json.dumps(
            {
                "id": entry.pk,
                "request_id": entry.request_id,
                "client": entry.client,
                "play_ref": entry.play_ref,
                "derivative_kind": entry.derivative_kind,
                "person_id": entry.person_id,
            },
            ensure_ascii=False,
            indent=2,
        )


def _export_access(request, qs, filters: dict) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("查阅登记"))
    widths = [10, 20, 14, 10, 10, 12, 14, 30, 20, 24, 34]
    for n, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + n)].width = width
    bold = Font(bold=True)
    header = []
    for label in EXPORT_HEADERS:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    actions = dict(AccessAction.choices)
    written = 0
    for entry in export_rows(qs, EXPORT_LIMIT + 1):
        if written == EXPORT_LIMIT:
            sheet.append([])
            sheet.append(
                [
                    _(
                        "注意：符合条件的登记超过 %(n)s 条，本表只含最新的 %(n)s 条；请缩小日期范围后分批导出。"
                    )
                    % {"n": f"{EXPORT_LIMIT:,}"}
                ]
            )
            break
        date_cell = WriteOnlyCell(sheet, value=_local_naive(entry.occurred_at))
        date_cell.number_format = "yyyy-mm-dd hh:mm:ss"
        sheet.append(
            [
                entry.pk,
                date_cell,
                entry.person_name,
                entry.person_id,
                entry.recording_id,
                str(actions.get(entry.action, entry.action)),
                _derivative_label(entry.derivative_kind),
                entry.purpose,
                entry.approval_ref,
                entry.client,
                entry.request_id,
            ]
        )
        written += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _("查阅登记-%(stamp)s.xlsx") % {"stamp": stamp}
    )
    record_register_export(
        actor=request.user, filters=filters, rows=written, truncated=written == EXPORT_LIMIT
    )
    return response


@audit_page
def audit_access(request):
    form = AccessFilterForm(request.GET or None)
    if request.GET.get("format") == "xlsx":
        if form.is_bound and not form.is_valid():
            messages.error(request, _("筛选条件有误，未导出；请先修正筛选条件。"))
            return redirect(f"{request.path}?{_query_without_keys(request)}")
        flt = form.to_filter() if form.is_bound else None
        filters = {k: str(v) for k, v in (form.cleaned_data.items() if form.is_bound else ()) if v}
        return _export_access(request, list_access_entries(request.user, flt), filters)
    invalid, result = _filtered_page(request, form, list_access_entries, "pk", ACCESS_PER_PAGE)
    if result:
        _decorate_access(result.rows)
    query = _query_without_keys(request)
    context = {
        "form": form,
        "invalid": invalid,
        "result": result,
        "rows": result.rows if result else [],
        "filtered": form.is_filtered(),
        "query": query,
        "export_query": f"{query}&format=xlsx" if query else "format=xlsx",
        "export_limit": EXPORT_LIMIT,
        "paged": bool(
            form.is_bound
            and not invalid
            and (form.cleaned_data.get("before") or form.cleaned_data.get("after"))
        ),
    }
    return render(request, "web/audit/access.html", context, status=400 if invalid else 200)
