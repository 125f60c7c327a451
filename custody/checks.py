"""check_custody_log(): a pure checker of the whole log, returning a report (habit 5).

It re-derives every leaf from its event row, subjects and details, rebuilds the tree from those
leaves alone and compares every stored node and every checkpoint (stored, or handed in from
outside: a witness's, an auditor's) with it, then cross-checks the rows the log speaks of
(checkpoints, verification results, the access register) both ways. It writes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from custody import merkle
from custody.choices import EventCode
from custody.entries import digest_of, entry_leaf_hash
from custody.models import (
    ChainVerification,
    Checkpoint,
    Event,
    EventSubject,
    Leaf,
    PendingEvent,
    TreeNode,
)
from custody.rows import event_rows
from custody.verifier import note

# A queued event older than this means the sequencer is not running (or its queue was edited).
STALLED_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class ChainFinding:
    seq: int | None  # the event concerned (its number); None when the finding is about another row
    problem: str  # stable code
    message: str  # Chinese, for people
    entry: int | None = None  # the access register entry concerned, if any
    leaf: int | None = None  # the leaf concerned, if any

    def as_stored(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}


# Findings that name a range of leaves (a subtree, the leaves between two checkpoints) by its
# first leaf; every other finding with a leaf names exactly that leaf.
RANGE_PROBLEMS = frozenset({"node_altered", "checkpoint_mismatch", "checkpoint_fork"})


def first_bad_leaf(findings) -> int | None:
    """The leaf to look at first: the lowest leaf a finding names exactly, else the lowest start
    of a range (when the tree was rebuilt, only ranges can be named)."""
    exact = [f.leaf for f in findings if f.leaf is not None and f.problem not in RANGE_PROBLEMS]
    ranges = [f.leaf for f in findings if f.leaf is not None and f.problem in RANGE_PROBLEMS]
    return min(exact) if exact else min(ranges, default=None)


@dataclass
class LogReport:
    findings: list[ChainFinding] = field(default_factory=list)
    leaves: int = 0
    root_hex: str = ""
    checkpoints: int = 0
    erased: int = 0
    pending: int = 0


def check_custody_chain(**kwargs) -> list[ChainFinding]:
    """The findings of ``check_custody_log`` alone (an empty list: everything holds)."""
    return check_custody_log(**kwargs).findings


def check_custody_log(*, batch_size: int = 5000, include_register: bool = True,
                      external_checkpoints: list[str] | tuple = ()) -> LogReport:
    report = LogReport()
    stored = list(Checkpoint.objects.order_by("size").values("pk", "size", "root", "note"))
    external = _parse_external(external_checkpoints, report)
    wanted = {cp["size"] for cp in stored} | {cp.size for cp, _text in external}
    roots = _check_tree(report, batch_size=batch_size, wanted=wanted)
    _check_checkpoints(report, stored, external, roots)
    _check_unsequenced(report)
    _check_logged_rows(report)
    if include_register:
        report.findings += check_access_register()
    return report


# --- leaves and tree -----------------------------------------------------------------------


def _stored_nodes(created: list[tuple[int, int, bytes]]) -> dict[tuple[int, int], str]:
    spans: dict[int, list[int]] = {}
    for level, index, _value in created:
        spans.setdefault(level, []).append(index)
    query = Q()
    for level, indexes in spans.items():
        query |= Q(level=level, index__gte=min(indexes), index__lte=max(indexes))
    return {(lv, ix): h for lv, ix, h in TreeNode.objects.filter(query).values_list("level", "index", "hash")}


def _erasure_ok(event_id: int, erased_by: int) -> bool:
    return EventSubject.objects.filter(
        event_id=erased_by, event__action=EventCode.DETAILS_ERASED.value,
        subject_type="event", subject_id=str(event_id),
    ).exists()


def _check_leaf(report: LogReport, index: int, event_id: int, row, subjects, details, stored_leaf) -> bytes | None:
    add = report.findings.append
    if row is None:
        add(ChainFinding(event_id, "event_missing", f"第 {index} 号叶子的事件（第 {event_id} 号）不存在（已被删除）", leaf=index))
        return bytes.fromhex(stored_leaf) if stored_leaf else None
    value = entry_leaf_hash(row, subjects)
    if stored_leaf != value.hex():
        add(ChainFinding(event_id, "altered", f"第 {event_id} 号事件（第 {index} 号叶子）的内容与其叶子哈希不符（已被改动或调换）", leaf=index))
    if details is None:
        add(ChainFinding(event_id, "details_missing", f"第 {event_id} 号事件的详情行不存在（已被删除）", leaf=index))
    elif details["erased_by"] is not None:
        if details["content"] or details["salt"] or not _erasure_ok(event_id, details["erased_by"]):
            add(ChainFinding(event_id, "erasure_unexplained",
                             f"第 {event_id} 号事件的详情被清除，但没有对应的依法删除事件（第 {details['erased_by']} 号）", leaf=index))
        else:
            report.erased += 1
    elif not details["salt"] or digest_of(details["salt"], details["content"]) != row["details_digest"]:
        add(ChainFinding(event_id, "details_altered", f"第 {event_id} 号事件的详情与其摘要不符（详情已被改动）", leaf=index))
    return value


def _stop(report: LogReport, frontier: merkle.Frontier, roots: dict[int, bytes]) -> dict[int, bytes]:
    """The tree as far as it could be rebuilt: checkpoints beyond it are reported against it."""
    report.leaves, report.root_hex = frontier.size, frontier.root().hex()
    return roots


def _check_tree(report: LogReport, *, batch_size: int, wanted: set[int]) -> dict[int, bytes]:
    frontier = merkle.Frontier()
    roots: dict[int, bytes] = {}
    if 0 in wanted:
        roots[0] = merkle.EMPTY_ROOT
    next_index = 0
    while True:
        leaves = list(Leaf.objects.filter(index__gte=next_index).order_by("index").values_list("index", "event_id")[:batch_size])
        if not leaves:
            break
        ids = [event_id for _i, event_id in leaves]
        rows, subjects, details = event_rows(ids)
        first, last = leaves[0][0], leaves[-1][0]
        stored_leaves = dict(TreeNode.objects.filter(level=0, index__gte=first, index__lte=last).values_list("index", "hash"))
        created_all = []
        for index, event_id in leaves:
            if index != frontier.size:
                report.findings.append(ChainFinding(None, "leaf_gap", f"叶子序号不连续：应为 {frontier.size}，实为 {index}（有叶子缺失）", leaf=frontier.size))
                return _stop(report, frontier, roots)  # positions after a hole match nothing
            value = _check_leaf(report, index, event_id, rows.get(event_id), subjects.get(event_id, ()),
                                details.get(event_id), stored_leaves.get(index))
            if value is None:
                return _stop(report, frontier, roots)
            created_all += frontier.append(value)
            if frontier.size in wanted:
                roots[frontier.size] = frontier.root()
        stored = _stored_nodes([n for n in created_all if n[0] > 0])
        for level, index, value in created_all:
            if level == 0:
                continue
            if stored.get((level, index)) != value.hex():
                lo, hi = index << level, ((index + 1) << level) - 1
                report.findings.append(ChainFinding(None, "node_altered", f"默克尔树节点（第 {lo}–{hi} 号叶子）缺失或与叶子不符", leaf=lo))
        next_index = last + 1
    report.leaves = frontier.size
    report.root_hex = frontier.root().hex()
    roots.setdefault(frontier.size, frontier.root())
    return roots


# --- checkpoints ----------------------------------------------------------------------------


def _parse_external(texts, report: LogReport) -> list[tuple[note.Checkpoint, str]]:
    out = []
    for i, text in enumerate(texts, 1):
        try:
            out.append((note.parse_checkpoint(text), text))
        except note.NoteError as exc:
            report.findings.append(ChainFinding(None, "external_unreadable", f"外部检查点 {i} 无法解析：{exc}"))
    return out


def _check_checkpoints(report: LogReport, stored, external, roots: dict[int, bytes]) -> None:
    from custody.checkpoints import check_cosignatures_of
    from custody.keys import verifying_keys
    from custody.signing import verify_checkpoint

    ed_keys, sm2_keys = verifying_keys()
    agreeing: set[int] = set()  # sizes whose (validly signed) checkpoint matches the rebuilt tree
    signed: dict[int, tuple[bytes, str]] = {}  # size -> a validly signed root, to spot forks
    items = [(cp["size"], bytes.fromhex(cp["root"]), cp["note"], f"第 {cp['pk']} 号检查点") for cp in stored]
    items += [(cp.size, cp.root, text, "外部检查点") for cp, text in external]
    for size, root, text, label in sorted(items, key=lambda item: item[0]):
        check = verify_checkpoint(text, ed25519_keys=ed_keys, sm2_keys=sm2_keys)
        if not check.ok:
            report.findings.append(ChainFinding(None, "checkpoint_signature",
                                                f"{label}（树大小 {size}）的签名无效：{'；'.join(check.problems)}"))
            continue
        if check.checkpoint.size != size or check.checkpoint.root != root:
            report.findings.append(ChainFinding(None, "checkpoint_row_altered", f"{label}的记录与其签名内容不符"))
            continue
        other = signed.setdefault(size, (root, label))
        if other[0] != root:
            report.findings.append(ChainFinding(
                None, "checkpoint_fork", f"{label}与{other[1]}的树大小都是 {size}，根哈希却不同：日志有两个版本（分叉）",
                leaf=max((s for s in agreeing if s < size), default=0)))
        if size > report.leaves:
            report.findings.append(ChainFinding(
                None, "truncated", f"{label}覆盖 {size} 个叶子，树现在只有 {report.leaves} 个（第 {report.leaves} 号叶子起被删除）",
                leaf=report.leaves))
        elif roots.get(size) != root:
            start = max((s for s in agreeing if s < size), default=0)
            report.findings.append(ChainFinding(
                None, "checkpoint_mismatch",
                f"{label}（树大小 {size}）与当前的树不符：第 {start}–{size - 1} 号叶子之间的事件被改动、删除、插入或调换",
                leaf=start))
        else:
            agreeing.add(size)
    report.checkpoints = len(stored)
    report.findings += check_cosignatures_of()


def _check_unsequenced(report: LogReport) -> None:
    leafless = Event.objects.filter(~Exists(Leaf.objects.filter(event_id=OuterRef("pk"))))
    pending = PendingEvent.objects.filter(event_id=OuterRef("pk"))
    lost = leafless.filter(~Exists(pending)).order_by("pk").values_list("pk", flat=True)[:100]
    for event_id in lost:
        report.findings.append(ChainFinding(event_id, "unsequenced", f"第 {event_id} 号事件既不在树中也不在待入树队列中"))
    report.pending = PendingEvent.objects.count()
    _check_pending_details(report)
    stalled = leafless.filter(Exists(pending), occurred_at__lt=timezone.now() - STALLED_AFTER).order_by("pk").first()
    if stalled is not None:
        report.findings.append(ChainFinding(stalled.pk, "sequencer_stalled",
                                            f"第 {stalled.pk} 号事件等待入树已超过 10 分钟（排序任务未运行）"))


def _check_pending_details(report: LogReport, batch_size: int = 5000) -> None:
    """Queued events have no leaf yet, but their rows already commit to their details: an
    edit made before the sequencer ran is found now, not only after integration."""
    last = 0
    while True:
        ids = list(PendingEvent.objects.filter(event_id__gt=last).order_by("event_id")
                   .values_list("event_id", flat=True)[:batch_size])
        if not ids:
            return
        last = ids[-1]
        rows, _subjects, details = event_rows(ids)
        for event_id in ids:
            row, d = rows.get(event_id), details.get(event_id)
            if row is None or d is None or d["erased_by"] is not None:
                continue  # a missing row is reported by the sequencer and verification; erasure by the leaf check
            if not d["salt"] or digest_of(d["salt"], d["content"]) != row["details_digest"]:
                report.findings.append(ChainFinding(
                    event_id, "details_altered", f"第 {event_id} 号事件（待入树）的详情与其摘要不符（详情已被改动）"))


def _check_logged_rows(report: LogReport) -> None:
    """Rows the log announces must exist: each signed checkpoint, each stored verification."""
    for model, action, problem, label in (
        (Checkpoint, EventCode.CHECKPOINT_SIGNED, "checkpoint_missing", "检查点"),
        (ChainVerification, EventCode.CHAIN_VERIFIED, "verification_missing", "保管链校验结果"),
    ):
        exists = model.objects.annotate(pk_text=Cast("pk", CharField())).filter(pk_text=OuterRef("subject_id"))
        missing = (Event.objects.filter(action=action.value).filter(~Exists(exists))
                   .order_by("pk").values_list("pk", "subject_id")[:100])
        for event_id, subject_id in missing:
            report.findings.append(ChainFinding(event_id, problem,
                                                f"第 {event_id} 号事件记载的第 {subject_id} 号{label}不存在（已被删除）"))
    _check_verification_rows(report)


def _check_verification_rows(report: LogReport) -> None:
    """Each stored verification result says what its event says (few rows: one a day or so)."""
    announced = {
        subject_id: (event_id, content)
        for event_id, subject_id, content in Event.objects.filter(action=EventCode.CHAIN_VERIFIED.value)
        .values_list("pk", "subject_id", "details_row__content")
    }
    for row in ChainVerification.objects.order_by("pk").values(
        "pk", "status", "last_seq", "last_hash", "first_broken_seq", "findings"
    ).iterator():
        event_id, content = announced.get(str(row["pk"]), (None, None))
        if not content:  # no event (reported above) or erased details: nothing to compare
            continue
        said = {
            "status": content.get("status"),
            "last_seq": content.get("tree_size", content.get("last_seq")),
            "last_hash": content.get("root", content.get("last_hash")),
            "first_broken_seq": content.get("first_broken_seq"),
        }
        count = content.get("findings")
        stored_count = len(row["findings"]) if isinstance(row["findings"], list) else None
        differs = [k for k, v in said.items() if row[k] != v]
        if isinstance(count, int) and stored_count is not None and stored_count != min(count, 100):
            differs.append("findings")
        if differs:
            report.findings.append(ChainFinding(
                event_id, "verification_altered",
                f"第 {row['pk']} 号保管链校验结果与其事件（第 {event_id} 号）的记载不符（{'、'.join(differs)} 被改动）"))


# --- the access register against the log (ACC-2) ------------------------------------------

# What access/services.py writes for each register action: the event code, and for a
# derivative view ``details.action == "derivative_view"`` on an ``access.viewed`` event.
ACCESS_EVENTS = (EventCode.VIEWED.value, EventCode.PLAYED.value, EventCode.DOWNLOADED.value)
DEFAULT_REGISTER_LIMIT = 1000


def _access_events():
    """Access events with the register entry they name as text (``details->>'access_entry'``)."""
    linked = EventSubject.objects.filter(event_id=OuterRef("pk"), subject_type="accessentry").values("subject_id")[:1]
    return Event.objects.filter(action__in=ACCESS_EVENTS).annotate(
        # The entry the event is linked to (in its leaf); events from before the link table name
        # it in their details. Cast: a plain text value, so comparisons are text comparisons.
        entry_ref=Coalesce(
            Subquery(linked, output_field=CharField()),
            Cast(KeyTextTransform("access_entry", "details_row__content"), CharField()),
        ),
        detail_action=Cast(KeyTextTransform("action", "details_row__content"), CharField()),
    )


def _matches_entry():
    """The access events that are exactly the outer entry's: same entry, action, recording and
    person, and the same purpose (unless the event's details were lawfully erased)."""
    entry_action = Case(
        When(action=EventCode.PLAYED.value, then=Value("play")),
        When(action=EventCode.DOWNLOADED.value, then=Value("download")),
        When(detail_action="derivative_view", then=Value("derivative_view")),
        default=Value("view"),
        output_field=CharField(),
    )
    purpose = Cast(KeyTextTransform("purpose", "details_row__content"), CharField())
    return _access_events().annotate(entry_action=entry_action, detail_purpose=purpose).filter(
        Q(detail_purpose=OuterRef("purpose")) | Q(details_row__erased_by__isnull=False),
        entry_ref=Cast(OuterRef("pk"), CharField()),
        entry_action=OuterRef("action"),
        subject_type="recording",
        subject_id=Cast(OuterRef("recording_id"), CharField()),
        actor_id=OuterRef("person_id"),
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
                                         f"第 {pk} 号查阅登记的保管链事件与登记不符（方式、录像、人员或事由不同）", entry=pk))
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
        .order_by("pk").values_list("pk", "entry_ref")
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
        for seq, ref in _access_events().filter(entry_ref__in=doubled).order_by("pk").values_list("pk", "entry_ref"):
            if ref in seen:
                findings.append(ChainFinding(seq, "register_event_duplicate",
                                             f"第 {seq} 号事件重复登记了第 {ref} 号查阅登记（该登记已有事件）",
                                             entry=int(ref) if ref.isdigit() else None))
            seen.add(ref)
    return findings
