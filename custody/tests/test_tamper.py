"""An insider with the guards dropped (ACC-5, ACC-2): every rewrite of history is found.

Each test builds a realistic log (a recording, views, plays and downloads registered through
the access services, a stored verification), has a real witness co-sign two checkpoints
through the platform's API (``django.test.Client`` with an audit administrator's bearer
token), then drops the database guards of the tables it touches (per vendor, by their
names in core/guards.py and custody/migrations/0009) and rewrites history the way an
insider would — usually leaving the database self-consistent (every tree node recomputed).
``check_custody_log`` with the checkpoint the witness holds, and ``verify_custody_chain``,
must find it and name the first bad leaf.

Every attack runs inside ``tampering()``: a savepoint rolled back at the end, after which the
test asserts that every guard trigger is back (DDL is transactional on SQLite and
PostgreSQL); a module fixture checks the same once more after the last test's rollback.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from access.choices import AccessAction
from access.models import AccessEntry, ServedRange
from access.services import Span, record_served, register_access, register_read
from core.testing import make_department, make_person, make_recording
from custody import checks, tree, witness
from custody.checkpoints import make_checkpoint
from custody.checks import check_custody_log
from custody.choices import EventCode
from custody.entries import ENTRY_ROW_FIELDS, digest_of, entry_leaf_hash, new_salt
from custody.keys import log_origin
from custody.merkle import Frontier
from custody.models import (
    ChainVerification,
    Checkpoint,
    Cosignature,
    Event,
    EventDetails,
    EventSubject,
    Leaf,
    TreeNode,
)
from custody.sequencer import integrate_all
from custody.services import erase_details, verify_custody_chain
from custody.signing import sign_checkpoint
from custody.testing import ClientTransport, Witness, registered_witness
from orgs.services import issue_api_token

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]

WITNESS_NAME = "audit.example.gov.cn/witness"

# Every append-only table and its guard (core/guards.py; custody_eventdetails has its own
# guard under the same trigger names, custody/migrations/0009).
GUARDED = (
    "custody_event", "custody_eventsubject", "custody_eventdetails", "custody_leaf",
    "custody_treenode", "custody_checkpoint", "custody_cosignature",
    "custody_chainverification", "access_accessentry", "access_servedrange",
)
EVENT_TABLES = ("custody_event", "custody_eventsubject", "custody_eventdetails")
TREE_TABLES = ("custody_leaf", "custody_treenode")
REGISTER_TABLES = ("access_accessentry", "access_servedrange")
CHECKPOINT_TABLES = ("custody_checkpoint", "custody_cosignature")


# --- the guards ---------------------------------------------------------------------------


def _trigger_names(table: str) -> tuple[str, str]:
    if connection.vendor == "postgresql":
        return f"{table}_no_update", f"{table}_no_truncate"  # UPDATE OR DELETE; TRUNCATE
    return f"{table}_no_update", f"{table}_no_delete"


def guard_triggers() -> set[tuple[str, str]]:
    """The (table, trigger) pairs installed and enabled now."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        return set(cursor.fetchall())


def expected_guards() -> set[tuple[str, str]]:
    return {(table, name) for table in GUARDED for name in _trigger_names(table)}


