"""案件 pages (REC-9): the list with its filters, the form that registers a case, the case's page
(party, handler, its four stages with their documents, its activities and findings, closing and
the 30-day archiving deadline) with what is done there, a document's original as a download, and
the document form of an activity's page.

Every read goes through ``activities.selectors`` and ``activities.documents`` (a case, an
activity or a document one may not see is a 404, never a 403); every change through the services
(activities.services, activities.documents), whose refusal is shown in the form as its Chinese
message with a 4xx. Documents are uploaded into the vault as originals (digests, write-once, the
stored-object register) by ``add_document``.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from activities.choices import CaseStage, FindingState, PartyKind
from activities.documents import add_document, get_document
from activities.models import Case, CaseDocument
from activities.rules import can_edit_activity, can_keep_cases, case_q
from activities.selectors import list_activities, list_cases, list_findings
from activities.services import (
    STAGE_ORDER,
    CaseValues,
    advance_case_stage,
    archive_case,
    close_case,
    create_case,
)
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event
from storage.backends import vault_for
from storage.backends.base import ObjectMissingError
from storage.serving import ensure_present, serve_stored_object
from web.forms.access_requests import APPLICATION_HEAD, application_type
from web.views.activities import (
    SEVERITY_COLORS,
    STATE_COLORS,
    activity_or_404,
    officer_choices,
    render_detail,
)
from web.views.cases_forms import (
    CASE_STATES,
    ArchiveForm,
    CaseFilterForm,
    CaseForm,
    CloseForm,
    DocumentForm,
    StageForm,
)
from web.views.common import media_page, page_number

PER_PAGE = 25
MAX_PAGE = 400
MAX_ACTIVITIES = 200
MAX_RECORDINGS = 50
STAGE_COLORS = {CaseStage.START: "azure", CaseStage.INVESTIGATION: "blue", CaseStage.DECISION: "indigo",
                CaseStage.EXECUTION: "purple"}
STATE_LABELS = dict(CASE_STATES)
CASE_STATE_COLORS = {"open": "blue", "closed": "orange", "overdue": "red", "archived": "green"}


def case_or_404(user, case_id: int) -> Case:
    case = list_cases(user).select_related("handler", "department").filter(pk=case_id).first()
    if case is None:
        raise Http404(_("案件不存在或您无权查看。"))
    return case


def case_state(case, today=None) -> str:
    """办理中 / 已结案待归档 / 归档逾期 / 已归档."""
    today = today or timezone.localdate()
    if case.archived_on is not None:
        return "archived"
    if case.closed_on is None:
        return "open"
    return "overdue" if case.archive_due and case.archive_due < today else "closed"


def _state_q(state: str, today) -> Q:
    if state == "open":
        return Q(closed_on__isnull=True)
    if state == "archived":
        return Q(archived_on__isnull=False)
    closed = Q(closed_on__isnull=False, archived_on__isnull=True)
    if state == "overdue":
        return closed & Q(archive_due__lt=today)
    return closed & (Q(archive_due__gte=today) | Q(archive_due__isnull=True))


def _decorate(case, today) -> None:
    state = case_state(case, today)
    case.state = state
    case.state_label = STATE_LABELS[state]
    case.state_color = CASE_STATE_COLORS[state]
    case.stage_color = STAGE_COLORS.get(case.stage, "secondary")


def may_register(user) -> bool:
    return bool(user.department_id and can_keep_cases(user, user.department))


# ---------------------------------------------------------------------------- the list


@require_GET
@media_page
def case_list(request):
    user = request.user
    params = request.GET.copy()
    params.pop("page", None)
    form = CaseFilterForm(params or None)
    invalid = form.is_bound and not form.is_valid()
    today = timezone.localdate()
    if invalid:
        qs = Case.objects.none()
    else:
        qs = list_cases(user)
        data = form.cleaned_data if form.is_bound else {}
        if data.get("stage"):
            qs = qs.filter(stage=data["stage"])
        if data.get("state"):
            qs = qs.filter(_state_q(data["state"], today))
        if data.get("q"):
            text = data["q"]
            qs = qs.filter(Q(number__icontains=text) | Q(party_name__icontains=text) | Q(party_uscc__icontains=text))
    qs = qs.select_related("handler").order_by("-pk")
    total = qs.count()
    last_page = max(1, -(-total // PER_PAGE))
    number = min(page_number(request), last_page, MAX_PAGE)
    offset = (number - 1) * PER_PAGE
    rows = list(qs[offset: offset + PER_PAGE])
    for row in rows:
        _decorate(row, today)
    query = params.urlencode()
    return render(request, "web/cases/list.html", {
        "form": form,
        "rows": rows,
        "total": total,
        "page_number": number,
        "last_page": last_page,
        "has_prev": number > 1,
        "has_next": number < last_page and number < MAX_PAGE,
        "query": f"{query}&" if query else "",
        "filtered": form.is_filtered(),
        "invalid": invalid,
        "may_register": may_register(user),
    }, status=400 if invalid else 200)


# ---------------------------------------------------------------------------- registering


def _render_new(request, form, status=200):
    return render(request, "web/cases/new.html", {
        "form": form,
        "handler_groups": [(label, options) for label, options in form.fields["handler"].choices
                           if isinstance(options, list | tuple)],
    }, status=status)


@require_http_methods(["GET", "POST"])
@media_page
def case_new(request):
    user = request.user
    if not may_register(user):
        return render(request, "web/error.html", {"message": _(
            "您的角色不登记案件：案件由本部门的执法人员、记录仪管理员、采集机构负责人或部门负责人登记。")}, status=403)
    department = user.department
    handlers = officer_choices(department, user.unit_id)
    if request.method == "GET":
        return _render_new(request, CaseForm(handlers=handlers, initial={"handler": user.pk}))
    form = CaseForm(request.POST, handlers=handlers)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return _render_new(request, form, status=400)
    data = form.cleaned_data
    values = CaseValues(
        number=data["number"], party_name=data["party_name"], party_kind=data["party_kind"],
        party_uscc=data.get("party_uscc") or "", title=data.get("title") or "", handler_id=data.get("handler"),
        opened_on=data.get("opened_on"),
    )
    try:
        case = create_case(department, values, actor=user)
    except PermissionDeniedError as exc:
        form.add_error(None, exc.message)
        return _render_new(request, form, status=403)
    except ConflictError as exc:  # the number is another case's of the department
        form.add_error("number", exc.message)
        return _render_new(request, form, status=400)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _render_new(request, form, status=400)
    messages.success(request, _("案件已登记。各阶段的文书可在本页上传。"))
    return redirect("web:case_detail", case_id=case.pk)


# ---------------------------------------------------------------------------- the case's page


def _later_stages(case) -> list[tuple[str, str]]:
    current = STAGE_ORDER.get(case.stage, -1)
    return [(value, label) for value, label in CaseStage.choices if STAGE_ORDER[value] > current]


def _case_activities(user, case) -> list:
    return list(list_activities(user).filter(case=case)[:MAX_ACTIVITIES])


def _document_rows(user, documents) -> list:
    """The documents as their rows show them: a download link when a file is stored; the
    activity linked only when the person may see it."""
    visible = set(list_activities(user).filter(pk__in={d.activity_id for d in documents if d.activity_id})
                  .values_list("pk", flat=True))
    for d in documents:
        d.activity_visible = d.activity_id in visible
    return documents


def _case_recordings(user, case) -> list:
    """The case's recordings the person may view (only those: how many others there are is not
    theirs to know, ACC-3): filed to it by the 案号 written on them (activities.filing), or
    linked to one of its activities."""
    from activities.models import ActivityRecording, RecordingFiling
    from recordings.models import Recording

    of_case = Q(pk__in=RecordingFiling.objects.filter(case=case).values("recording_id")) | Q(
        pk__in=ActivityRecording.objects.filter(activity__case=case).values("recording_id"))
    return list(Recording.objects.restrict(user, "view").filter(of_case).select_related("primary_officer")
                .order_by("start_time", "pk")[:MAX_RECORDINGS])


def case_context(request, case, forms=None) -> dict:
    user = request.user
    forms = forms or {}
    today = timezone.localdate()
    _decorate(case, today)
    can_keep = can_keep_cases(user, case.department)
    activities = _case_activities(user, case)
    documents = _document_rows(user, list(
        CaseDocument.objects.filter(case=case).select_related("stored_object", "activity", "created_by")
        .order_by("doc_date", "created_at", "pk")))
    current = STAGE_ORDER.get(case.stage, 0)
    stages = []
    for value, label in CaseStage.choices:
        order = STAGE_ORDER[value]
        stages.append({
            "value": value, "label": label, "number": order + 1,
            "done": order < current or (case.closed_on is not None and order <= current),
            "current": order == current,
            "documents": [d for d in documents if d.stage == value],
        })
    unstaged = [d for d in documents if d.stage not in STAGE_ORDER]
    findings = list(list_findings(user).filter(Q(case=case) | Q(activity__case=case))
                    .exclude(state=FindingState.RESOLVED)[:100])
    for f in findings:
        f.severity_color = SEVERITY_COLORS.get(f.severity, "secondary")
        f.state_color = STATE_COLORS.get(f.state, "secondary")
    later = _later_stages(case)
    return {
        "case": case,
        "party_is_person": case.party_kind == PartyKind.PERSON,
        "stages": stages,
        "unstaged": unstaged,
        "document_count": len(documents),
        "activities": activities,
        "recordings": _case_recordings(user, case),
        "max_recordings": MAX_RECORDINGS,
        "findings": findings,
        "archive_overdue": case.state == "overdue",
        "can_keep": can_keep,
        "show_stage_form": can_keep and case.closed_on is None and bool(later),
        "show_close_form": can_keep and case.closed_on is None,
        "show_archive_form": can_keep and case.closed_on is not None and case.archived_on is None,
        "document_form": forms.get("document") or DocumentForm(
            activities=activities, initial={"stage": case.stage}),
        "stage_form": forms.get("stage") or StageForm(stages=later, initial={"stage": later[0][0] if later else ""}),
        "close_form": forms.get("close") or CloseForm(initial={"closed_on": today}),
        "archive_form": forms.get("archive") or ArchiveForm(initial={"archived_on": today}),
        "open_document_form": "document" in forms,
    }


def render_case(request, case, *, forms=None, status=200):
    return render(request, "web/cases/detail.html", case_context(request, case, forms), status=status)


@require_GET
@media_page
def case_detail(request, case_id: int):
    return render_case(request, case_or_404(request.user, case_id))


def _status(exc: DomainError) -> int:
    return 403 if isinstance(exc, PermissionDeniedError) else 400


def _back(case, anchor: str = ""):
    url = reverse("web:case_detail", args=[case.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


def _refused(request, case, name: str, form, exc: DomainError):
    """A refusal of the service: its message in the form, the case's page again."""
    if isinstance(exc, NotFoundError):
        raise Http404(exc.message)
    form.add_error(None, exc.message)
    messages.error(request, exc.message)
    return render_case(request, case_or_404(request.user, case.pk), forms={name: form}, status=_status(exc))


