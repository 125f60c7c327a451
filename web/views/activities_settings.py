"""执法活动 › 事项目录 and 检查设置 (REC-1, REC-2, REC-7, INT-1): a department's compliance settings.

- 事项目录: the matter catalog that binds a department (activities.catalog.effective_catalog),
  grouped by where each entry comes from (the national list, the local list of its jurisdiction
  profile, the entries of the departments above it, its own), each department entry with its
  versions; the department head and legal office add entries, tighten a higher entry (never
  loosen it: the service refuses, in Chinese) and revise their own with a reason.
- 检查设置: the department's tolerances (REC-7, REC-3) and the endpoints its findings changes are
  pushed to (INT-1) with their delivery log. An endpoint's signing secret is shown once, in the
  response to the POST that made it (never stored in the session, never shown again).

One's own department by default; a department head or legal office may look at the departments
below (``?department=<id>``), changing only their own. Every change goes through its service
(activities.catalog, activities.conduct, activities.webhooks), whose refusal is shown as its
Chinese message with a 4xx.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from activities import catalogs
from activities.catalog import (
    add_department_entry,
    can_edit_catalog,
    department_scope,
    effective_catalog,
    revise_department_entry,
)
from activities.choices import CatalogSource, DeliveryStatus, FindingCode, MatterLevel, RecordMethod
from activities.conduct import set_compliance_settings
from activities.models import ComplianceSettings, MatterType, WebhookDelivery, WebhookEndpoint
from activities.rules import can_manage_integration
from activities.webhooks import (
    create_endpoint,
    rotate_endpoint_secret,
    set_endpoint_active,
)
from core.bounds import parse_id
from core.errors import DomainError, NotFoundError
from orgs.choices import Role
from orgs.models import Department, department_subtree_ids
from web.views.activities import LEVEL_COLORS, POINT_NAMES
from web.views.activities_settings_forms import (
    GAP_TOLERANCE_MAX,
    TIME_TOLERANCE_MAX,
    DeliveryFilterForm,
    EndpointForm,
    EntryForm,
    TolerancesForm,
)
from web.views.common import media_page, page_number

PER_PAGE = 25
MAX_PAGE = 400
SUPERVISOR_ROLES = (Role.DEPARTMENT_HEAD, Role.LEGAL_OFFICE)

SHORT_LEVELS = {MatterLevel.FULL_PROCESS: gettext_lazy("全过程"), MatterLevel.MANDATORY: gettext_lazy("应当"),
                MatterLevel.OPTIONAL: gettext_lazy("可以")}
CATEGORY_NAMES = dict(catalogs.CATEGORIES)
EVENT_LABELS = {
    "finding.opened": gettext_lazy("发现合规提示"),
    "finding.resolved": gettext_lazy("合规提示已消除"),
    "finding.explained": gettext_lazy("执法人员已说明情况"),
    "finding.accepted": gettext_lazy("情况说明已认可"),
}
DELIVERY_COLORS = {DeliveryStatus.PENDING: "orange", DeliveryStatus.DELIVERED: "green", DeliveryStatus.FAILED: "red"}


# ---------------------------------------------------------------------------- which department


def visible_departments(user) -> list[Department]:
    """The departments whose catalog and settings ``user`` may look at: their own; for a
    department head or legal office also those below (SAMR art. 17), their own first."""
    if not user.department_id:
        return []
    if not user.has_role(*SUPERVISOR_ROLES):
        return [user.department]
    rows = list(Department.objects.filter(pk__in=department_subtree_ids(user.department_id)).order_by("code", "pk"))
    rows.sort(key=lambda d: d.pk != user.department_id)
    return rows


def _no_department(request):
    return render(request, "web/error.html", {"message": _(
        "您的账号未归属任何市场监管部门，没有适用的事项目录和检查设置；请联系系统管理员。")}, status=403)


def _chosen(request, departments: list[Department]) -> Department:
    raw = request.GET.get("department", "")
    if raw == "":
        return departments[0]
    pk = parse_id(raw)
    found = next((d for d in departments if d.pk == pk), None)
    if found is None:
        raise Http404(_("部门不存在或您无权查看。"))
    return found


def _department_query(request, department) -> str:
    return "" if department.pk == request.user.department_id else f"department={department.pk}"


# ---------------------------------------------------------------------------- 事项目录


def _level(level: str) -> dict:
    return {"short": SHORT_LEVELS.get(level, level),
            "label": MatterLevel(level).label if level in MatterLevel.values else level,
            "color": LEVEL_COLORS.get(level, "secondary")}


def _source_label(scope: str, chain: dict[str, Department], own_scope: str) -> str:
    if scope == own_scope:
        return _("本部门补充")
    if scope in chain:
        return _("上级部门补充：%(name)s") % {"name": chain[scope].name}
    return str(CatalogSource(scope).label) if scope in CatalogSource.values else scope


def _histories(scopes: set[str]) -> dict[tuple[str, str], list[MatterType]]:
    rows = (MatterType.objects.filter(scope__in=scopes, source=CatalogSource.DEPARTMENT)
            .select_related("created_by").order_by("scope", "code", "-version"))
    out: dict[tuple[str, str], list[MatterType]] = {}
    for row in rows:
        row.level_badge = _level(row.level)
        out.setdefault((row.scope, row.code), []).append(row)
    return out


def _initial_of(matter, level=None, points=None, methods=None, *, article=True) -> dict:
    return {
        "name": matter.name, "category": matter.category, "level": level or matter.level,
        "start_trigger": matter.start_trigger, "end_trigger": matter.end_trigger,
        "content_points": list(points if points is not None else matter.content_points),
        "methods": list(methods if methods is not None else matter.methods),
        "article": matter.article if article else "",
    }


def tightening_choices(department, effective=None) -> list:
    """The higher entries binding ``department`` it may make stricter, grouped by source (the
    choices of the form's 从严补充的上级事项)."""
    effective = effective_catalog(department) if effective is None else effective
    own_scope = department_scope(department.pk)
    chain = {department_scope(d.pk): d for d in [department, *department.ancestors()]}
    groups: dict[str, list] = {}
    for e in effective:
        if e.matter.scope != own_scope:
            label = _source_label(e.matter.scope, chain, own_scope)
            groups.setdefault(label, []).append(
                (e.matter.pk, f"{e.matter.name}（{SHORT_LEVELS.get(e.level, e.level)}）"))
    return list(groups.items())


def catalog_context(request, department, *, entry_form=None, revise_forms=None, tightens=None,
                    open_entry=False) -> dict:
    user = request.user
    effective = effective_catalog(department)
    own_scope = department_scope(department.pk)
    chain = {department_scope(d.pk): d for d in [department, *department.ancestors()]}
    can_edit = can_edit_catalog(user, department)
    histories = _histories({e.matter.scope for e in effective if e.matter.source == CatalogSource.DEPARTMENT})
    revise_forms = revise_forms or {}
    groups: dict[str, dict] = {}

    def group(scope: str) -> dict:
        if scope not in groups:
            groups[scope] = {"scope": scope, "label": _source_label(scope, chain, own_scope),
                             "own": scope == own_scope, "items": [], "builtin": scope in CatalogSource.values}
        return groups[scope]

    group(CatalogSource.SAMR.value)  # the national list first, always
    by_pk = {}
    for e in effective:
        m = e.matter
        own = m.scope == own_scope
        item = {
            "matter": m, "level": _level(e.level), "category": CATEGORY_NAMES.get(m.category, m.category),
            "points": [POINT_NAMES.get(p, p) for p in e.content_points],
            "methods": [RecordMethod(x).label for x in e.methods if x in RecordMethod.values],
            "tightened": e.tightened, "own": own, "department_entry": m.source == CatalogSource.DEPARTMENT,
            "versions": histories.get((m.scope, m.code), []),
            "can_revise": can_edit and own, "can_tighten": can_edit and not own,
        }
        if e.tightened is not None:
            root = e.tightened
            item["tightened_level"] = _level(root.level)
            item["tightened_source"] = _source_label(root.scope, chain, own_scope)
            # where the entry it tightens stands, a line says where it went
            group(root.scope)["items"].append({"stub": True, "matter": root, "by": m, "level": _level(root.level),
                                               "by_own": own})
        if item["can_revise"]:
            item["form"] = revise_forms.get(m.pk) or EntryForm(
                prefix=f"r{m.pk}", revision=True, initial=_initial_of(m))
        group(m.scope)["items"].append(item)
        by_pk[m.pk] = e
    if can_edit:
        group(own_scope)
    higher = tightening_choices(department, effective)
    for g in groups.values():
        g["count"] = sum(1 for i in g["items"] if not i.get("stub"))
    open_entry = open_entry or entry_form is not None
    if entry_form is None and can_edit:
        initial = {}
        if tightens is not None and tightens in by_pk and by_pk[tightens].matter.scope != own_scope:
            e = by_pk[tightens]
            initial = {"tightens": tightens, **_initial_of(e.matter, e.level, e.content_points, e.methods,
                                                          article=False)}
            open_entry = True
        entry_form = EntryForm(higher=higher, initial=initial)
    return {
        "department": department,
        "departments": visible_departments(user),
        "department_query": _department_query(request, department),
        "groups": list(groups.values()),
        "total": len(effective),
        "can_edit": can_edit,
        "is_own_department": department.pk == user.department_id,
        "entry_form": entry_form if can_edit else None,
        "open_entry": open_entry,
        "tightens_choices": higher,
    }


def render_catalog(request, department, *, status=200, **forms_):
    return render(request, "web/activities/settings/catalog.html", catalog_context(request, department, **forms_),
                  status=status)


def _status(exc: DomainError) -> int:
    return exc.status if 400 <= exc.status < 500 else 400


def _refuse_catalog(request):
    return render(request, "web/error.html", {"message": _(
        "只有本部门负责人或法制机构可以维护本部门的事项清单。")}, status=403)


@require_http_methods(["GET", "POST"])
@media_page
def activity_catalog(request):
    """The catalog (GET); a new department entry or a tightening (POST)."""
    user = request.user
    departments = visible_departments(user)
    if not departments:
        return _no_department(request)
    if request.method == "GET":
        return render_catalog(request, _chosen(request, departments),
                              tightens=parse_id(request.GET.get("tightens", "")), open_entry="tightens" in request.GET)
    department = user.department
    if not can_edit_catalog(user, department):
        return _refuse_catalog(request)
    form = EntryForm(request.POST, higher=tightening_choices(department))
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return render_catalog(request, department, entry_form=form, status=400)
    data = form.cleaned_data
    try:
        entry = add_department_entry(department, form.values(), actor=user, tightens_id=data.get("tightens"),
                                     reason=data.get("reason") or "")
    except DomainError as exc:
        form.add_error(None, exc.message)
        messages.error(request, exc.message)
        return render_catalog(request, department, entry_form=form, status=_status(exc))
    messages.success(request, _("已从严补充上级事项，本部门及下级部门按更严的要求记录。") if entry.tightens_id
                     else _("本部门事项已添加，本部门及下级部门登记执法活动时可选用。"))
    return redirect(f"{reverse('web:activity_catalog')}#matter-{entry.pk}")


@require_POST
@media_page
def activity_catalog_revise(request, matter_id: int):
    """A new version of one of one's own department's entries, with a reason."""
    user = request.user
    if not user.department_id:
        return _no_department(request)
    entry = MatterType.objects.filter(pk=matter_id, source=CatalogSource.DEPARTMENT, current=True, active=True,
                                      department_id=user.department_id).first()
    if entry is None:
        raise Http404(_("事项不存在，或已有更新的版本。"))
    department = user.department
    if not can_edit_catalog(user, department):
        return _refuse_catalog(request)
    form = EntryForm(request.POST, prefix=f"r{entry.pk}", revision=True)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return render_catalog(request, department, revise_forms={entry.pk: form}, status=400)
    try:
        revised = revise_department_entry(entry.pk, form.values(), actor=user, reason=form.cleaned_data["reason"])
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        form.add_error(None, exc.message)
        messages.error(request, exc.message)
        return render_catalog(request, department, revise_forms={entry.pk: form}, status=_status(exc))
    messages.success(request, _("已保存为第 %(v)s 版；此前登记的执法活动仍按原版本检查。") % {"v": revised.version})
    return redirect(f"{reverse('web:activity_catalog')}#matter-{revised.pk}")


# ---------------------------------------------------------------------------- 检查设置


def _defaults() -> dict:
    return {name: ComplianceSettings._meta.get_field(name).default
            for name in ("time_tolerance_minutes", "gap_tolerance_seconds")}


def _deliveries(request, department, endpoints) -> dict:
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("department", None)
    form = DeliveryFilterForm({k: params.get(k, "") for k in ("endpoint", "status")} if params else None,
                              endpoints=endpoints)
    invalid = form.is_bound and not form.is_valid()
    qs = WebhookDelivery.objects.filter(endpoint__department=department)
    if invalid:
        qs = WebhookDelivery.objects.none()
    elif form.is_bound:
        if form.cleaned_data.get("endpoint"):
            qs = qs.filter(endpoint_id=form.cleaned_data["endpoint"])
        if form.cleaned_data.get("status"):
            qs = qs.filter(status=form.cleaned_data["status"])
    qs = qs.order_by("-created_at", "-pk")
    total = qs.count()
    last_page = max(1, -(-total // PER_PAGE))
    number = min(page_number(request), last_page, MAX_PAGE)
    rows = list(qs.select_related("endpoint", "finding")[(number - 1) * PER_PAGE: number * PER_PAGE])
    for row in rows:
        row.event_label = EVENT_LABELS.get(row.event_type, _("其他事件"))
        row.status_color = DELIVERY_COLORS.get(row.status, "secondary")
        if row.finding is not None:
            row.finding_label = FindingCode(row.finding.code).label if row.finding.code in FindingCode.values \
                else _("合规提示")
    keep = {k: v for k, v in (("department", request.GET.get("department", "")),
                              ("endpoint", params.get("endpoint", "")), ("status", params.get("status", ""))) if v}
    query = urlencode({k: v for k, v in keep.items() if k == "department" or not invalid})
    return {
        "delivery_form": form, "deliveries": rows, "delivery_total": total, "delivery_invalid": invalid,
        "delivery_filtered": form.is_filtered(), "page_number": number, "last_page": last_page,
        "has_prev": number > 1, "has_next": number < last_page and number < MAX_PAGE,
        "query": f"{query}&" if query else "",
    }


def settings_context(request, department, *, tolerance_form=None, endpoint_form=None, secret=None,
                     open_endpoint=False) -> dict:
    user = request.user
    row = ComplianceSettings.objects.filter(department=department).select_related("changed_by").first()
    defaults = _defaults()
    current = {name: getattr(row, name) if row else value for name, value in defaults.items()}
    can_manage = can_manage_integration(user, department)
    sees_integration = bool(user.has_role(*SUPERVISOR_ROLES) and user.department_id
                            and department.pk in department_subtree_ids(user.department_id))
    context = {
        "department": department,
        "departments": visible_departments(user),
        "department_query": _department_query(request, department),
        "settings_row": row,
        "defaults": defaults,
        "current": current,
        "bounds": {"time": TIME_TOLERANCE_MAX, "gap": GAP_TOLERANCE_MAX},
        "can_manage": can_manage,
        "sees_integration": sees_integration,
        "tolerance_form": (tolerance_form or TolerancesForm(initial=current)) if can_manage else None,
        "endpoint_form": (endpoint_form or EndpointForm()) if can_manage else None,
        "open_endpoint": open_endpoint,
        "secret": secret,
    }
    if sees_integration:
        endpoints = list(
            WebhookEndpoint.objects.filter(department=department).select_related("created_by")
            .annotate(pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
                      failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
                      delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED)))
            .order_by("pk"))
        context["endpoints"] = endpoints
        context.update(_deliveries(request, department, endpoints))
    return context


def render_settings(request, department, *, status=200, **kwargs):
    context = settings_context(request, department, **kwargs)
    if status == 200 and context.get("delivery_invalid"):
        status = 400  # a bad filter lists nothing and says why (as the activity list)
    response = render(request, "web/activities/settings/settings.html", context, status=status)
    if kwargs.get("secret"):
        add_never_cache_headers(response)  # the secret is in this response only: never cached
    return response


def _refuse_settings(request):
    return render(request, "web/error.html", {"message": _(
        "只有本部门负责人或法制机构可以修改合规检查设置和推送地址。")}, status=403)


@require_http_methods(["GET"])
@media_page
def activity_settings(request):
    departments = visible_departments(request.user)
    if not departments:
        return _no_department(request)
    return render_settings(request, _chosen(request, departments))


def _manager_department(request):
    """The department whose settings the POST changes (one's own), or the refusal to show."""
    user = request.user
    if not user.department_id:
        return None, _no_department(request)
    if not can_manage_integration(user, user.department):
        return None, _refuse_settings(request)
    return user.department, None


@require_POST
@media_page
def activity_settings_tolerances(request):
    department, refused = _manager_department(request)
    if refused:
        return refused
    form = TolerancesForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return render_settings(request, department, tolerance_form=form, status=400)
    try:
        set_compliance_settings(department, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        form.add_error(None, exc.message)
        messages.error(request, exc.message)
        return render_settings(request, department, tolerance_form=form, status=_status(exc))
    messages.success(request, _("合规检查设置已保存，本部门的执法活动已按新的容差重新检查。"))
    return redirect(f"{reverse('web:activity_settings')}#tolerances")


@require_POST
@media_page
def activity_settings_webhook_new(request):
    department, refused = _manager_department(request)
    if refused:
        return refused
    form = EndpointForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请检查标红的字段。"))
        return render_settings(request, department, endpoint_form=form, open_endpoint=True, status=400)
    try:
        endpoint = create_endpoint(department, actor=request.user, name=form.cleaned_data["name"],
                                   url=form.cleaned_data["url"])
    except DomainError as exc:
        form.add_error(exc.code if exc.code in form.fields else None, exc.message)
        return render_settings(request, department, endpoint_form=form, open_endpoint=True, status=_status(exc))
    messages.success(request, _("推送地址已添加并启用。"))
    # shown here, once: the page after this one never shows it again
    return render_settings(request, department, secret={"endpoint": endpoint, "value": endpoint.secret,
                                                        "rotated": False})


def _own_endpoint(request, endpoint_id: int, department) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, department=department).first()
    if endpoint is None:
        raise Http404(_("推送地址不存在或您无权管理。"))
    return endpoint


@require_POST
@media_page
def activity_settings_webhook_active(request, endpoint_id: int):
    department, refused = _manager_department(request)
    if refused:
        return refused
    endpoint = _own_endpoint(request, endpoint_id, department)
    wanted = request.POST.get("active", "")
    if wanted not in ("0", "1"):
        messages.error(request, _("请选择启用或停用。"))
        return render_settings(request, department, status=400)
    try:
        endpoint = set_endpoint_active(endpoint.pk, actor=request.user, active=wanted == "1")
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_settings(request, department, status=_status(exc))
    messages.success(request, _("已启用“%(name)s”，之后的合规提示变化会推送过去。") % {"name": endpoint.name}
                     if endpoint.active else
                     _("已停用“%(name)s”，不再向其推送；尚未送达的推送不再发送。") % {"name": endpoint.name})
    return redirect(f"{reverse('web:activity_settings')}#endpoints")


@require_POST
@media_page
def activity_settings_webhook_rotate(request, endpoint_id: int):
    department, refused = _manager_department(request)
    if refused:
        return refused
    endpoint = _own_endpoint(request, endpoint_id, department)
    try:
        endpoint = rotate_endpoint_secret(endpoint.pk, actor=request.user)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_settings(request, department, status=_status(exc))
    messages.success(request, _("已更换“%(name)s”的签名密钥，原密钥已失效。") % {"name": endpoint.name})
    return render_settings(request, department, secret={"endpoint": endpoint, "value": endpoint.secret,
                                                        "rotated": True})