def drop_guards(*tables: str) -> None:
    """What an insider with database access does first (no IF EXISTS: a renamed guard fails loudly)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK events: DROP TRIGGER may run
            for table in tables:
                for name in _trigger_names(table):
                    cursor.execute(f"DROP TRIGGER {name} ON {table}")
        else:
            for table in tables:
                for name in _trigger_names(table):
                    cursor.execute(f"DROP TRIGGER {name}")


class _Undo(Exception):
    pass


@contextlib.contextmanager
def tampering(*tables: str):
    """Guards of ``tables`` dropped inside a savepoint; everything is rolled back on leaving,
    and every guard must be back then."""
    assert expected_guards() <= guard_triggers()
    with contextlib.suppress(_Undo), transaction.atomic():
        drop_guards(*tables)
        assert not {(t, n) for t in tables for n in _trigger_names(t)} & guard_triggers()
        yield
        raise _Undo
    assert expected_guards() <= guard_triggers(), "a dropped guard survived the rollback"


@pytest.fixture(scope="module", autouse=True)
def guards_back_after_the_module(django_db_setup, django_db_blocker):
    yield
    with django_db_blocker.unblock():  # after the last test's own rollback
        assert expected_guards() <= guard_triggers()


# --- the log, witnessed through the real API ------------------------------------------------


@dataclass
class Log:
    recording: object
    other_recording: object
    officer: object
    entries: dict[str, AccessEntry]
    cp1: Checkpoint
    cp2: Checkpoint
    verification: ChainVerification
    witness: Witness
    transport: ClientTransport

    @property
    def state_dir(self) -> Path:
        return self.witness.state_dir

    @property
    def held(self) -> str:
        """The checkpoint the witness holds (its state.json), cosignature line included."""
        return self.witness.held_checkpoint()

    def state_bytes(self) -> bytes:
        return (self.state_dir / witness.STATE_FILE).read_bytes()


def event_of(entry: AccessEntry) -> Event:
    return Event.objects.get(details_row__content__access_entry=entry.pk)


def leaf_of(event: Event | int) -> int:
    return Leaf.objects.get(event_id=getattr(event, "pk", event)).index


def order() -> list[int]:
    """The event ids in leaf order."""
    return list(Leaf.objects.order_by("index").values_list("event_id", flat=True))


@pytest.fixture
def log(tmp_path, settings) -> Log:
    auditor = make_person("audit_admin", department=make_department(), full_name="审计管理员")
    _row, token = issue_api_token(auditor, "见证人轮询", actor=None)
    recording = make_recording(case_number="某市监处罚〔2026〕15号", party="某某食品有限公司")
    other = make_recording()
    officer = recording.primary_officer
    held_by = registered_witness(tmp_path, settings, WITNESS_NAME)  # log keys made here
    transport = ClientTransport(Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    cp1 = make_checkpoint()
    first = held_by.poll(transport)
    assert first.status == witness.COSIGNED and first.new_size == cp1.size, first.message

    entries = {
        "view": register_access(recording, actor=officer, action=AccessAction.VIEW, purpose="案件审核"),
        "play": register_access(recording, actor=officer, action=AccessAction.PLAY, play_ref="p" * 32),
        "download": register_read(recording, actor=officer, action=AccessAction.DOWNLOAD, span=Span(0, 4095, True)),
        "poster": register_access(recording, actor=officer, action=AccessAction.DERIVATIVE_VIEW,
                                  play_ref="d" * 32, derivative_kind="poster"),
        "view2": register_access(recording, actor=officer, action=AccessAction.VIEW, purpose="复核"),
    }
    record_served(entries["play"], Span(0, 1023))
    record_served(entries["play"], Span(1024, 4095))
    verification = verify_custody_chain()
    assert verification.status == "pass", verification.findings
    cp2 = make_checkpoint()
    second = held_by.poll(transport)
    assert second.status == witness.COSIGNED and second.new_size == cp2.size, second.message
    assert "一致性证明校验通过" in second.message  # from cp1's size, through the proofs API
    assert Cosignature.objects.filter(checkpoint=cp2).count() == 1
    integrate_all()
    result = Log(recording, other, officer, entries, cp1, cp2, verification, held_by, transport)
    # every affected event is covered by the witnessed checkpoint
    assert cp1.size <= leaf_of(event_of(entries["view"])) and leaf_of(Event.objects.get(
        action=EventCode.CHAIN_VERIFIED, subject_id=str(verification.pk))) < cp2.size
    assert held_by.held_size() == cp2.size
    report = check_custody_log(external_checkpoints=[result.held])
    assert report.findings == [] and report.checkpoints == 2 and report.leaves == tree.tree_size()
    return result


# --- what an insider does -----------------------------------------------------------------


def rewrite_leaves(event_ids: list[int]) -> None:
    """Give the leaves new positions (delete them all, write them again in this order)."""
    now = timezone.now()
    Leaf.objects.all().delete()
    Leaf.objects.bulk_create([Leaf(index=i, event_id=e, integrated_at=now) for i, e in enumerate(event_ids)])


def rehash() -> None:
    """Recompute every leaf and node from the rows as they are now: a self-consistent tree."""
    frontier, nodes = Frontier(), []
    leaves = list(Leaf.objects.order_by("index").values_list("index", "event_id"))
    rows = {r["id"]: r for r in Event.objects.values("id", *ENTRY_ROW_FIELDS)}
    subjects: dict[int, list] = {}
    for event_id, kind, ident in EventSubject.objects.values_list("event_id", "subject_type", "subject_id"):
        subjects.setdefault(event_id, []).append((kind, ident))
    for index, event_id in leaves:
        assert index == frontier.size
        nodes += frontier.append(entry_leaf_hash(rows[event_id], subjects.get(event_id, ())))
    TreeNode.objects.all().delete()
    TreeNode.objects.bulk_create([TreeNode(level=lv, index=ix, hash=h.hex()) for lv, ix, h in nodes])


def forge_view(log: Log, *, with_entry: bool) -> Event:
    """An access.viewed event written by hand (a proper salted digest), no leaf yet; with a
    register entry to match when ``with_entry``."""
    entry_pk = 999_999
    if with_entry:
        entry_pk = AccessEntry.objects.create(
            occurred_at=timezone.now(), person=log.officer, person_name=log.officer.display_name,
            recording=log.recording, action=AccessAction.VIEW, purpose="例行检查").pk
    content = {"purpose": "例行检查", "approval_ref": "", "access_entry": entry_pk}
    salt = new_salt()
    event = Event.objects.create(
        event_uid=uuid.uuid4(), occurred_at=timezone.now(), actor_id=log.officer.pk,
        actor_name=log.officer.display_name, action=EventCode.VIEWED.value, subject_type="recording",
        subject_id=str(log.recording.pk), details_digest=digest_of(salt, content), request_id="forged")
    EventDetails.objects.create(event=event, content=content, salt=salt)
    EventSubject.objects.bulk_create([  # the subjects register_access gives it: recording and entry
        EventSubject(event=event, subject_type="accessentry", subject_id=str(entry_pk)),
        EventSubject(event=event, subject_type="recording", subject_id=str(log.recording.pk)),
    ])
    return event


def delete_events(event_ids) -> None:
    Event.objects.filter(pk__in=event_ids).delete()
    EventDetails.objects.filter(event_id__in=event_ids).delete()
    EventSubject.objects.filter(event_id__in=event_ids).delete()


def delete_entries(entry_ids) -> None:
    ServedRange.objects.filter(entry_id__in=entry_ids).delete()
    AccessEntry.objects.filter(pk__in=entry_ids).delete()


def stored_ancestors(*leaves: int, size: int) -> list[int]:
    """The first leaf of every stored node (level ≥ 1) above any of ``leaves`` in a tree of
    ``size``, in the order the tree check meets them (the order the nodes were completed)."""
    nodes = set()
    for leaf in leaves:
        level = 1
        while (1 << level) <= size:
            index = leaf >> level
            if (index + 1) << level <= size:
                nodes.add((level, index))
            level += 1
    return [index << level for level, index in sorted(nodes, key=lambda n: ((n[1] + 1) << n[0], n[0]))]


# --- checking ------------------------------------------------------------------------------


def check(log: Log):
    """The report with the witness's checkpoint, and the stored verification (which must agree)."""
    report = check_custody_log(external_checkpoints=[log.held])
    stored = verify_custody_chain(external_checkpoints=[log.held])
    assert stored.status == "fail"
    assert [(f["problem"], f.get("leaf"), f.get("seq")) for f in stored.findings] == [
        (f.problem, f.leaf, f.seq) for f in report.findings]
    first = next((f for f in report.findings if f.seq is not None), None)
    assert stored.first_broken_seq == (first.seq if first else None)
    return report, stored


