"""Jurisdiction profiles: who approves which access request, with the article that says so (ACC-1).

Data, not branches: each profile is a table of routes from (kind of request, how the requester
stands to the records, which actions) to an approval step. A department is assigned a profile
(``access.models.DepartmentProfile``; unassigned: the national default). The national rule is the
floor; a local profile only adds approval steps, never removes one.

How a requester stands to the records of a request (``relation``):

- ``unit``: the records are all of the requester's own unit;
- ``department``: of the requester's department, in another unit;
- ``superior``: of a department below the requester's (SAMR art. 17 ¶4: a superior department
  views and copies its subordinates' records without their approval; its own head approves);
- ``other``: of another department (SAMR art. 17 ¶3: other departments ask the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from access.choices import AccessAction, AccessProfile, ApproverRole, RequestKind

SAMR_17_2 = _("市场监管总局《市场监督管理执法音像记录管理规定》第十七条第二款")
SAMR_17_3 = _("市场监管总局《市场监督管理执法音像记录管理规定》第十七条第三款")
SAMR_17_4 = _("市场监管总局《市场监督管理执法音像记录管理规定》第十七条第四款")
SAMR_17_5 = _("市场监管总局《市场监督管理执法音像记录管理规定》第十七条第五款（书面批准）")
DL_22 = _("大连片区《现场执法记录管理办法》第二十二条")
SQ_EQUIP_12 = _("双桥区《音像记录设备使用管理规定》第十二条")
SQ_PROCESS_26 = _("双桥区《行政执法全过程记录制度》第二十六条")

# Actions that read the audio-visual material itself (查阅, 调取), as opposed to its catalogue entry.
MATERIAL_ACTIONS = frozenset({AccessAction.PLAY, AccessAction.DOWNLOAD, AccessAction.COPY})
ALL_ACTIONS = frozenset({AccessAction.VIEW, *MATERIAL_ACTIONS})
# What a request may ask for, in the order the form lists them.
REQUESTABLE_ACTIONS = (AccessAction.VIEW, AccessAction.PLAY, AccessAction.DOWNLOAD, AccessAction.COPY)


@dataclass(frozen=True)
class Step:
    """One approval: which office approves, of which department (the records' or the
    requester's own), under which article."""

    approver: ApproverRole
    of: str  # "record_unit" | "record_department" | "requester_department"
    article: str

    @property
    def label(self) -> str:
        return str(ApproverRole(self.approver).label)


@dataclass(frozen=True)
class Route:
    kind: RequestKind
    relations: frozenset[str]  # which relations it routes
    actions: frozenset[str] | None  # None: any; else the request's actions must all be in it
    step: Step


@dataclass(frozen=True)
class Profile:
    code: AccessProfile
    # What a unit's custodian and head do with their unit's records without a request.
    unit_standing: frozenset[str]
    routes: tuple[Route, ...]
    summary: str

    @property
    def name(self) -> str:
        return str(AccessProfile(self.code).label)

    def route(self, kind: str, relation: str, actions) -> Step:
        """The step a request needs: the first route that fits (each profile ends in a catch-all)."""
        wanted = frozenset(actions)
        for route in self.routes:
            if route.kind != kind or relation not in route.relations:
                continue
            if route.actions is not None and not wanted <= route.actions:
                continue
            return route.step
        raise LookupError((self.code, kind, relation))  # pragma: no cover - every table ends in a catch-all


_UNIT_HEAD = Step(ApproverRole.UNIT_HEAD, "record_unit", SAMR_17_2)
_DEPT_HEAD = Step(ApproverRole.DEPARTMENT_HEAD, "record_department", SAMR_17_3)
_SUPERIOR = Step(ApproverRole.DEPARTMENT_HEAD, "requester_department", SAMR_17_4)
_EXTERNAL = Step(ApproverRole.DEPARTMENT_HEAD, "record_department", SAMR_17_5)
_PARTY = Step(ApproverRole.DEPARTMENT_HEAD, "record_department", SQ_PROCESS_26)
_INSIDE = frozenset({"unit", "department", "other"})

# Shared tail: external provision, a party's copy and a superior department's request are the
# same everywhere (the national rule is already the strictest for them).
_COMMON = (
    Route(RequestKind.INTERNAL, frozenset({"superior"}), None, _SUPERIOR),
    Route(RequestKind.EXTERNAL, frozenset({*_INSIDE, "superior"}), None, _EXTERNAL),
    Route(RequestKind.PARTY_COPY, frozenset({*_INSIDE, "superior"}), None, _PARTY),
)

PROFILES: dict[str, Profile] = {
    AccessProfile.NATIONAL: Profile(
        AccessProfile.NATIONAL,
        unit_standing=ALL_ACTIONS,
        routes=(
            Route(RequestKind.INTERNAL, frozenset({"unit"}), None, _UNIT_HEAD),
            Route(RequestKind.INTERNAL, frozenset({"department", "other"}), None, _DEPT_HEAD),
            *_COMMON,
        ),
        summary=_(
            "超出本人权限、在采集机构内调阅复制的，由采集机构负责人同意；超出采集机构的，"
            "由本级部门负责人同意；其他部门参照办理；上级部门调阅下级部门记录无需下级审批；"
            "对外提供须部门负责人书面批准。"
        ),
    ),
    AccessProfile.DALIAN: Profile(
        AccessProfile.DALIAN,
        unit_standing=frozenset({AccessAction.VIEW}),
        routes=(
            Route(
                RequestKind.INTERNAL,
                frozenset({"unit", "department", "other"}),
                None,
                Step(ApproverRole.DEPUTY_DIRECTOR, "record_department", DL_22),
            ),
            *_COMMON,
        ),
        summary=_(
            "因工作需要查阅、调取视听资料的，一律报分管副局长批准，并由保管人登记查阅人、"
            "查阅事由、查阅时间；采集机构负责人和保管人不再直接播放、下载本机构记录。"
        ),
    ),
    AccessProfile.SHUANGQIAO: Profile(
        AccessProfile.SHUANGQIAO,
        unit_standing=frozenset({AccessAction.VIEW}),
        routes=(
            # 查阅 (seeing or hearing the material) always needs the agency head (SQ 设备 art. 12)
            Route(
                RequestKind.INTERNAL,
                frozenset({"unit", "department", "other"}),
                frozenset({AccessAction.VIEW, AccessAction.PLAY}),
                Step(ApproverRole.AGENCY_HEAD, "record_department", SQ_EQUIP_12),
            ),
            # copying without viewing follows the national rule
            Route(
                RequestKind.INTERNAL,
                frozenset({"unit"}),
                frozenset({AccessAction.VIEW, AccessAction.DOWNLOAD, AccessAction.COPY}),
                _UNIT_HEAD,
            ),
            Route(
                RequestKind.INTERNAL,
                frozenset({"unit", "department", "other"}),
                None,
                Step(ApproverRole.AGENCY_HEAD, "record_department", SQ_EQUIP_12),
            ),
            *_COMMON,
        ),
        summary=_(
            "因工作需要查阅执法音像记录资料的，报经机关负责人批准，由保管人登记查阅人、查阅事由、"
            "查阅时间；仅复制、不查阅的，按全国规定由采集机构负责人同意。"
        ),
    ),
}


def _assigned(**where) -> Profile:
    """The profile of the one department ``where`` selects, else the national default."""
    from access.models import DepartmentProfile

    code = DepartmentProfile.objects.filter(**where).values_list("profile", flat=True).first()
    return PROFILES.get(code or AccessProfile.NATIONAL, PROFILES[AccessProfile.NATIONAL])


def profile_of(department_id: int | None) -> Profile:
    """The profile a department's records follow (its own assignment, else the national default)."""
    if department_id is None:
        return PROFILES[AccessProfile.NATIONAL]
    return _assigned(department_id=department_id)


def unit_profile_of(unit_id: int) -> Profile:
    """The profile a unit's records follow: its department's (one query, by the unit)."""
    return _assigned(department__units=unit_id)
