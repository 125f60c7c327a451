"""check_custody_chain(): a pure checker returning findings (habit 5).

It checks the hash chain and then the access register against the log both ways
(``check_access_register``): one stored verification result covers both.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from custody.choices import EventCode
from custody.hashing import event_hash
from custody.models import GENESIS_HASH, Event


@dataclass(frozen=True)
class ChainFinding:
    seq: int | None  # the event concerned; None when the finding is about a register entry alone
    problem: str  # stable code
    message: str  # Chinese, for people
    entry: int | None = None  # the access register entry concerned, if any


def check_custody_chain(*, batch_size: int = 5000, stop_at_first: bool = False,
                        include_register: bool = True) -> list[ChainFinding]:
    findings = _check_chain(batch_size=batch_size, stop_at_first=stop_at_first)
    if include_register and not (findings and stop_at_first):
        register = check_access_register()
        findings += register[:1] if stop_at_first else register
    return findings


def _check_chain(*, batch_size: int, stop_at_first: bool) -> list[ChainFinding]:
    findings: list[ChainFinding] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    fields = ["seq", "occurred_at", "actor_id", "actor_name", "action", "subject_type",
              "subject_id", "details", "request_id", "prev_hash", "hash"]
    last_seq = 0
    while True:
        rows = list(Event.objects.filter(seq__gt=last_seq).order_by("seq").values(*fields)[:batch_size])
        if not rows:
            break
        for row in rows:
            last_seq = row["seq"]
            if row["seq"] != expected_seq:
                findings.append(ChainFinding(row["seq"], "gap", f"序号不连续：应为 {expected_seq}，实为 {row['seq']}（有事件缺失）"))
            if row["prev_hash"] != expected_prev:
                findings.append(ChainFinding(row["seq"], "broken_link", f"第 {row['seq']} 号事件的前序哈希与上一事件不符"))
            if event_hash(row) != row["hash"]:
                findings.append(ChainFinding(row["seq"], "altered", f"第 {row['seq']} 号事件的内容与其哈希不符（已被改动）"))
            if findings and stop_at_first:
                return findings
            expected_prev, expected_seq = row["hash"], row["seq"] + 1
    return findings


# --- the access register against the log (ACC-2) ------------------------------------------

# What access/services.py writes for each register action: the event code, and for a
# derivative view ``details.action == "derivative_view"`` on an ``access.viewed`` event.
ACCESS_EVENTS = (EventCode.VIEWED.value, EventCode.PLAYED.value, EventCode.DOWNLOADED.value)
DEFAULT_REGISTER_LIMIT = 1000


def _access_events():
    """Access events with the register entry they name as text (``details->>'access_entry'``)."""
    return Event.objects.filter(action__in=ACCESS_EVENTS).annotate(
        # Cast: a plain text value, so comparisons are text comparisons (not JSON ones).
        entry_ref=Cast(KeyTextTransform("access_entry", "details"), CharField()),
        detail_action=Cast(KeyTextTransform("action", "details"), CharField()),
    )


def _matches_entry():
    """The access events that are exactly the outer entry's: same entry, action and recording."""
    entry_action = Case(
        When(action=EventCode.PLAYED.value, then=Value("play")),
        When(action=EventCode.DOWNLOADED.value, then=Value("download")),
        When(detail_action="derivative_view", then=Value("derivative_view")),
        default=Value("view"),
        output_field=CharField(),
    )
    return _access_events().annotate(entry_action=entry_action).filter(
        entry_ref=Cast(OuterRef("pk"), CharField()),
        entry_action=OuterRef("action"),
        subject_type="recording",
        subject_id=Cast(OuterRef("recording_id"), CharField()),
    )


def check_access_register(*, limit: int = DEFAULT_REGISTER_LIMIT) -> list[ChainFinding]:
    """Every register entry has its event, and every access event names an existing entry.

    Set-based: anti-joins on ``details->>'access_entry'`` (compared as text, so a hand-edited
    non-numeric value is a finding, not a crash), never a Python loop over the log. At most
    ``limit`` findings of each kind are returned, then one finding saying how many more.
    """
    from access.models import AccessEntry

    findings: list[ChainFinding] = []

    # 1. Entries without their event (event deleted, or its link edited away), or whose only
    #    events disagree with them (another action or another recording).
    any_event = _access_events().filter(entry_ref=Cast(OuterRef("pk"), CharField()))
    unlogged = (
        AccessEntry.objects.annotate(has_any=Exists(any_event), has_match=Exists(_matches_entry()))
        .filter(has_match=False).order_by("pk").values_list("pk", "has_any")
    )
    rows = list(unlogged[: limit + 1])
    for pk, has_any in rows[:limit]:
        if has_any:
            findings.append(ChainFinding(None, "register_event_mismatch",
                                         f"第 {pk} 号查阅登记的保管链事件与登记不符（方式或录像不同）", entry=pk))
        else:
            findings.append(ChainFinding(None, "register_entry_unlogged",
                                         f"第 {pk} 号查阅登记在保管链中没有对应事件（事件缺失或已被改动）", entry=pk))
    if len(rows) > limit:
        more = unlogged.count() - limit
        findings.append(ChainFinding(None, "register_more", f"另有 {more} 条查阅登记没有对应事件，未逐条列出"))

    # 2. Access events that name no entry, or an entry that does not exist (deleted).
    entry_exists = AccessEntry.objects.annotate(pk_text=Cast("pk", CharField())).filter(
        pk_text=OuterRef("entry_ref")
    )
    orphans = (
        _access_events().filter(Q(entry_ref__isnull=True) | ~Exists(entry_exists))
        .order_by("seq").values_list("seq", "entry_ref")
    )
    rows = list(orphans[: limit + 1])
    for seq, ref in rows[:limit]:
        if ref is None or ref == "":
            findings.append(ChainFinding(seq, "register_event_unlinked",
                                         f"第 {seq} 号事件是查阅事件，但未指明查阅登记"))
        else:
            entry = int(ref) if ref.isdigit() else None
            findings.append(ChainFinding(seq, "register_entry_missing",
                                         f"第 {seq} 号事件所记的第 {ref} 号查阅登记不存在（登记缺失或已被删除）",
                                         entry=entry))
    if len(rows) > limit:
        more = orphans.count() - limit
        findings.append(ChainFinding(None, "register_more", f"另有 {more} 个查阅事件没有对应登记，未逐条列出"))

    # 3. One entry claimed by several events: every event after the first is a finding.
    doubled = list(
        _access_events().exclude(entry_ref__isnull=True).values("entry_ref")
        .annotate(n=Count("pk")).filter(n__gt=1).order_by("entry_ref").values_list("entry_ref", flat=True)[:limit]
    )
    if doubled:
        seen: set[str] = set()
        for seq, ref in _access_events().filter(entry_ref__in=doubled).order_by("seq").values_list("seq", "entry_ref"):
            if ref in seen:
                findings.append(ChainFinding(seq, "register_event_duplicate",
                                             f"第 {seq} 号事件重复登记了第 {ref} 号查阅登记（该登记已有事件）",
                                             entry=int(ref) if ref.isdigit() else None))
            seen.add(ref)
    return findings