def problems(report) -> list[tuple[str, int | None]]:
    return [(f.problem, f.leaf) for f in report.findings]


def first_bad_leaf(report) -> int | None:
    return checks.first_bad_leaf(report.findings)


def mismatches(*, matched: int) -> list[tuple[str, int]]:
    """The stored checkpoint 2 and the witness's copy of it, both disagreeing after ``matched``."""
    return [("checkpoint_mismatch", matched), ("checkpoint_mismatch", matched)]


# --- 1. forge and rehash --------------------------------------------------------------------


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("checkpoint_rows", ["kept", "deleted"])
def test_forged_event_inserted_in_the_middle_and_rehashed(log, checkpoint_rows):
    play = event_of(log.entries["play"])
    position = leaf_of(play)
    with tampering(*EVENT_TABLES, *TREE_TABLES, *CHECKPOINT_TABLES):
        forged = forge_view(log, with_entry=True)  # the register agrees: only the tree can tell
        ids = order()
        rewrite_leaves(ids[:position] + [forged.pk] + ids[position:])
        rehash()
        assert leaf_of(forged) == position and tree.tree_size() == len(ids) + 1
        if checkpoint_rows == "deleted":  # the insider removes the stored checkpoints too
            Cosignature.objects.all().delete()
            Checkpoint.objects.all().delete()
        report, stored = check(log)
        if checkpoint_rows == "kept":
            # stored checkpoint 1 still agrees; checkpoint 2 and the witness's copy do not
            assert problems(report) == mismatches(matched=log.cp1.size)
            assert f"第 {log.cp1.size}–{log.cp2.size - 1} 号叶子" in report.findings[0].message
            assert first_bad_leaf(report) == log.cp1.size <= position
        else:
            signed = list(Event.objects.filter(action=EventCode.CHECKPOINT_SIGNED).order_by("pk")
                          .values_list("pk", flat=True))
            assert [(f.problem, f.seq) for f in report.findings] == [
                ("checkpoint_mismatch", None), ("checkpoint_missing", signed[0]), ("checkpoint_missing", signed[1])]
            assert report.findings[0].message.startswith("外部检查点")  # the witness's copy alone
            assert first_bad_leaf(report) == 0 <= position  # nothing stored agrees any more
        assert stored.first_broken_seq == (None if checkpoint_rows == "kept" else signed[0])


