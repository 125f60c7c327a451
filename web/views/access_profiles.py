"""调阅审批规则 (ACC-1): which jurisdiction profile each department's access requests follow,
and what every profile routes to whom under which article.

The security administrator assigns a department's profile (``access.confidentiality.
assign_profile``, a custody event); record holders, the audit administrator and the system
administrator read the page (it is configuration they need to know, not records) and change
nothing. Anyone else: 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from access.choices import AccessAction, AccessProfile, ApproverRole, RequestKind
from access.confidentiality import assign_profile
from access.models import DepartmentProfile
from access.profiles import ALL_ACTIONS, PROFILES, Profile
from core.bounds import parse_id
from core.errors import DomainError
from orgs.choices import Role
from orgs.models import Department
from web.context import MEDIA_ROLES
from web.views.common import page, page_number

PER_PAGE = 100
READER_ROLES = (*MEDIA_ROLES, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)

RELATION_LABELS = {
    "unit": gettext_lazy("本采集机构"),
    "department": gettext_lazy("本部门其他机构"),
    "superior": gettext_lazy("下级部门（上级调阅）"),
    "other": gettext_lazy("其他部门"),
}
RELATION_ORDER = ("unit", "department", "superior", "other")
STEP_OF_LABELS = {
    "record_unit": gettext_lazy("记录所属采集机构"),
    "record_department": gettext_lazy("记录所属部门"),
    "requester_department": gettext_lazy("申请人所在部门"),
}
# indentation by tree depth, with Tabler's spacing classes (the CSP allows no inline style)
INDENT = ("", "ps-3", "ps-5", "ps-5 ms-4", "ps-5 ms-5")


def may_read(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(*READER_ROLES))


def may_change(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.SECURITY_ADMIN))


@dataclass(frozen=True)
class RouteRow:
    kind: str
    relations: str
    actions: str
    approver: str
    article: str


@dataclass(frozen=True)
class ProfileView:
    code: str
    name: str
    summary: str
    standing: str
    routes: list[RouteRow]


def _actions_label(actions) -> str:
    if actions is None:
        return _("任意方式")
    return "、".join(str(AccessAction(a).label) for a in sorted(actions, key=_action_order))


def _action_order(action) -> int:
    order = [AccessAction.VIEW, AccessAction.PLAY, AccessAction.DOWNLOAD, AccessAction.COPY]
    return order.index(action) if action in order else len(order)


def _standing_label(profile: Profile) -> str:
    if profile.unit_standing >= ALL_ACTIONS:
        return _("全部（查看、播放、下载、复制）")
    if profile.unit_standing == frozenset({AccessAction.VIEW}):
        return _("查看目录信息")
    return _actions_label(profile.unit_standing)


def _profile_view(profile: Profile) -> ProfileView:
    rows = []
    for route in profile.routes:
        relations = [RELATION_LABELS[r] for r in RELATION_ORDER if r in route.relations]
        rows.append(RouteRow(
            kind=str(RequestKind(route.kind).label),
            relations="、".join(str(r) for r in relations),
            actions=_actions_label(route.actions),
            approver=_("%(office)s（%(of)s）") % {
                "office": ApproverRole(route.step.approver).label, "of": STEP_OF_LABELS[route.step.of]},
            article=str(route.step.article),
        ))
    return ProfileView(code=str(profile.code), name=profile.name, summary=str(profile.summary),
                       standing=_standing_label(profile), routes=rows)


def _tree_rows() -> list[dict]:
    """Every department in tree order (parents before children, siblings by code), with depth."""
    nodes = list(Department.objects.order_by("code").values("pk", "name", "code", "level", "parent_id"))
    known = {n["pk"] for n in nodes}
    children: dict[int | None, list[dict]] = {}
    for node in nodes:
        parent = node["parent_id"] if node["parent_id"] in known else None
        children.setdefault(parent, []).append(node)
    ordered, stack = [], [(n, 0) for n in reversed(children.get(None, []))]
    while stack:
        node, depth = stack.pop()
        ordered.append({**node, "depth": depth, "indent": INDENT[min(depth, len(INDENT) - 1)]})
        stack.extend((c, depth + 1) for c in reversed(children.get(node["pk"], [])))
    return ordered


def _render(request, *, error: str = "", status: int = 200, number: int | None = None):
    user = request.user
    rows = _tree_rows()
    paginator = Paginator(rows, PER_PAGE)
    page_obj = paginator.get_page(number or page_number(request))
    shown = list(page_obj.object_list)
    assigned = {
        p.department_id: p
        for p in DepartmentProfile.objects.filter(department_id__in=[r["pk"] for r in shown])
        .select_related("assigned_by")
    }
    levels = dict(Department._meta.get_field("level").choices)
    for row in shown:
        current = assigned.get(row["pk"])
        row["profile"] = current.profile if current else AccessProfile.NATIONAL
        row["profile_label"] = AccessProfile(row["profile"]).label
        row["assigned"] = current
        row["level_label"] = levels.get(row["level"], "")
    return render(request, "web/access/profiles.html", {
        "rows": shown,
        "page_obj": page_obj,
        "paginated": paginator.num_pages > 1,
        "profiles": [_profile_view(p) for p in PROFILES.values()],
        "profile_choices": AccessProfile.choices,
        "can_change": may_change(user),
        "error": error,
    }, status=status)


@require_http_methods(["GET", "POST"])
@page
def access_profiles(request):
    user = request.user
    if not may_read(user):
        return render(request, "web/error.html",
                      {"message": _("您的角色不能查看调阅审批规则。")}, status=403)
    if request.method == "GET":
        return _render(request)
    number = parse_id(request.POST.get("page", "1")) or 1
    if not may_change(user):
        return render(request, "web/error.html",
                      {"message": _("只有安全管理员可以设置调阅审批规则。")}, status=403)
    department_id = parse_id(request.POST.get("department", ""))
    department = Department.objects.filter(pk=department_id).first() if department_id else None
    if department is None:
        return _render(request, error=_("所选部门不存在，请刷新页面后重试。"), status=400, number=number)
    profile = request.POST.get("profile", "")
    if profile not in AccessProfile.values:
        return _render(request, error=_("审批规则无效，请从列表中选择。"), status=400, number=number)
    try:
        assign_profile(department, actor=user, profile=profile)
    except DomainError as exc:
        status = exc.status if 400 <= exc.status < 500 else 400
        return _render(request, error=exc.message, status=status, number=number)
    messages.success(request, _("已将“%(department)s”的调阅审批规则设为：%(profile)s。此后提交的申请按新规则审批，设置记录已写入保管链。") % {
        "department": department.name, "profile": AccessProfile(profile).label})
    return redirect(f"{reverse('web:access_profiles')}?page={number}")
