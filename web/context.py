"""Template context shared by every page: who is signed in and what they may open."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orgs.choices import SEPARATED_ADMIN_ROLES, Role

PLATFORM_NAME = _("执法音像记录管理平台")

MEDIA_ROLES = (
    Role.OFFICER,
    Role.CUSTODIAN,
    Role.UNIT_HEAD,
    Role.DEPARTMENT_HEAD,
    Role.LEGAL_OFFICE,
)


def is_media_user(user) -> bool:
    """Roles that may hold recordings at all (administrators see no media: default deny)."""
    return bool(user.is_authenticated and user.has_role(*MEDIA_ROLES))


def _uses_access_requests(user) -> bool:
    """调阅申请 (ACC-1): who may request, and who has something to decide."""
    from access.approvals import may_request
    from access.requests import pending_for

    return may_request(user) or user.has_role(Role.AUDIT_ADMIN) or pending_for(user).exists()


def navigation(request):
    user = getattr(request, "user", None)
    context = {"request_id": getattr(request, "request_id", ""), "platform_name": PLATFORM_NAME}
    if user is None or not user.is_authenticated:
        return context
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    items = [
        {
            "name": "home",
            "label": _("工作台"),
            "icon": "ti-layout-dashboard",
            "url": reverse("web:home"),
        }
    ]
    if is_media_user(user):
        items += [
            {
                "name": "upload",
                "label": _("上传记录"),
                "icon": "ti-cloud-upload",
                "url": reverse("web:upload"),
            },
            {
                "name": "ingest_list",
                "label": _("入库情况"),
                "icon": "ti-inbox",
                "url": reverse("web:ingest_list"),
            },
            {
                "name": "recording_list",
                "label": _("音像记录"),
                "icon": "ti-movie",
                "url": reverse("web:recording_list"),
            },
            {
                "name": "activity_list",
                "label": _("执法活动"),
                "icon": "ti-clipboard-list",
                "url": reverse("web:activity_list"),
            },
            {
                "name": "case_list",
                "label": _("案件"),
                "icon": "ti-briefcase",
                "url": reverse("web:case_list"),
            },
            {
                "name": "my_access",
                "label": _("查阅登记"),
                "icon": "ti-eye-check",
                "url": reverse("web:my_access"),
            },
        ]
    if user.has_role(Role.AUDIT_ADMIN):
        # the audit administrator reads the log and the register (and changes nothing)
        items += [
            {
                "name": "audit_events",
                "label": _("审计日志"),
                "icon": "ti-list-search",
                "url": reverse("web:audit_events"),
            },
            {
                "name": "audit_checkpoints",
                "label": _("检查点"),
                "icon": "ti-rosette-discount-check",
                "url": reverse("web:audit_checkpoints"),
            },
            {
                "name": "audit_verifications",
                "label": _("校验结果"),
                "icon": "ti-shield-check",
                "url": reverse("web:audit_verifications"),
            },
            {
                "name": "audit_access",
                "label": _("查阅登记"),
                "icon": "ti-eye-check",
                "url": reverse("web:audit_access"),
            },
        ]
    if _uses_access_requests(user):
        item = {
            "name": "access_request_list",
            "label": _("调阅申请"),
            "icon": "ti-file-certificate",
            "url": reverse("web:access_request_list"),
        }
        # right after 查阅登记
        names = [i["name"] for i in items]
        items.insert(names.index("my_access") + 1 if "my_access" in names else len(items), item)
    if is_media_user(user) or user.has_role(*SEPARATED_ADMIN_ROLES):
        # which approval rule each department follows, with its article (the security
        # administrator changes it; everyone else reads it)
        items.append({
            "name": "access_profiles",
            "label": _("调阅审批规则"),
            "icon": "ti-route",
            "url": reverse("web:access_profiles"),
        })
    for item in items:
        item["active"] = current == item["name"] or (
            item["name"] == "recording_list" and current.startswith("recording_")
        ) or (item["name"] == "access_request_list" and current.startswith("access_request")) or (
            item["name"] == "activity_list" and current.startswith("activity_")
        ) or (item["name"] == "case_list" and current.startswith("case_"))
    context.update(
        {
            "nav_items": items,
            "user_roles": user.role_labels(),
            "user_unit": user.unit if user.unit_id else None,
            "user_department": user.department if user.department_id else None,
        }
    )
    return context