@pytest.mark.req("ACC-2")
def test_forged_view_appended_after_the_checkpoint_has_no_register_entry(log):
    with tampering(*EVENT_TABLES, *TREE_TABLES):
        forged = forge_view(log, with_entry=False)
        rewrite_leaves([*order(), forged.pk])
        rehash()
        assert leaf_of(forged) == tree.tree_size() - 1 >= log.cp2.size
        report, stored = check(log)
        assert [(f.problem, f.seq, f.entry) for f in report.findings] == [
            ("register_entry_missing", forged.pk, 999_999)]
        assert stored.first_broken_seq == forged.pk
        # the tree itself agrees with every checkpoint: the window after the last witnessed one
        assert first_bad_leaf(report) is None


# --- 2. edit an event ---------------------------------------------------------------------


@pytest.mark.parametrize("rehashed", [True, False])
def test_edited_event(log, rehashed):
    victim = event_of(log.entries["download"])
    position = leaf_of(victim)
    with tampering(*EVENT_TABLES, *TREE_TABLES):
        Event.objects.filter(pk=victim.pk).update(actor_name="篡改者")
        if rehashed:
            rehash()
        report, stored = check(log)
        if rehashed:
            assert problems(report) == mismatches(matched=log.cp1.size)
            assert first_bad_leaf(report) == log.cp1.size <= position
            assert stored.first_broken_seq is None
        else:
            nodes = stored_ancestors(position, size=report.leaves)
            assert problems(report) == [("altered", position)] + [("node_altered", lo) for lo in nodes] + \
                mismatches(matched=log.cp1.size)
            assert report.findings[0].seq == victim.pk and stored.first_broken_seq == victim.pk
            assert f"第 {victim.pk} 号事件（第 {position} 号叶子）" in report.findings[0].message
            # the finding naming a single leaf names the edited one; node ranges start at or before it
            assert first_bad_leaf(report) == position and min(nodes + [log.cp1.size]) <= position


# --- 3. delete an event ---------------------------------------------------------------------


@pytest.mark.req("ACC-2")
def test_deleted_event_renumbered_and_rehashed(log):
    play = event_of(log.entries["play"])
    position = leaf_of(play)
    with tampering(*EVENT_TABLES, *TREE_TABLES, *REGISTER_TABLES):
        delete_entries([log.entries["play"].pk])  # the register is cleaned too
        delete_events([play.pk])
        rewrite_leaves([e for e in order() if e != play.pk])
        rehash()
        report, stored = check(log)
        assert problems(report) == mismatches(matched=log.cp1.size)
        assert first_bad_leaf(report) == log.cp1.size <= position
        assert stored.first_broken_seq is None


def test_deleted_event_row_is_missing_at_its_leaf(log):
    victim = event_of(log.entries["poster"])
    position = leaf_of(victim)
    with tampering(*EVENT_TABLES):
        delete_events([victim.pk])
        report, _stored = check(log)
        assert problems(report)[0] == ("event_missing", position)
        assert report.findings[0].seq == victim.pk
        assert [(f.problem, f.entry) for f in report.findings[1:]] == [
            ("register_entry_unlogged", log.entries["poster"].pk)]
        assert first_bad_leaf(report) == position


