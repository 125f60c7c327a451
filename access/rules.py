"""Who may do what with which record: one rules table, read two ways (issue 9, ACC-1, ACC-3).

``RULES`` lists every way a person may reach a recording, each with the article that grants
it. ``restrict(person, action)`` is the table as a queryset filter (the OR of every rule that
applies to the person); ``decide(person, recording, action)`` is the same table as one
decision naming its basis (the first rule that covers the record, in table order), which the
access register stores on each entry. Nothing else decides: the catalogue, ingest items,
derivatives, the register and the log's subject views all read through these two.

Rules:

- ``recorder``: an officer's own recordings (the primary officer) — every action, and on a
  confidential record the recorder's own view and play (ACC-3).
- ``named``: recordings an officer appears in or uploaded — every action, not confidential.
- ``unit``: a custodian's or unit head's unit — what the unit's profile allows them without
  a request (national: everything; 大连, 双桥: the catalogue entry only), not confidential.
- ``department``: a department head's own department — every action, confidential too (the
  department-head path).
- ``superior``: a department head's subordinate departments (SAMR art. 17 ¶4) — every action
  but editing, confidential too; the UI asks for the purpose (事由) first.
- ``grant`` / ``grant_confidential``: an approved access request inside its window, for the
  actions it names; confidential records only when the request included them (approved on the
  department-head path).

Administrators (system, security, audit) and anyone without one of these reach nothing.

The upload side (who files into which unit, whom they may name) is here too: the unit decides
who may later see a recording and every named officer sees it as their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.choices import AccessAction
from access.profiles import (
    ALL_ACTIONS,
    SAMR_17_2,
    SAMR_17_3,
    SAMR_17_4,
    profile_of,
    unit_profile_of,
)
from core.bounds import within_q
from core.lookups import InArray
from orgs.choices import SEPARATED_ADMIN_ROLES, Role
from orgs.models import Person, Unit, department_subtree

UPLOAD_ROLES = (Role.OFFICER, Role.CUSTODIAN, Role.UNIT_HEAD, Role.DEPARTMENT_HEAD)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str  # the rule that decided, for messages and the register
    message: str = ""  # why not, in Chinese, when refused
    request: object = None  # the access request whose grant allowed it (``grant`` rules)

    @property
    def rule(self) -> Rule | None:
        return RULES_BY_CODE.get(self.basis)


class InSubqueryArray(In):
    """``pk IN (subquery)``, written ``pk = ANY(ARRAY(subquery))`` on PostgreSQL.

    Same rows: neither side is ever NULL, and both forms run the subquery once per statement.
    But PostgreSQL plans ``IN (subquery)`` under an OR as a hashed SubPlan, a filter it must test
    on every row it visits, so an officer's list walked every recording of the date range
    (bench/catalogue.py: 155 ms at 1M recordings, seconds at 10M); the array is an InitPlan the
    primary key index takes, so the rules are index scans OR-ed in one bitmap.
    """

    def get_rhs_op(self, connection, rhs):
        if connection.vendor == "postgresql":
            return f"= ANY(ARRAY{rhs})"
        return super().get_rhs_op(connection, rhs)


# A start-time period [start, end), either end open (None): a hint, see Rule.
Within = tuple[datetime | None, datetime | None]
ANY_TIME: Within = (None, None)

# What the rules are asked about: the access actions, plus editing a record's metadata.
EDIT = "edit"
ACTIONS = frozenset({*ALL_ACTIONS, EDIT})
MEDIA_ACTIONS = ALL_ACTIONS  # everything but editing


@dataclass(frozen=True)
class Rule:
    """One way to reach a record. ``scope(person, action, within)`` is the records it covers
    (None: it does not apply to this person or action); ``within`` is the start-time period
    the caller filters by anyway, which a rule may use to narrow its own subquery (never to
    widen it); ``confidential`` the actions it allows on a confidential record too (ACC-3)."""

    code: str
    label: object
    article: object
    scope: Callable[[Person, str, Within], Q | None]
    confidential: frozenset[str] = field(default_factory=frozenset)
    asks_purpose: bool = False  # the UI asks for 事由 before the first view (no request gave one)


def _tree(person) -> tuple[list[int], bool]:
    """The person's department and those below it, and whether that is every department (the
    province's), once per person object (a request)."""
    cached = getattr(person, "_subtree_cache", None)
    if cached is None:
        cached = department_subtree(person.department_id) if person.department_id else ([], False)
        person._subtree_cache = cached
    return cached


