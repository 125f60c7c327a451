"""执法活动 pages (REC-3, REC-4, REC-9, SUP-2): the list with its filters and the 需要处理 tab, the
form that registers an activity (with a live view of what its matter asks for), the activity's
page (drawn timeline, recordings, suggestions, findings, interruptions) and the open findings of
a unit by officer and by type.

Every read goes through ``activities.selectors`` (an activity one may not see is a 404, never a
403); every change through the services (web.views.activities_actions), whose refusal is shown as
its Chinese message. Recordings are listed only as ``Recording.objects.restrict`` allows.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from access.approvals import may_request
from activities.catalog import effective_catalog
from activities.catalogs import CONTENT_POINTS
from activities.choices import (
    NEEDS_CONSENT,
    CatalogSource,
    FindingState,
    InterruptionForm,
    MatterLevel,
    RecordMethod,
    ReportStatus,
    Severity,
)
from activities.models import (
    Activity,
    ActivityRecording,
    ComplianceFinding,
    Interruption,
    NonRecordingReport,
)
from activities.rules import can_edit_activity, can_record_activity
from activities.selectors import (
    activity_recordings,
    get_activity,
    list_activities,
    list_cases,
    suggest_recordings,
)
from activities.services import ActivityValues, create_activity
from core.bounds import parse_id, period_q
from core.errors import DomainError, NotFoundError
from orgs.choices import Role
from orgs.models import Person, Unit
from recordings.choices import MarkerKind
from recordings.models import Marker, Recording
from web.views.activities_chart import build_chart, clock, duration_text
from web.views.activities_forms import (
    AcceptForm,
    ActivityFilterForm,
    ActivityForm,
    DecisionForm,
    ExplainForm,
    InterruptionEntryForm,
    LinkForm,
    MarkerForm,
    NonRecordingForm,
)
from web.views.common import media_page, page_number

PER_PAGE = 25
MAX_PAGE = 400
MAX_CASES = 200
MAX_FILTER_OFFICERS = 500
ENFORCEMENT_ROLES = (Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD, Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE)
SUMMARY_ROLES = (Role.UNIT_HEAD, Role.CUSTODIAN, Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE)

LEVEL_COLORS = {MatterLevel.FULL_PROCESS: "red", MatterLevel.MANDATORY: "orange", MatterLevel.OPTIONAL: "secondary"}
SEVERITY_COLORS = {Severity.HIGH: "red", Severity.MEDIUM: "orange", Severity.LOW: "azure"}
STATE_COLORS = {FindingState.OPEN: "red", FindingState.EXPLAINED: "orange", FindingState.ACCEPTED: "green",
                FindingState.RESOLVED: "secondary"}
STATE_ORDER = {FindingState.OPEN: 0, FindingState.EXPLAINED: 1, FindingState.ACCEPTED: 2, FindingState.RESOLVED: 3}
SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
REPORT_COLORS = {ReportStatus.REPORTED: "orange", ReportStatus.ACKNOWLEDGED: "blue", ReportStatus.APPROVED: "green",
                 ReportStatus.REJECTED: "red"}
POINT_NAMES = {p.code: p.name for p in CONTENT_POINTS}


def level_badge(level: str) -> dict:
    return {"label": MatterLevel(level).label if level in MatterLevel.values else level,
            "color": LEVEL_COLORS.get(level, "secondary")}


def activity_or_404(user, pk: int) -> Activity:
    activity = get_activity(user, pk)
    if activity is None:
        raise Http404(_("执法活动不存在或您无权查看。"))
    return activity


# ---------------------------------------------------------------------------- the list


def _count(model, state=None, **where):
    rows = model.objects.filter(activity=OuterRef("pk"), **where)
    if state is not None:
        rows = rows.filter(state=state)
    return Coalesce(Subquery(rows.order_by().values("activity").annotate(n=Count("pk")).values("n"),
                             output_field=IntegerField()), Value(0))


def _open_ids(state=FindingState.OPEN, **more):
    return ComplianceFinding.objects.filter(state=state, activity__isnull=False, **more).values("activity_id")


def attention_q(user) -> Q:
    """需要处理: one's own activities (an officer of it, or who registered it) with open findings;
    for a unit head also the unit's findings explained and waiting for acceptance."""
    mine = Activity.objects.filter(Q(officers=user) | Q(created_by=user)).values("pk")
    q = Q(pk__in=mine) & Q(pk__in=_open_ids())
    if user.unit_id and user.has_role(Role.UNIT_HEAD):
        q |= Q(unit_id=user.unit_id) & Q(pk__in=_open_ids(FindingState.EXPLAINED))
    return q