def test_leaf_row_removed_leaves_a_gap_named_at_its_position(log):
    victim = event_of(log.entries["poster"])
    position = leaf_of(victim)
    with tampering(*EVENT_TABLES, *TREE_TABLES, *REGISTER_TABLES):
        delete_entries([log.entries["poster"].pk])
        delete_events([victim.pk])
        Leaf.objects.filter(index=position).delete()
        report, _stored = check(log)
        assert ("leaf_gap", position) in problems(report)
        assert first_bad_leaf(report) == position


# --- 4. truncate the tail -------------------------------------------------------------------


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("checkpoint_rows", ["kept", "deleted"])
def test_truncated_tail(log, checkpoint_rows):
    new_size = log.cp2.size - 2
    with tampering(*EVENT_TABLES, *TREE_TABLES, *REGISTER_TABLES, *CHECKPOINT_TABLES):
        gone = order()[new_size:]
        delete_entries(AccessEntry.objects.filter(pk__in=[
            e.pk for e in log.entries.values() if event_of(e).pk in gone]).values_list("pk", flat=True))
        delete_events(gone)
        Leaf.objects.filter(index__gte=new_size).delete()
        rehash()  # drops every node that reaches past the new tail
        if checkpoint_rows == "deleted":
            Cosignature.objects.filter(checkpoint=log.cp2).delete()
            Checkpoint.objects.filter(pk=log.cp2.pk).delete()
        assert tree.tree_size() == new_size
        report, stored = check(log)
        expected = [("truncated", new_size)] * (2 if checkpoint_rows == "kept" else 1)
        assert problems(report) == expected
        assert f"第 {new_size} 号叶子起被删除" in report.findings[0].message
        assert first_bad_leaf(report) == new_size and stored.last_seq == new_size


# --- 5. reorder two events ------------------------------------------------------------------


@pytest.mark.parametrize("rehashed", [False, True])
def test_two_events_swapped(log, rehashed):
    low, high = leaf_of(event_of(log.entries["play"])), leaf_of(event_of(log.entries["view2"]))
    assert log.cp1.size <= low < high < log.cp2.size
    ids = order()
    with tampering(*TREE_TABLES):
        Leaf.objects.filter(index=low).update(event_id=-1)  # event_id is unique
        Leaf.objects.filter(index=high).update(event_id=ids[low])
        Leaf.objects.filter(index=low).update(event_id=ids[high])
        if rehashed:
            rehash()
        report, _stored = check(log)
        if rehashed:
            assert problems(report) == mismatches(matched=log.cp1.size)
            assert first_bad_leaf(report) == log.cp1.size <= low
        else:
            nodes = stored_ancestors(low, high, size=report.leaves)
            assert problems(report) == [("altered", low), ("altered", high)] + \
                [("node_altered", lo) for lo in nodes] + mismatches(matched=log.cp1.size)
            assert (report.findings[0].seq, report.findings[1].seq) == (ids[high], ids[low])
            assert "调换" in report.findings[0].message
            assert first_bad_leaf(report) == low and min(nodes + [log.cp1.size]) <= low


# --- 6. checkpoint and verification rows ------------------------------------------------------


def test_deleted_checkpoint_row(log):
    announced = Event.objects.get(action=EventCode.CHECKPOINT_SIGNED, subject_id=str(log.cp1.pk))
    with tampering(*CHECKPOINT_TABLES):
        Cosignature.objects.filter(checkpoint=log.cp1).delete()
        Checkpoint.objects.filter(pk=log.cp1.pk).delete()
        report, stored = check(log)
        assert [(f.problem, f.seq) for f in report.findings] == [("checkpoint_missing", announced.pk)]
        assert f"第 {log.cp1.pk} 号检查点不存在" in report.findings[0].message
        assert stored.first_broken_seq == announced.pk


def test_deleted_verification_row(log):
    announced = Event.objects.get(action=EventCode.CHAIN_VERIFIED, subject_id=str(log.verification.pk))
    with tampering("custody_chainverification"):
        ChainVerification.objects.filter(pk=log.verification.pk).delete()
        report, stored = check(log)
        assert [(f.problem, f.seq) for f in report.findings] == [("verification_missing", announced.pk)]
        assert stored.first_broken_seq == announced.pk


def test_edited_checkpoint_row(log):
    with tampering(*CHECKPOINT_TABLES):
        Checkpoint.objects.filter(pk=log.cp1.pk).update(root="00" * 32)
        report, _stored = check(log)
        assert [f.problem for f in report.findings] == ["checkpoint_row_altered"]


