"""Restricted reads of the custody log: the audit administrator's log browser (ACC-5).

Only the audit administrator reads the whole log (every other role: nothing here, default
deny). Pages are keyset pages on the event number (``id``) — never OFFSET, never a COUNT over
the table — so a page costs the same at ten million events as at ten.

Indexes each filter relies on (ordered by ``id`` so that ``ORDER BY id DESC LIMIT n`` is an
index range scan): ``(actor, id)``, ``(action, id)``, ``(actor_name, id)``, ``(occurred_at)``;
a subject filter goes through the link table's ``(subject_type, subject_id, event)``, so it
finds every event concerning the subject, not only those naming it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.bounds import period_q
from custody.models import ChainVerification, Event, EventSubject
from orgs.choices import Role

# A name typed into the actor filter matches at most this many people (then the exact name).
ACTOR_MATCH_LIMIT = 50

# What ``subject_type`` holds (custody.services._subject_ref: model names and a few pairs),
# as people name it. A type not listed here shows as 其他对象 (raw value in 技术细节).
SUBJECT_TYPES = {
    "recording": _("音像记录"),
    "storedobject": _("存储对象"),
    "derivative": _("衍生资料"),
    "upload": _("上传任务"),
    "ingestitem": _("入库条目"),
    "fixitycheck": _("完整性校验"),
    "accessentry": _("查阅登记"),
    "accessrequest": _("调阅申请"),
    "securityfinding": _("安全提示"),
    "person": _("人员"),
    "account": _("登录账号"),
    "department": _("部门"),
    "unit": _("执法机构"),
    "roleassignment": _("角色授予"),
    "apitoken": _("接口令牌"),
    "chainverification": _("保管链校验"),
    "system": _("系统"),
}

T = TypeVar("T")


def can_read_audit(user) -> bool:
    """The audit administrator alone reads the log and the register as a whole."""
    return bool(user is not None and user.is_authenticated and user.has_role(Role.AUDIT_ADMIN))


def people_matching(text: str) -> list[int]:
    """Ids of people whose name or account contains ``text`` (bounded; the people table is small)."""
    from orgs.models import Person

    text = text.strip()
    if not text:
        return []
    return list(
        Person.objects.filter(Q(full_name__icontains=text) | Q(username__icontains=text))
        .order_by("pk")
        .values_list("pk", flat=True)[:ACTOR_MATCH_LIMIT]
    )


def person_q(id_field: str, name_field: str, person_id: int | None, text: str) -> Q:
    """A person filter: an id typed as such, else the people the text matches or the stored
    name exactly (names are kept as text beside the id, so departed people still match)."""
    if person_id is not None:
        return Q(**{id_field: person_id})
    if text:
        return Q(**{f"{id_field}__in": people_matching(text)}) | Q(**{name_field: text})
    return Q()


@dataclass(frozen=True)
class EventFilter:
    actor_id: int | None = None  # an id typed into the actor field
    actor_text: str = ""  # a name: the people it matches, or the stored name exactly
    action: str = ""
    subject_type: str = ""
    subject_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page, newest first, with the keys of the links to its neighbours."""

    rows: list[T]
    older: int | None  # ``before=`` of the next older page, None when there is none
    newer: int | None  # ``after=`` of the next newer page, None when this is the newest


def list_events(user, flt: EventFilter | None = None) -> QuerySet[Event]:
    if not can_read_audit(user):
        return Event.objects.none()
    qs = Event.objects.all()
    if flt is None:
        return qs
    qs = qs.filter(person_q("actor_id", "actor_name", flt.actor_id, flt.actor_text))
    if flt.action:
        qs = qs.filter(action=flt.action)
    if flt.subject_type or flt.subject_id:
        links = EventSubject.objects.all()
        if flt.subject_type:
            links = links.filter(subject_type=flt.subject_type)
        if flt.subject_id:
            links = links.filter(subject_id=flt.subject_id)
        qs = qs.filter(pk__in=links.values("event_id"))
    return qs.filter(period_q("occurred_at", flt.date_from, flt.date_to))


def keyset_page(
    qs: QuerySet, key: str, *, before: int | None = None, after: int | None = None, size: int
) -> KeysetPage:
    """A page of ``qs`` by the unique, increasing ``key``: newest first.

    At most three indexed queries, however long the table: the page (one row more than
    ``size`` tells whether another page follows) and, when walking from a key, whether
    anything lies on the other side of it.
    """
    if after is not None:
        rows = list(qs.filter(**{f"{key}__gt": after}).order_by(key)[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        if not rows:  # nothing newer: show the newest page instead
            return keyset_page(qs, key, size=size)
        more_older = qs.filter(**{f"{key}__lt": getattr(rows[-1], key)}).exists()
    else:
        page = qs.filter(**{f"{key}__lt": before}) if before is not None else qs
        rows = list(page.order_by(f"-{key}")[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        if before is None:
            more_newer = False
        elif rows:
            more_newer = qs.filter(**{f"{key}__gt": getattr(rows[0], key)}).exists()
        else:
            more_newer = qs.filter(**{f"{key}__gte": before}).exists()
    return KeysetPage(
        rows=rows,
        older=getattr(rows[-1], key) if rows and more_older else None,
        newer=(getattr(rows[0], key) if rows else before - 1) if more_newer else None,
    )


def list_verifications(user) -> QuerySet[ChainVerification]:
    if not can_read_audit(user):
        return ChainVerification.objects.none()
    return ChainVerification.objects.select_related(None)


def latest_verification(user) -> ChainVerification | None:
    return list_verifications(user).order_by("-pk").first()