def _subtree(person) -> list[int]:
    return _tree(person)[0]


def _unit_profile(person):
    """The profile of the person's unit's department (one query, once per person object)."""
    cached = getattr(person, "_unit_profile_cache", None)
    if cached is None:
        cached = unit_profile_of(person.unit_id) if person.unit_id else profile_of(person.department_id)
        person._unit_profile_cache = cached
    return cached


def _recorder(person, action, within):
    if not person.has_role(Role.OFFICER):
        return None
    return Q(primary_officer_id=person.pk)


def _named(person, action, within):
    if not person.has_role(Role.OFFICER):
        return None
    from recordings.models import RecordingOfficer

    # a subquery, not a join: no duplicate rows, no DISTINCT over the catalogue; the links carry
    # their recording's start time, so a catalogue page reads only its period's
    appears_in = RecordingOfficer.objects.filter(within_q("recording_start", within), person_id=person.pk)
    appears_in = appears_in.values("recording_id")
    return Q(uploaded_by_id=person.pk) | Q(InSubqueryArray(F("pk"), appears_in))


def _unit(person, action, within):
    if not (person.unit_id and person.has_role(Role.CUSTODIAN, Role.UNIT_HEAD)):
        return None
    if action != EDIT and action not in _unit_profile(person).unit_standing:
        return None
    return Q(unit_id=person.unit_id)


def _department(person, action, within):
    if action == EDIT or not (person.department_id and person.has_role(Role.DEPARTMENT_HEAD)):
        return None
    return Q(department_id=person.department_id)


def _superior(person, action, within):
    if action == EDIT or not (person.department_id and person.has_role(Role.DEPARTMENT_HEAD)):
        return None
    below = [pk for pk in _subtree(person) if pk != person.department_id]
    return Q(department_id__in=below) if below else None


_GRANT_FLAG = {AccessAction.PLAY: "allow_play", AccessAction.DOWNLOAD: "allow_download", AccessAction.COPY: "allow_copy"}


def active_grant_items(person, action: str, *, confidential: bool = False, now=None, within: Within = ANY_TIME):
    """The request items that are ``person``'s grants for ``action`` right now: approved, not
    revoked, inside their window, naming the action (viewing the entry comes with any grant);
    ``within``: only those of recordings that start in that period."""
    from access.models import AccessRequestItem

    now = now or timezone.now()
    items = AccessRequestItem.objects.filter(
        within_q("recording_start", within),
        requester_id=person.pk,
        granted_from__lte=now,  # set while the request is approved (access.approvals)
        granted_until__gt=now,
    )
    if action in _GRANT_FLAG:
        items = items.filter(**{f"request__{_GRANT_FLAG[action]}": True})
    if confidential:
        items = items.filter(include_confidential=True)
    return items


def _grant(person, action, within):
    if action not in ALL_ACTIONS:
        return None
    items = active_grant_items(person, action, within=within).values("recording_id")
    return Q(InSubqueryArray(F("pk"), items))


def _grant_confidential(person, action, within):
    # any record of a request that included confidential ones: those that are not confidential
    # are the ``grant`` rule's too (it comes first, so it is their basis)
    if action not in ALL_ACTIONS:
        return None
    items = active_grant_items(person, action, confidential=True, within=within).values("recording_id")
    return Q(InSubqueryArray(F("pk"), items))


def _not_confidential_q() -> Q:
    """Records without a confidentiality mark: ``NOT (pk IN (subquery))``, which PostgreSQL
    runs as one hashed SubPlan (a hash probe per row, from the index alone) — not the array
    form, whose ``= ANY`` would compare each row with every mark."""
    from access.models import ConfidentialityMark

    return ~Q(pk__in=ConfidentialityMark.objects.values("recording_id"))