def _invalid(request, case, name: str, form):
    messages.error(request, _("请检查标红的字段。"))
    return render_case(request, case, forms={name: form}, status=400)


def _document_kwargs(data: dict) -> dict:
    upload = data.get("file")
    return {
        "doc_type": data["doc_type"], "stage": data.get("stage") or "", "number": data.get("number") or "",
        "doc_date": data.get("doc_date"), "stated_start": data.get("stated_start"),
        "stated_end": data.get("stated_end"), "upload": upload, "filename": upload.name if upload else "",
    }


def _act(request, case, name: str, form, perform, anchor: str):
    """One form of the case's page through its service: ``perform(cleaned_data)`` returns the
    success message; an invalid form or a refusal shows the page again with the form's errors."""
    if not form.is_valid():
        return _invalid(request, case, name, form)
    try:
        message = perform(form.cleaned_data)
    except DomainError as exc:
        return _refused(request, case, name, form, exc)
    messages.success(request, message)
    return _back(case, anchor)


@require_POST
@media_page
def case_document_new(request, case_id: int):
    user = request.user
    case = case_or_404(user, case_id)

    def perform(data):
        add_document(actor=user, case_id=case.pk, activity_id=data.get("activity"), **_document_kwargs(data))
        return _("文书已登记。") if not data.get("file") else _("文书已登记，原件已存入文件库。")

    form = DocumentForm(request.POST, request.FILES, activities=_case_activities(user, case))
    return _act(request, case, "document", form, perform, "stages")


