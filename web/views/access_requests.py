"""Access requests (调阅申请, ACC-1): the list, the form with its live approval route, the detail
page with approve / reject / withdraw / revoke, and a party's written application (ACC-4) to
download.

Every read goes through ``access.requests`` (a request one may not see is a 404), every change
through ``access.approvals`` (a refusal is its Chinese message with the error's status, never a
500). Nothing here says whether a record exists: the requester sees the records of a request only
once it is approved; the form is pre-filled from a record only when the person may view it.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access import approvals
from access.choices import AccessAction, RequestKind, RequestStatus
from access.models import AccessRequestItem
from access.requests import approver_q, display_status, get_request, pending_for, visible_requests
from core.bounds import parse_id
from core.errors import DomainError, NotFoundError
from custody.choices import EventCode
from custody.models import Event
from custody.services import record_event
from orgs.choices import SEPARATED_ADMIN_ROLES, Role
from orgs.models import Unit
from recordings.models import Recording
from storage.backends import get_vault, vault_for
from storage.backends.base import Area, ObjectMissingError
from storage.services import register_stored_object
from storage.serving import ensure_present, serve_stored_object
from web.forms.access_requests import (
    APPLICATION_HEAD,
    FORM_KINDS,
    OUTSIDE_KINDS,
    AccessRequestForm,
    DecisionForm,
    application_type,
    unit_choices,
)
from web.views.common import page, page_number

PER_PAGE = 25
MAX_PAGE = 400

STATUS_LABELS = {
    RequestStatus.PENDING: gettext_lazy("待审批"),
    RequestStatus.APPROVED: gettext_lazy("已批准"),
    RequestStatus.REJECTED: gettext_lazy("已驳回"),
    RequestStatus.WITHDRAWN: gettext_lazy("已撤回"),
    RequestStatus.REVOKED: gettext_lazy("已撤销"),
    "expired": gettext_lazy("已过期"),
}
STATUS_COLORS = {
    RequestStatus.PENDING: "orange",
    RequestStatus.APPROVED: "green",
    RequestStatus.REJECTED: "red",
    RequestStatus.WITHDRAWN: "secondary",
    RequestStatus.REVOKED: "purple",
    "expired": "secondary",
}
TIMELINE_EVENTS = (
    EventCode.ACCESS_REQUESTED,
    EventCode.ACCESS_APPROVED,
    EventCode.ACCESS_REJECTED,
    EventCode.ACCESS_WITHDRAWN,
    EventCode.ACCESS_REVOKED,
)
TIMELINE_ICONS = {
    EventCode.ACCESS_REQUESTED: ("ti-send", "blue"),
    EventCode.ACCESS_APPROVED: ("ti-check", "green"),
    EventCode.ACCESS_REJECTED: ("ti-x", "red"),
    EventCode.ACCESS_WITHDRAWN: ("ti-arrow-back-up", "secondary"),
    EventCode.ACCESS_REVOKED: ("ti-ban", "purple"),
}


def sees_all(user) -> bool:
    """The audit administrator and the legal office read every request (access.requests)."""
    return user.has_role(Role.AUDIT_ADMIN, Role.LEGAL_OFFICE)


def may_approve_any(user) -> bool:
    """Whether ``user`` holds an office some request's step may name (a unit or department head)."""
    if not user.is_authenticated or user.has_role(*SEPARATED_ADMIN_ROLES):
        return False
    return approver_q(user) is not None


def decorate(request_obj, now=None) -> None:
    """What a row shows: its status as read now, and who approves it."""
    status = display_status(request_obj, now)
    request_obj.shown_status = status
    request_obj.status_label = STATUS_LABELS.get(status, status)
    request_obj.status_color = STATUS_COLORS.get(status, "secondary")
    where = request_obj.approver_unit if request_obj.approver_unit_id else request_obj.approver_department
    request_obj.approver_label = f"{request_obj.get_approver_role_display()}（{where.name}）"


def _tabs(user) -> list[tuple[str, str]]:
    tabs = []
    if approvals.may_request(user) or visible_requests(user).filter(requester_id=user.pk).exists():
        tabs.append(("mine", _("我的申请")))
    if may_approve_any(user):
        tabs.append(("pending", _("待我审批")))
        tabs.append(("decided", _("审批记录")))
    if sees_all(user):
        tabs.append(("all", _("全部")))
    return tabs