def _filter_officers(user) -> list:
    through = Activity.officers.through
    ids = through.objects.filter(activity_id__in=list_activities(user).values("pk")).values("person_id")
    return list(Person.objects.filter(pk__in=ids).order_by("badge_number", "pk")[:MAX_FILTER_OFFICERS])


def _filtered(qs, data: dict):
    if data.get("level"):
        qs = qs.filter(required_level=data["level"])
    if data.get("findings") == "open":
        qs = qs.filter(pk__in=_open_ids())
    elif data.get("findings") == "none":
        qs = qs.exclude(pk__in=_open_ids())
    if data.get("code"):
        qs = qs.filter(pk__in=_open_ids(code=data["code"]))
    if data.get("officer"):
        qs = qs.filter(pk__in=Activity.officers.through.objects.filter(person_id=data["officer"]).values("activity_id"))
    if data.get("date_from") or data.get("date_to"):
        qs = qs.filter(period_q("starts_at", data.get("date_from"), data.get("date_to")))
    return qs


def clock_day(value):
    return timezone.localtime(value).date()


def may_see_summary(user) -> bool:
    return user.has_role(*SUMMARY_ROLES)


@require_GET
@media_page
def activity_list(request):
    user = request.user
    tab = request.GET.get("tab", "")
    tab = tab if tab in ("all", "attention") else "all"
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("tab", None)
    form = ActivityFilterForm(params or None, officers=_filter_officers(user))
    invalid = form.is_bound and not form.is_valid()
    visible = list_activities(user)
    attention = visible.filter(attention_q(user))
    if invalid:
        qs = Activity.objects.none()
    else:
        qs = attention if tab == "attention" else visible
        if form.is_bound:
            qs = _filtered(qs, form.cleaned_data)
    qs = qs.order_by(F("starts_at").desc(nulls_last=True), "-pk")
    total = qs.count()
    last_page = max(1, -(-total // PER_PAGE))
    number = min(page_number(request), last_page, MAX_PAGE)
    offset = (number - 1) * PER_PAGE
    rows = list(
        # the recordings one may view: how many others are linked is not theirs to know (ACC-3)
        qs.annotate(link_count=_count(ActivityRecording, recording__in=Recording.objects.restrict(
                        request.user, "view").values("pk")), open_count=_count(ComplianceFinding, FindingState.OPEN),
                    explained_count=_count(ComplianceFinding, FindingState.EXPLAINED))
        .prefetch_related(Prefetch("officers", queryset=Person.objects.order_by("badge_number", "pk")))
        [offset: offset + PER_PAGE]
    )
    for row in rows:
        row.level = level_badge(row.required_level)
        row.officer_names = "、".join(p.display_name for p in row.officers.all())
        row.same_day = bool(row.starts_at and row.ends_at and clock_day(row.starts_at) == clock_day(row.ends_at))
    query = params.urlencode()
    return render(request, "web/activities/list.html", {
        "form": form,
        "rows": rows,
        "tab": tab,
        "tabs": [("all", _("全部活动")), ("attention", _("需要处理"))],
        "attention_count": attention.count(),
        "total": total,
        "page_number": number,
        "last_page": last_page,
        "has_prev": number > 1,
        "has_next": number < last_page and number < MAX_PAGE,
        "query": f"tab={tab}&{query}&" if query else f"tab={tab}&",
        "tab_query": f"&{query}" if query else "",
        "filtered": form.is_filtered(),
        "invalid": invalid,
        "may_register": bool(registrable_units(user)),
        "may_see_summary": may_see_summary(user),
    }, status=400 if invalid else 200)


# ---------------------------------------------------------------------------- registering


def registrable_units(user) -> list[Unit]:
    """The units ``user`` may register activities of (activities.rules.can_record_activity)."""
    q = Q(pk=user.unit_id) if user.unit_id else Q(pk__in=[])
    if user.department_id:
        q |= Q(department_id=user.department_id)
    units = Unit.objects.filter(q).select_related("department").order_by("code", "pk")
    found = [u for u in units if can_record_activity(user, u)]
    found.sort(key=lambda u: u.pk != user.unit_id)  # one's own unit first
    return found


def matter_choices(department) -> list:
    """The matters binding ``department``, grouped by catalog, each with how it must be recorded."""
    groups: dict[str, list] = {}
    for e in effective_catalog(department):
        source = CatalogSource(e.matter.source).label if e.matter.source in CatalogSource.values else e.matter.source
        level = MatterLevel(e.level).label
        groups.setdefault(str(source), []).append((e.matter.pk, f"{e.matter.name}（{level}）"))
    return list(groups.items())


def officer_choices(department, own_unit_id=None) -> list:
    """The department's enforcement people, grouped by unit (one's own unit first)."""
    people = (Person.objects.filter(department=department, is_active=True,
                                    role_assignments__role__in=ENFORCEMENT_ROLES)
              .distinct().select_related("unit").order_by("unit__code", "badge_number", "pk"))
    groups: dict[tuple, list] = {}
    for p in people:
        key = (p.unit_id != own_unit_id, p.unit.code if p.unit_id else "", p.unit.name if p.unit_id else _("部门机关"))
        label = f"{p.display_name}（{p.badge_number}）" if p.badge_number else p.display_name
        groups.setdefault(key, []).append((p.pk, label))
    return [(key[2], items) for key, items in sorted(groups.items())]


def _form_for(user, units, data=None):
    selected = None
    if data is not None:
        pk = parse_id(data.get("unit", ""))
        selected = next((u for u in units if u.pk == pk), None)
    selected = selected or units[0]
    department = selected.department
    form = ActivityForm(
        data, units=units, matters=matter_choices(department),
        officers=officer_choices(department, user.unit_id),
        cases=list(list_cases(user).filter(department=department)[:MAX_CASES]),
        initial={"unit": selected.pk, "officers": [user.pk]},
    )
    return form, selected


def _render_new(request, form, unit, status=200):
    matter_id = parse_id(form.data.get("matter", "")) if form.is_bound else None
    return render(request, "web/activities/new.html", {
        "form": form,
        "selected_officers": {str(v) for v in (form["officers"].value() or [])},
        "matter_groups": [(label, options) for label, options in form.fields["matter"].choices
                          if isinstance(options, list | tuple)],
        "matter": matter_info(unit.department, matter_id),
    }, status=status)


@require_http_methods(["GET", "POST"])
@media_page
def activity_new(request):
    user = request.user
    units = registrable_units(user)
    if not units:
        return render(request, "web/error.html",
                      {"message": _("您的角色不登记执法活动：登记由执法人员、记录仪管理员、采集机构负责人或部门负责人进行。")},
                      status=403)
    if request.method == "GET":
        form, unit = _form_for(user, units)
        return _render_new(request, form, unit)
    form, unit = _form_for(user, units, request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return _render_new(request, form, unit, status=400)
    data = form.cleaned_data
    values = ActivityValues(
        matter_id=data["matter"], title=data["title"], officer_ids=tuple(data["officers"]),
        case_id=data.get("case"), place=data.get("place") or "", starts_at=data["starts_at"],
        ends_at=data.get("ends_at"), party_name=data.get("party_name") or "",
    )
    try:
        activity = create_activity(unit, values, actor=user)
    except NotFoundError as exc:  # the matter no longer binds the department
        form.add_error("matter", exc.message)
        return _render_new(request, form, unit, status=400)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _render_new(request, form, unit, status=exc.status if 400 <= exc.status < 500 else 400)
    messages.success(request, _("执法活动已登记。上传的记录可在本页关联，平台会按时间和执法人员推荐。"))
    return redirect("web:activity_detail", activity_id=activity.pk)


def matter_info(department, matter_id) -> dict | None:
    """What a matter asks for, as it binds the department (the form's live hint)."""
    if matter_id is None:
        return None
    e = next((e for e in effective_catalog(department) if e.matter.pk == matter_id), None)
    if e is None:
        return None
    return {
        "matter": e.matter, "level": level_badge(e.level), "tightened": e.tightened is not None,
        "points": [POINT_NAMES.get(p, p) for p in e.content_points],
        "methods": [RecordMethod(m).label for m in e.methods if m in RecordMethod.values],
    }


@require_GET
@media_page
def activity_matter(request):
    """The live hint under the matter select (htmx): always 200 so htmx swaps it."""
    units = registrable_units(request.user)
    if not units:
        raise Http404
    pk = parse_id(request.GET.get("unit", ""))
    unit = next((u for u in units if u.pk == pk), units[0])
    info = matter_info(unit.department, parse_id(request.GET.get("matter", "")))
    return render(request, "web/activities/_matter.html", {"matter": info})


# ---------------------------------------------------------------------------- the activity's page


def _officer_of(recording) -> str:
    if recording.primary_officer_id:
        return recording.primary_officer.display_name
    first = next(iter(recording.officers.all()), None)
    return first.display_name if first else _("执法人员未知")


def _marker_label(m: Marker) -> str:
    if m.kind == MarkerKind.CONTENT_POINT:
        return _("内容要点：%(p)s") % {"p": POINT_NAMES.get(m.content_point, m.content_point)}
    if m.kind == MarkerKind.RESUME_STATEMENT:
        return _("恢复记录时说明中断原因：%(n)s") % {"n": m.note} if m.note else _("恢复记录时说明中断原因")
    return _("备注：%(n)s") % {"n": m.note}


def _findings(user, activity):
    """The activity's findings: whoever sees the activity (the page's own check) sees them all."""
    rows = list(ComplianceFinding.objects.filter(activity=activity).select_related("explained_by", "accepted_by"))
    rows.sort(key=lambda f: (STATE_ORDER.get(f.state, 9), SEVERITY_ORDER.get(f.severity, 9), -f.pk))
    for f in rows:
        f.activity = activity
        f.severity_color = SEVERITY_COLORS.get(f.severity, "secondary")
        f.state_color = STATE_COLORS.get(f.state, "secondary")
    return rows


def _visible_recordings(user, activity) -> list:
    recordings = list(activity_recordings(user, activity).select_related("primary_officer")
                      .prefetch_related("officers"))
    for rec in recordings:
        rec.officer_name = _officer_of(rec)
    return recordings


def _resume_choices(markers) -> list:
    return [(m.pk, _("%(file)s 第 %(s)s 秒（%(at)s）%(note)s") % {
        "file": m.recording.original_filename, "s": f"{m.offset_s:g}",
        "at": clock(m.recording.start_time + timedelta(seconds=m.offset_s)) if m.recording.start_time else "—",
        "note": m.note}) for m in markers if m.kind == MarkerKind.RESUME_STATEMENT]


def _point_choices(activity) -> list:
    return [(p, POINT_NAMES.get(p, p)) for p in activity.required_points] or [(p.code, p.name) for p in CONTENT_POINTS]


def form_choices(user, activity) -> dict:
    """The choices the page's forms offer (what a POST is validated against)."""
    recordings = _visible_recordings(user, activity)
    markers = list(Marker.objects.filter(recording__in=[r.pk for r in recordings], kind=MarkerKind.RESUME_STATEMENT)
                   .select_related("recording"))
    return {
        "markers": _resume_choices(markers),
        "officers": list(activity.officers.order_by("badge_number", "pk")),
        "recordings": [(r.pk, f"{r.original_filename}（{r.officer_name}）") for r in recordings],
        "points": _point_choices(activity),
    }


def detail_context(request, activity, forms=None) -> dict:
    from activities.findings import activity_facts
    from web.views.cases import activity_documents_context  # it imports this module

    user = request.user
    forms = forms or {}
    can_edit = can_edit_activity(user, activity)
    is_unit_head = bool(user.unit_id == activity.unit_id and user.has_role(Role.UNIT_HEAD))
    is_department_head = bool(user.department_id == activity.department_id and user.has_role(Role.DEPARTMENT_HEAD))
    facts = activity_facts([activity])[activity.pk]
    officers = list(activity.officers.order_by("badge_number", "pk"))
    recordings = _visible_recordings(user, activity)
    links = {link.recording_id: link for link in ActivityRecording.objects.filter(activity=activity)
             .select_related("linked_by")}
    for rec in recordings:
        rec.link = links.get(rec.pk)
        rec.length = duration_text((rec.end_time - rec.start_time).total_seconds()) \
            if rec.start_time and rec.end_time and rec.end_time > rec.start_time else "—"
    markers = list(Marker.objects.filter(recording__in=[r.pk for r in recordings])
                   .select_related("recording").order_by("recording_id", "offset_s", "pk"))
    by_recording: dict[int, list] = {}
    for m in markers:
        m.label = _marker_label(m)
        by_recording.setdefault(m.recording_id, []).append((m.offset_s, m.kind, m.label))
    interruptions = list(Interruption.objects.filter(activity=activity)
                         .select_related("marker__recording", "acknowledged_by", "created_by")
                         .prefetch_related("signers").order_by("starts_at", "pk"))
    chart = build_chart(stated_start=facts.stated_start, stated_end=facts.stated_end,
                        recordings=[(r, r.officer_name) for r in recordings], interruptions=interruptions,
                        markers=by_recording, gap_tolerance=facts.gap_tolerance)
    suggestions = [{
        "recording": s.recording, "officer_match": s.officer_match, "overlap_s": s.overlap_s,
        "officer_name": _officer_of(s.recording), "overlap_text": duration_text(s.overlap_s) if s.overlap_s > 0 else "",
    } for s in (suggest_recordings(user, activity) if can_edit else [])]
    resume = [m for m in markers if m.kind == MarkerKind.RESUME_STATEMENT]
    resume_choices = _resume_choices(resume)
    report = NonRecordingReport.objects.filter(activity=activity).select_related(
        "acknowledged_by", "decided_by", "created_by").first()
    findings = _findings(user, activity)
    explain_forms = forms.get("explain", {})
    for f in findings:
        f.can_explain = can_edit and f.state in (FindingState.OPEN, FindingState.EXPLAINED)
        f.can_accept = bool(is_unit_head and f.unit_id == user.unit_id and f.state == FindingState.EXPLAINED)
        f.explain_form = explain_forms.get(f.pk) or ExplainForm(
            initial={"text": f.explanation}, prefix=f"f{f.pk}")
        f.accept_form = forms.get("accept", {}).get(f.pk) or AcceptForm(prefix=f"a{f.pk}")
    active = [f for f in findings if f.state != FindingState.RESOLVED]
    rec_choices = [(r.pk, f"{r.original_filename}（{r.officer_name}）") for r in recordings]
    point_choices = _point_choices(activity)
    marked_points = {m.content_point for m in markers if m.kind == MarkerKind.CONTENT_POINT}
    total_links = len(links)
    return {
        "activity": activity,
        "level": level_badge(activity.required_level),
        "officers": officers,
        "facts": facts,
        "documents_state_times": (facts.stated_start, facts.stated_end) != (activity.starts_at, activity.ends_at),
        "recordings": recordings,
        # what the person may view: how many others are linked is not theirs to know (ACC-3)
        "visible_links": len(recordings),
        "chart": chart,
        "suggestions": suggestions,
        "findings": findings,
        "active_findings": active,
        "resolved_findings": [f for f in findings if f.state == FindingState.RESOLVED],
        "open_count": sum(1 for f in findings if f.state == FindingState.OPEN),
        "interruptions": interruptions,
        "report": report,
        "report_color": REPORT_COLORS.get(report.status, "secondary") if report else "",
        "report_needs_consent": bool(report and report.reason in NEEDS_CONSENT),
        "required_points": [{"name": POINT_NAMES.get(p, p), "marked": p in marked_points}
                            for p in activity.required_points],
        "markers": markers,
        "can_edit": can_edit,
        # "all recordings of this activity" as an access request's scope (shown whether or not
        # any are linked that the person may not view: that is not theirs to know, ACC-3)
        "may_request_access": may_request(user),
        "is_unit_head": is_unit_head,
        "is_department_head": is_department_head,
        "resume_markers": resume,
        "show_report_form": can_edit and total_links == 0 and report is None,
        "link_form": forms.get("link") or LinkForm(),
        "unlink_errors": forms.get("unlink_errors", {}),
        "voice_form": forms.get("voice") or InterruptionEntryForm(
            prefix="voice", initial={"form": InterruptionForm.VOICE}, markers=resume_choices, officers=officers),
        "written_form": forms.get("written") or InterruptionEntryForm(
            prefix="written", initial={"form": InterruptionForm.WRITTEN}, markers=resume_choices, officers=officers),
        "open_written": "written" in forms,
        "marker_form": forms.get("marker") or MarkerForm(recordings=rec_choices, points=point_choices,
                                                         initial={"kind": MarkerKind.RESUME_STATEMENT}),
        "report_form": forms.get("report") or NonRecordingForm(),
        "decision_form": forms.get("decision") or DecisionForm(),
        # its documents (文书) and their form, and the link to its case (web.views.cases)
        **activity_documents_context(user, activity, forms.get("document")),
    }


def render_detail(request, activity, *, forms=None, status=200):
    return render(request, "web/activities/detail.html", detail_context(request, activity, forms), status=status)


@require_GET
@media_page
def activity_detail(request, activity_id: int):
    return render_detail(request, activity_or_404(request.user, activity_id))


# ---------------------------------------------------------------------------- open findings by officer and type


@require_GET
@media_page
def activity_findings(request):
    """The open findings of what one keeps or supervises: per officer × type, each count linking
    to the activities behind it."""
    from activities.choices import FindingCode
    from activities.selectors import list_findings

    user = request.user
    if not may_see_summary(user):
        return render(request, "web/error.html", {"message": _(
            "合规提示汇总供采集机构负责人、记录仪管理员、部门负责人和法制机构查看；"
            "您本人需要处理的活动在“执法活动”的“需要处理”中。")}, status=403)
    findings = list_findings(user).filter(activity__isnull=False)
    open_rows = findings.filter(state=FindingState.OPEN)
    by_code = dict(open_rows.order_by().values_list("code").annotate(n=Count("pk")))
    explained = findings.filter(state=FindingState.EXPLAINED).count()
    pairs = (open_rows.order_by().values("activity__officers", "code").annotate(n=Count("pk", distinct=True)))
    cells: dict[int, dict[str, int]] = {}
    for row in pairs:
        if row["activity__officers"] is not None:
            cells.setdefault(row["activity__officers"], {})[row["code"]] = row["n"]
    per_officer = dict(open_rows.order_by().values_list("activity__officers").annotate(n=Count("pk", distinct=True)))
    codes = [c for c in FindingCode.values if c in by_code]
    people = {p.pk: p for p in Person.objects.filter(pk__in=list(cells)).select_related("unit")}
    table = []
    for pk, counts in cells.items():
        person = people.get(pk)
        if person is None:
            continue
        table.append({"person": person, "total": per_officer.get(pk, 0),
                      "cells": [{"code": c, "n": counts.get(c, 0)} for c in codes]})
    table.sort(key=lambda r: (-r["total"], r["person"].badge_number, r["person"].pk))
    return render(request, "web/activities/findings.html", {
        "codes": [{"code": c, "label": FindingCode(c).label, "n": by_code[c]} for c in codes],
        "table": table,
        "total": sum(by_code.values()),
        "explained": explained,
    })