@require_POST
@media_page
def case_stage(request, case_id: int):
    case = case_or_404(request.user, case_id)

    def perform(data):
        changed = advance_case_stage(case.pk, actor=request.user, stage=data["stage"])
        return _("案件已进入“%(stage)s”阶段。") % {"stage": changed.get_stage_display()}

    return _act(request, case, "stage", StageForm(request.POST, stages=_later_stages(case)), perform, "stages")


@require_POST
@media_page
def case_close(request, case_id: int):
    case = case_or_404(request.user, case_id)

    def perform(data):
        closed = close_case(case.pk, actor=request.user, closed_on=data["closed_on"])
        return _("案件已结案，案卷应在 %(due)s 前归档。") % {"due": closed.archive_due.isoformat()}

    return _act(request, case, "close", CloseForm(request.POST), perform, "closing")


@require_POST
@media_page
def case_archive(request, case_id: int):
    case = case_or_404(request.user, case_id)

    def perform(data):
        archive_case(case.pk, actor=request.user, archived_on=data["archived_on"])
        return _("案卷已归档。")

    return _act(request, case, "archive", ArchiveForm(request.POST), perform, "closing")


# ---------------------------------------------------------------------------- a document's original


@require_GET
@media_page
def case_document_download(request, document_id: int):
    """A document's original as a download: 404 when the document is not of a case or activity
    the person may see, has no file (only its particulars were registered), or the vault no
    longer holds it. Served as the type its bytes show, never inline; who downloaded it is in
    the document's custody history."""
    user = request.user
    document = get_document(user, document_id)
    if document is None:
        raise Http404(_("文书不存在或您无权查看。"))
    stored = document.stored_object
    if stored is None:
        raise Http404(_("该文书仅登记了信息，没有上传原件。"))
    try:
        ensure_present(stored)
    except ObjectMissingError as exc:
        raise Http404(exc.message) from exc
    head = b"".join(vault_for(stored).open_range(stored.key, 0, APPLICATION_HEAD))
    content_type, extension = application_type(head) or ("application/octet-stream", "bin")
    filename = f"{document.get_doc_type_display()}-{document.pk}.{extension}"
    with transaction.atomic():
        record_event(EventCode.DOCUMENT_DOWNLOADED, actor=user, subject=document,
                     also=[x for x in (document.case, document.activity, stored) if x is not None],
                     details={"doc_type": document.doc_type, "doc_number": document.number,
                              "sha256": stored.sha256})
    return serve_stored_object(request, stored, content_type=content_type, filename=filename, attachment=True)