def _tab_rows(user, tab: str):
    if tab == "mine":
        return visible_requests(user).filter(requester_id=user.pk)
    if tab == "pending":
        return pending_for(user).select_related("approver_unit", "approver_department").order_by("-pk")
    if tab == "decided":
        # everything in one's approval scope that is not waiting for one's decision (decided,
        # withdrawn, or left pending past its window)
        return (visible_requests(user).filter(approver_q(user)).exclude(requester_id=user.pk)
                .exclude(status=RequestStatus.PENDING, valid_until__gt=timezone.now()))
    return visible_requests(user)


@require_GET
@page
def access_request_list(request):
    user = request.user
    tabs = _tabs(user)
    if not tabs:
        return render(request, "web/error.html",
                      {"message": _("您的角色不使用调阅申请：管理员账号不申请、不审批调阅执法音像记录。")}, status=403)
    names = [name for name, _label in tabs]
    tab = request.GET.get("tab", "")
    if tab not in names:
        # an approver with something waiting starts there; everyone else at their own requests
        tab = "pending" if "pending" in names and pending_for(user).exists() else names[0]
    qs = _tab_rows(user, tab).select_related("requester__unit", "requester__department")
    total = qs.count()
    last_page = max(1, -(-total // PER_PAGE))
    number = min(page_number(request), last_page, MAX_PAGE)
    offset = (number - 1) * PER_PAGE
    rows = list(qs[offset : offset + PER_PAGE])
    now = timezone.now()
    for row in rows:
        decorate(row, now)
    return render(request, "web/access/requests/list.html", {
        "tabs": tabs,
        "tab": tab,
        "rows": rows,
        "total": total,
        "page_number": number,
        "last_page": last_page,
        "has_prev": number > 1,
        "has_next": number < last_page and number < MAX_PAGE,
        "query": f"tab={tab}&",
        "pending_count": pending_for(user).count() if "pending" in names else 0,
        "may_request": approvals.may_request(user),
    })


def _prefill(user, raw: str, raw_activity: str = "") -> dict:
    """Initial values from ``?recording=<id>``: the id always (it is what the person typed);
    the department and unit only when the person may view that record (nothing else leaks).
    From ``?activity=<id>`` (the activity's page): that activity's department and unit, when the
    person may see the activity."""
    initial: dict = {}
    if user.department_id:
        initial["department"] = user.department_id
    elif user.unit_id:
        initial["department"] = user.unit.department_id
    activity_pk = parse_id(raw_activity) if raw_activity else None
    if activity_pk is not None:
        from activities.selectors import get_activity

        activity = get_activity(user, activity_pk)
        if activity is not None:
            initial.update(activity=activity.pk, department=activity.department_id, unit=activity.unit_id)
        return initial
    pk = parse_id(raw) if raw else None
    if pk is None:
        return initial
    initial["recording_ids"] = str(pk)
    seen = Recording.objects.restrict(user, AccessAction.VIEW).filter(pk=pk).values("department_id", "unit_id").first()
    if seen is not None:
        initial["department"] = seen["department_id"]
        initial["unit"] = seen["unit_id"]
    return initial


def _plan(user, form: AccessRequestForm) -> dict:
    """The approval route for what the form holds so far: the plan, or why there is none yet."""
    data = form.data if form.is_bound else form.initial
    department = form.departments.get(form.selected_department_id())
    if department is None:
        return {"hint": _("选择记录所属部门后，这里显示由谁审批、依据哪一条规定。")}
    unit_id = parse_id(data.get("unit") or "")
    unit = Unit.objects.filter(pk=unit_id, department=department).first() if unit_id else None
    kind = data.get("kind") or RequestKind.INTERNAL
    if kind not in FORM_KINDS:
        kind = RequestKind.INTERNAL
    if form.is_bound:
        actions = [a for a in form.data.getlist("actions") if a in AccessAction.values]
    else:
        actions = list(form.fields["actions"].initial)
    if kind == RequestKind.INTERNAL and not actions:
        actions = [AccessAction.VIEW]
    confidential = (form.data.get("include_confidential") in ("on", "true", "1")) if form.is_bound else False
    try:
        plan = approvals.plan_request(user, kind=kind, department=department, unit=unit, actions=actions,
                                      include_confidential=confidential)
    except DomainError as exc:
        return {"hint": exc.message}
    where = plan.approver_unit if plan.approver_unit is not None else plan.approver_department
    return {"plan": plan, "approver_office": plan.step.label, "approver_where": where.name,
            "article": plan.article, "profile_name": plan.profile.name}


@require_http_methods(["GET", "POST"])
@page
def access_request_new(request):
    user = request.user
    if not approvals.may_request(user):
        return render(request, "web/error.html",
                      {"message": _("您的角色不能申请调阅执法音像记录。")}, status=403)
    if request.method == "GET":
        form = AccessRequestForm(initial=_prefill(user, request.GET.get("recording", ""),
                                                  request.GET.get("activity", "")))
        return _render_form(request, form)
    form = AccessRequestForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return _render_form(request, form, status=400)
    kwargs = form.service_kwargs()
    upload = form.application_upload()
    try:
        if upload is None:
            created = approvals.create_request(user, **kwargs)
        else:
            created = _create_with_application(user, kwargs, upload)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _render_form(request, form, status=exc.status if 400 <= exc.status < 500 else 400)
    messages.success(request, _("申请已提交，等待审批。"))
    return redirect("web:access_request_detail", pk=created.pk)


def _create_with_application(user, kwargs: dict, upload):
    """A party's copy (ACC-4): the written application goes into the vault as an original, then
    the request names it.

    What can be refused without storing is checked first (the form; the route, as the service
    will compute it), so a refusal rarely comes after the write. The catalogue row and its
    custody event are in the request's transaction: when the service still refuses (the last
    checks race with other changes), they roll back, and the bytes stay in the write-once vault
    uncatalogued, since nothing there is ever deleted; the same bytes sent again are catalogued
    then (the vault is content-addressed). The same bytes as an existing original (a record's
    photo sent as the application) reuse that object.
    """
    approvals.plan_request(user, kind=kwargs["kind"], department=kwargs["department"], unit=kwargs["unit"],
                           actions=kwargs["actions"], include_confidential=kwargs["include_confidential"])
    upload.seek(0)
    result = get_vault().write(upload.chunks(), area=Area.ORIGINAL)
    with transaction.atomic():
        stored = register_stored_object(result, area=Area.ORIGINAL, actor=user)
        return approvals.create_request(user, **kwargs, party_application=stored)


def _scope_activity(user, form):
    """The activity the form names as its scope, when the person may see it (else none)."""
    from activities.selectors import get_activity

    raw = form.data.get("activity") if form.is_bound else form.initial.get("activity")
    pk = parse_id(str(raw)) if raw else None
    return get_activity(user, pk) if pk is not None else None


def _render_form(request, form, status=200):
    return render(request, "web/access/requests/new.html", {
        "form": form,
        "scope_activity": _scope_activity(request.user, form),
        "route": _plan(request.user, form),
        "max_records": approvals.MAX_RECORDS,
        "max_days": approvals.MAX_VALID_DAYS,
    }, status=status)


@require_GET
@page
def access_request_route(request):
    """The live 审批路径 under the form (htmx): a partial, always 200 so htmx swaps it."""
    if not approvals.may_request(request.user):
        raise Http404
    form = AccessRequestForm(request.GET)
    return render(request, "web/access/requests/_route.html", {"route": _plan(request.user, form)})


@require_GET
@page
def access_request_units(request):
    """The unit options of a department (htmx, when the department changes)."""
    if not approvals.may_request(request.user):
        raise Http404
    department = parse_id(request.GET.get("department", ""))
    return render(request, "web/access/requests/_unit_options.html",
                  {"choices": unit_choices(department), "selected": ""})


def _items_visible(user, req) -> bool:
    """Who reads a request's list of records: its approvers, the audit administrator and the
    legal office; the requester only once it was approved (before that, nothing about which of
    the typed ids exist)."""
    if sees_all(user) or approvals.can_approve(user, req):
        return True
    return req.requester_id == user.pk and req.decided_at is not None and req.status in (
        RequestStatus.APPROVED, RequestStatus.REVOKED)


def _timeline(req) -> list[dict]:
    events = Event.objects.filter(subject_type="accessrequest", subject_id=str(req.pk),
                                  action__in=TIMELINE_EVENTS).order_by("pk")
    out = []
    for event in events:
        icon, color = TIMELINE_ICONS.get(event.action, ("ti-point", "secondary"))
        comment = (event.details or {}).get("comment", "") if isinstance(event.details, dict) else ""
        out.append({"event": event, "label": event.get_action_display(), "icon": icon, "color": color,
                    "comment": comment})
    return out


def _render_detail(request, req, *, form=None, status=200):
    user = request.user
    now = timezone.now()
    decorate(req, now)
    shown = req.shown_status
    items_visible = _items_visible(user, req)
    items = []
    if items_visible:
        rows = AccessRequestItem.objects.filter(request=req).select_related("recording__unit")
        if not (sees_all(user) or approvals.can_approve(user, req)):
            # the requester sees only the records they may view now: one marked confidential
            # since (and not covered by the grant) is not listed, not even by its name (ACC-3)
            rows = rows.filter(recording__in=Recording.objects.restrict(user, AccessAction.VIEW).values("pk"))
        items = list(rows.order_by("recording_id"))
    is_requester = req.requester_id == user.pk
    can_decide = approvals.can_approve(user, req) and req.status == RequestStatus.PENDING
    context = {
        "application_link": req.party_application_id is not None and _application_visible(user, req),
        "asks_consult_note": can_decide and req.kind in OUTSIDE_KINDS and req.consult_superior,
        "req": req,
        "items": items,
        "items_visible": items_visible,
        "item_links": shown == RequestStatus.APPROVED and (is_requester or sees_all(user)
                                                         or approvals.can_approve(user, req)),
        "is_requester": is_requester,
        "can_decide": can_decide,
        "can_withdraw": is_requester and req.status == RequestStatus.PENDING,
        "can_revoke": req.status == RequestStatus.APPROVED and (is_requester or approvals.can_approve(user, req)),
        "actions_labels": [AccessAction(a).label for a in req.actions if a in AccessAction.values],
        "timeline": _timeline(req),
        "form": form or DecisionForm(),
        "in_window": req.in_window(now),
    }
    return render(request, "web/access/requests/detail.html", context, status=status)


def _application_visible(user, req) -> bool:
    """Who downloads a party's written application: those who may read the request's records
    (its approvers, the audit administrator, the legal office) and the requester who sent it."""
    return req.requester_id == user.pk or sees_all(user) or approvals.can_approve(user, req)


def _visible_or_404(user, pk: int):
    req = get_request(user, pk)
    if req is None:
        raise Http404(_("申请不存在或您无权查看。"))
    return req


@require_GET
@page
def access_request_detail(request, pk: int):
    return _render_detail(request, _visible_or_404(request.user, pk))


@require_GET
@page
def access_request_application(request, pk: int):
    """当事人书面申请 (ACC-4) as a download: 404 when the request is not visible, has none, or
    the vault no longer holds it. Served as the type its bytes show, never inline."""
    user = request.user
    req = _visible_or_404(user, pk)
    stored = req.party_application
    if stored is None or not _application_visible(user, req):
        raise Http404(_("该申请没有当事人书面申请。"))
    try:
        ensure_present(stored)
    except ObjectMissingError as exc:
        raise Http404(exc.message) from exc
    head = b"".join(vault_for(stored).open_range(stored.key, 0, APPLICATION_HEAD))
    content_type, extension = application_type(head) or ("application/octet-stream", "bin")
    filename = _("当事人书面申请-%(pk)s.%(ext)s") % {"pk": req.pk, "ext": extension}
    with transaction.atomic():  # who read a party's application is part of the request's history
        record_event(EventCode.APPLICATION_DOWNLOADED, actor=user, subject=req,
                     details={"request": req.pk, "sha256": stored.sha256})
    return serve_stored_object(request, stored, content_type=content_type, filename=filename, attachment=True)


ACTIONS = {
    "approve": (lambda pk, user, data: approvals.approve(pk, user, data["comment"],
                                                         consult_note=data.get("consult_note") or ""),
                gettext_lazy("已批准该申请。")),
    "reject": (lambda pk, user, data: approvals.reject(pk, user, data["comment"]), gettext_lazy("已驳回该申请。")),
    "withdraw": (lambda pk, user, data: approvals.withdraw(pk, user), gettext_lazy("申请已撤回。")),
    "revoke": (lambda pk, user, data: approvals.revoke(pk, user, data["comment"]),
               gettext_lazy("授权已撤销，正在进行的播放将在下一次请求时中止。")),
}


@require_POST
@page
def access_request_act(request, pk: int, action: str):
    """批准 / 驳回 / 撤回 / 撤销授权: through the service; a refusal shows on the page with its status."""
    user = request.user
    req = _visible_or_404(user, pk)
    run, done = ACTIONS[action]
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查意见。"))
        return _render_detail(request, req, form=form, status=400)
    try:
        run(req.pk, user, form.cleaned_data)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        req = _visible_or_404(user, pk)
        return _render_detail(request, req, form=form, status=exc.status if 400 <= exc.status < 500 else 400)
    messages.success(request, str(done))
    return redirect("web:access_request_detail", pk=req.pk)


def home_pending(user, limit: int = 5) -> dict | None:
    """The home page's 待我审批 card: for people who may approve, the count and the first few."""
    if not may_approve_any(user):
        return None
    qs = pending_for(user)
    rows = list(qs[:limit])
    return {"count": qs.count() if len(rows) == limit else len(rows), "rows": rows}