RULES: tuple[Rule, ...] = (
    Rule("recorder", gettext_lazy("本人摄录"), gettext_lazy("市场监管总局规定第十七条（执法人员本人权限）"),
         _recorder, confidential=frozenset({AccessAction.VIEW, AccessAction.PLAY})),
    Rule("named", gettext_lazy("本人参与或上传"), gettext_lazy("市场监管总局规定第十七条（执法人员本人权限）"),
         _named),
    Rule("unit", gettext_lazy("本采集机构（记录仪管理员、采集机构负责人）"), SAMR_17_2, _unit),
    Rule("department", gettext_lazy("本级部门负责人"), SAMR_17_3, _department, confidential=MEDIA_ACTIONS),
    Rule("superior", gettext_lazy("上级部门调阅下级部门记录"), SAMR_17_4, _superior,
         confidential=MEDIA_ACTIONS, asks_purpose=True),
    Rule("grant", gettext_lazy("经审批的调阅申请"), gettext_lazy("调阅申请审批"), _grant),
    Rule("grant_confidential", gettext_lazy("经部门负责人审批的保密记录调阅申请"),
         gettext_lazy("市场监管总局规定第十八条第二款（商业秘密、个人隐私）"), _grant_confidential,
         confidential=MEDIA_ACTIONS),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}
GRANT_RULES = frozenset({"grant", "grant_confidential"})


def may_hold_media(person) -> bool:
    """Signed in, active, and no separated administrator (who reaches no record, approves and
    requests nothing)."""
    if person is None or not getattr(person, "is_authenticated", False) or not person.is_active:
        return False
    return not person.has_role(*SEPARATED_ADMIN_ROLES)


def _scopes(person, action: str, within: Within = ANY_TIME, *, skip=frozenset()) -> list[tuple[Rule, Q]]:
    """Each rule that applies to ``person`` for ``action``, with the records it covers before
    confidentiality is considered (``skip``: rule codes known not to cover anything)."""
    if action not in ACTIONS:
        raise ValueError(action)
    if not may_hold_media(person):
        return []
    return [
        (rule, q) for rule in RULES
        if rule.code not in skip and (q := rule.scope(person, action, within)) is not None
    ]


def _any(qs) -> Q | None:
    combined = None
    for q in qs:
        combined = q if combined is None else combined | q
    return combined


# A catalogue page writes out the ids of the period's grants when there are at most this many
# (most people hold none, a busy grantee a few hundred); beyond, the grant rules' subqueries.
INLINE_GRANTS = 1000
# The department-head rules, which restrict() writes as one "department in subtree".
TREE_RULES = frozenset({"department", "superior"})


def _period_grants(person, action: str, within: Within) -> tuple[list[int], list[int]] | None:
    """The recordings of ``person``'s active grants for ``action`` starting in ``within``, and
    those of them whose request included confidential records, in one query; None when there
    are more than INLINE_GRANTS."""
    rows = list(
        active_grant_items(person, action, within=within)
        .values_list("recording_id", "include_confidential")[: INLINE_GRANTS + 1]
    )
    if len(rows) > INLINE_GRANTS:
        return None
    return [pk for pk, _conf in rows], [pk for pk, conf in rows if conf]


def restrict(person, action: str = AccessAction.VIEW, *, start_within: Within | None = None) -> Q | None:
    """The records ``person`` may ``action``, as one filter (None: none at all; ``Q()``: all):
    the rules that stop at a confidential record OR-ed under one "not confidential", OR the
    rules that do not (one confidentiality test per statement, however many rules apply).

    Written as PostgreSQL runs it fastest, the same records as the rules one by one:

    - a department head's two rules (``department``, ``superior``) are one ``department IN
      (their subtree)`` — and no filter at all for the head of every department;
    - ``start_within``: a catalogue page, which keeps only records starting in this period
      (either end open) anyway. One query reads the person's grants of that period first (most
      hold none), and their recordings' ids are written out — no grant subquery in the page's
      statement, which runs twice (its count and its rows); more than INLINE_GRANTS, and the
      grant rules' subqueries read only that period's grants. Elsewhere (subqueries of other
      lists, one record) no extra query."""
    paged = start_within is not None and action in ALL_ACTIONS and may_hold_media(person)
    scopes = _scopes(person, action, start_within or ANY_TIME, skip=GRANT_RULES if paged else frozenset())
    if any(rule.code in TREE_RULES and action in rule.confidential for rule, _q in scopes):
        subtree, whole = _tree(person)
        if whole:
            return Q()  # before the grants are read: they add nothing
        scopes = [(rule, q) for rule, q in scopes if rule.code not in TREE_RULES]
        scopes.append((RULES_BY_CODE["department"], Q(department_id__in=subtree)))
    guarded = [q for rule, q in scopes if action not in rule.confidential]
    open_ = [q for rule, q in scopes if action in rule.confidential]
    if paged:
        inline = _period_grants(person, action, start_within)
        if inline is None:  # too many to write out: the grant rules' own subqueries
            for rule, q in _scopes(person, action, start_within, skip=RULES_BY_CODE.keys() - GRANT_RULES):
                (open_ if action in rule.confidential else guarded).append(q)
        else:
            granted, confidential = inline
            if granted:
                guarded.append(Q(InArray(F("pk"), granted)))
            if confidential:
                open_.append(Q(InArray(F("pk"), confidential)))
    either = _any(guarded)
    if either is not None:
        either &= _not_confidential_q()
    return _any(q for q in (either, _any(open_)) if q is not None)