# ---------------------------------------------------------------------------- on an activity's page


def activity_documents_context(user, activity, form=None) -> dict:
    """What the activity page's 文书 card shows (web/templates/web/activities/_documents.html):
    the activity's documents, the form (to who may change the activity), and whether its case's
    page may be linked."""
    documents = list(CaseDocument.objects.filter(activity=activity).select_related("stored_object", "created_by")
                     .order_by("doc_date", "created_at", "pk"))
    rules = case_q(user)
    case_link = bool(activity.case_id and rules is not None
                     and Case.objects.filter(rules, pk=activity.case_id).exists())
    initial = {"stage": activity.case.stage} if activity.case_id else {}
    return {
        "documents": documents,
        "can_add_document": can_edit_activity(user, activity),
        "document_form": form or DocumentForm(initial=initial),
        "case_link": case_link,
    }


@require_POST
@media_page
def activity_document_new(request, activity_id: int):
    user = request.user
    activity = activity_or_404(user, activity_id)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return render_detail(request, activity, forms={"document": form}, status=400)
    data = form.cleaned_data
    try:
        add_document(actor=user, activity_id=activity.pk, **_document_kwargs(data))
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        form.add_error(None, exc.message)
        messages.error(request, exc.message)
        return render_detail(request, activity, forms={"document": form}, status=_status(exc))
    messages.success(request, _("文书已登记，合规检查已重新进行。"))
    url = reverse("web:activity_detail", args=[activity.pk])
    return redirect(f"{url}#documents")