def test_edited_verification_row(log):
    with tampering("custody_chainverification"):
        ChainVerification.objects.filter(pk=log.verification.pk).update(status="fail", first_broken_seq=1)
        report = check_custody_log(external_checkpoints=[log.held])
        assert [f.problem for f in report.findings] == ["verification_altered"]


# --- 7. the access register -----------------------------------------------------------------


@pytest.mark.req("ACC-2")
def test_deleted_register_entry(log):
    entry = log.entries["play"]
    event = event_of(entry)
    with tampering(*REGISTER_TABLES):
        delete_entries([entry.pk])
        assert not ServedRange.objects.filter(entry_id=entry.pk).exists()
        report, stored = check(log)
        assert [(f.problem, f.seq, f.entry) for f in report.findings] == [
            ("register_entry_missing", event.pk, entry.pk)]
        assert stored.first_broken_seq == event.pk


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize("change", [
    "recording", "action",
    "person", "purpose",
])
def test_edited_register_entry(log, change):
    entry = log.entries["play"]
    values = {"recording": {"recording": log.other_recording}, "action": {"action": AccessAction.VIEW},
              "person": {"person": log.other_recording.primary_officer,
                         "person_name": log.other_recording.primary_officer.display_name},
              "purpose": {"purpose": "无关用途"}}[change]
    with tampering(*REGISTER_TABLES):
        AccessEntry.objects.filter(pk=entry.pk).update(**values)
        report, _stored = check(log)
        assert [(f.problem, f.entry) for f in report.findings] == [("register_event_mismatch", entry.pk)]


# --- 8. the witness refuses -----------------------------------------------------------------


def _edit_and_rehash(log: Log) -> None:
    Event.objects.filter(pk=event_of(log.entries["download"]).pk).update(actor_name="篡改者")
    rehash()


@pytest.mark.parametrize("how", ["same_size", "larger"])
def test_witness_refuses_a_rewritten_history(log, how):
    before = log.state_bytes()
    edited = leaf_of(event_of(log.entries["download"]))
    cp2_announced = Event.objects.get(action=EventCode.CHECKPOINT_SIGNED, subject_id=str(log.cp2.pk)).pk
    with tampering(*EVENT_TABLES, *TREE_TABLES, *CHECKPOINT_TABLES):
        _edit_and_rehash(log)
        Cosignature.objects.filter(checkpoint=log.cp2).delete()
        Checkpoint.objects.filter(pk=log.cp2.pk).delete()
        if how == "same_size":  # the platform re-signs the old size with the new root
            root = tree.root_at(log.cp2.size)
            Checkpoint.objects.create(size=log.cp2.size, root=root.hex(), created_at=timezone.now(),
                                      note=sign_checkpoint(log_origin(), log.cp2.size, root), trigger="manual")
        else:  # a new, larger checkpoint: consistent with checkpoint 1, which still agrees
            assert make_checkpoint().size > log.cp2.size
        outcome = witness.poll(log.state_dir, log.transport)
        assert (outcome.status, outcome.alarm, outcome.exit_code) == (witness.ALARM, witness.FORK, 1)
        why = "根哈希却不同" if how == "same_size" else "一致性证明校验失败"
        assert "日志分叉" in outcome.message and why in outcome.message and "拒绝副署" in outcome.message
        assert log.state_bytes() == before and not Cosignature.objects.filter(checkpoint__size__gte=log.cp2.size).exists()
        assert witness.poll(log.state_dir, log.transport).alarm == witness.FORK  # until a person looks
        # the witness's copy convicts the rewrite in the platform's own check as well
        report = check_custody_log(external_checkpoints=[log.held])
        found = [(f.problem, f.seq) for f in report.findings]
        if how == "same_size":  # two validly signed trees of one size: a fork, stated as such
            assert found == [("checkpoint_fork", None), ("checkpoint_mismatch", None),
                             ("checkpoint_missing", cp2_announced)]
            assert report.findings[0].leaf == log.cp1.size <= edited
        else:
            assert found == [("checkpoint_mismatch", None), ("checkpoint_missing", cp2_announced)]
        mismatch = next(f for f in report.findings if f.problem == "checkpoint_mismatch")
        assert mismatch.message.startswith(f"外部检查点（树大小 {log.cp2.size}）")
        if how == "larger":
            assert first_bad_leaf(report) == log.cp1.size <= edited