def basis_expression(person, action: str):
    """An expression naming the first rule that covers each row (NULL: none)."""
    whens = [
        When(q if action in rule.confidential else q & _not_confidential_q(), then=Value(rule.code))
        for rule, q in _scopes(person, action)
    ]
    if not whens:
        return Value(None, output_field=CharField())
    return Case(*whens, default=Value(None), output_field=CharField())


def decide(person, recording, action: str = AccessAction.VIEW) -> Decision:
    """May ``person`` ``action`` this recording, and under which rule (or grant)?"""
    from recordings.models import Recording

    pk = recording if isinstance(recording, int) else recording.pk
    basis = (
        Recording.objects.filter(pk=pk).annotate(_basis=basis_expression(person, action))
        .values_list("_basis", flat=True).first()
    )
    return decision_for(person, pk, action, basis)


def decision_for(person, recording_id: int, action: str, basis: str | None) -> Decision:
    """The decision for a basis already computed (``basis_expression``), with its grant's request."""
    if not basis:
        return Decision(False, "none", _("记录不存在或您无权查看。"))
    request = None
    if basis in GRANT_RULES:
        item = (
            active_grant_items(person, action, confidential=basis == "grant_confidential")
            .filter(recording_id=recording_id).select_related("request").order_by("-request_id").first()
        )
        request = item.request if item is not None else None
    return Decision(True, basis, request=request)


def upload_units(person) -> QuerySet[Unit]:
    """The units ``person`` may file a recording into (empty: they may not upload)."""
    if not getattr(person, "is_authenticated", False) or not person.has_role(*UPLOAD_ROLES):
        return Unit.objects.none()
    if person.has_role(*SEPARATED_ADMIN_ROLES, Role.LEGAL_OFFICE):
        return Unit.objects.none()  # an administrator or the legal office, whatever else they hold
    if person.department_id and person.has_role(Role.DEPARTMENT_HEAD):
        return Unit.objects.filter(department_id=person.department_id).order_by("code")
    if person.unit_id:
        return Unit.objects.filter(pk=person.unit_id)
    return Unit.objects.none()


def nameable_officers(units) -> QuerySet[Person]:
    """The people who may be named as officers of a recording in one of ``units``."""
    return (
        Person.objects.filter(unit__in=units, is_active=True, role_assignments__role=Role.OFFICER)
        .distinct()
        .order_by("unit_id", "badge_number", "pk")
    )


def decide_upload(person, unit: Unit | None) -> Decision:
    """May ``person`` file a recording into ``unit`` (``None``: their own unit)?"""
    units = upload_units(person)
    if not units.exists():
        return Decision(False, "no_upload_role", _("您的角色不能上传执法音像记录。"))
    if unit is None:
        if person.unit_id and units.filter(pk=person.unit_id).exists():
            return Decision(True, "own_unit")
        return Decision(False, "no_unit", _("无法确定采集机构：上传人未归属执法机构，请选择采集机构。"))
    if units.filter(pk=unit.pk).exists():
        return Decision(True, "own_unit" if unit.pk == person.unit_id else "department_unit")
    return Decision(False, "other_unit", _("无权为该采集机构上传记录。"))


def decide_officers(unit: Unit, officer_ids) -> Decision:
    """May these people be named as officers of a recording of ``unit``?"""
    ids = set(officer_ids)
    allowed = set(nameable_officers([unit]).filter(pk__in=ids).values_list("pk", flat=True))
    if ids <= allowed:
        return Decision(True, "unit_officers")
    return Decision(False, "not_unit_officer", _("只能关联本采集机构的执法人员。"))