def test_resigned_checkpoint_of_the_same_size_names_the_range_after_the_last_agreeing_one(log):
    edited = leaf_of(event_of(log.entries["download"]))
    with tampering(*EVENT_TABLES, *TREE_TABLES, *CHECKPOINT_TABLES):
        _edit_and_rehash(log)
        Cosignature.objects.filter(checkpoint=log.cp2).delete()
        Checkpoint.objects.filter(pk=log.cp2.pk).delete()
        root = tree.root_at(log.cp2.size)
        Checkpoint.objects.create(size=log.cp2.size, root=root.hex(), created_at=timezone.now(),
                                  note=sign_checkpoint(log_origin(), log.cp2.size, root), trigger="manual")
        report = check_custody_log(external_checkpoints=[log.held])
        assert ("checkpoint_mismatch", log.cp1.size) in problems(report)
        assert first_bad_leaf(report) == log.cp1.size <= edited


def test_witness_refuses_a_smaller_tree(log):
    before = log.state_bytes()
    new_size = log.cp2.size - 2
    with tampering(*EVENT_TABLES, *TREE_TABLES, *REGISTER_TABLES, *CHECKPOINT_TABLES):
        gone = order()[new_size:]
        delete_events(gone)
        Leaf.objects.filter(index__gte=new_size).delete()
        rehash()
        Cosignature.objects.filter(checkpoint=log.cp2).delete()
        Checkpoint.objects.filter(pk=log.cp2.pk).delete()
        smaller = make_checkpoint()  # signed: consistent with checkpoint 1
        assert log.cp1.size < smaller.size < log.cp2.size
        outcome = witness.poll(log.state_dir, log.transport)
        assert (outcome.status, outcome.alarm, outcome.exit_code) == (witness.ALARM, witness.ROLLBACK, 1)
        assert f"树大小 {smaller.size} 小于本见证人已副署的 {log.cp2.size}" in outcome.message
        assert "拒绝副署" in outcome.message and log.state_bytes() == before
        assert not Cosignature.objects.filter(checkpoint=smaller).exists()


# --- 9. details ----------------------------------------------------------------------------


def test_erased_details_verify_as_erased(log):
    registered = Event.objects.filter(action=EventCode.CATALOGUED, subject_id=str(log.recording.pk)).get()
    erase_details(registered, actor=None, reason="保存期满依法删除", authorization="处置审批〔2026〕3号")
    integrate_all()
    report = check_custody_log(external_checkpoints=[log.held])
    assert report.findings == [] and report.erased == 1
    result = verify_custody_chain(external_checkpoints=[log.held])
    assert result.status == "pass" and "1 个事件的详情已依法删除" in result.detail


def test_details_edited_by_hand(log):
    victim = event_of(log.entries["view"])
    position = leaf_of(victim)
    with tampering("custody_eventdetails"):
        EventDetails.objects.filter(pk=victim.pk).update(content={**victim.details, "purpose": "随便看看"})
        report, stored = check(log)
        # the details no longer match their digest, and the access event no longer states the
        # register entry's purpose
        assert problems(report) == [("details_altered", position), ("register_event_mismatch", None)]
        assert report.findings[0].seq == victim.pk
        assert stored.first_broken_seq == victim.pk


def test_details_cleared_without_an_erasure_event(log):
    """The details guard allows exactly the erasure's change, so no guard needs dropping; an
    erasure not announced by a custody.details_erased event is still found."""
    victim = event_of(log.entries["view"])
    position = leaf_of(victim)
    other = Event.objects.filter(action=EventCode.CHECKPOINT_SIGNED).first()
    EventDetails.objects.filter(pk=victim.pk).update(content={}, salt="", erased_by=other.pk,
                                                      erased_at=timezone.now())
    report, _stored = check(log)
    assert problems(report)[0] == ("erasure_unexplained", position)


@pytest.mark.req("ACC-2")
def test_erased_details_of_an_access_event_verify_as_erased(log):
    """The register link is a subject in the leaf, not only in the erasable details."""
    victim = event_of(log.entries["view"])
    erase_details(victim, actor=None, reason="保存期满依法删除", authorization="处置审批〔2026〕3号")
    integrate_all()
    report = check_custody_log(external_checkpoints=[log.held])
    assert report.findings == [] and report.erased == 1
