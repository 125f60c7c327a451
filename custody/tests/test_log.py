"""The custody log only grows (ACC-5, promise 2): an RFC 9162 Merkle log, guarded by the
database, verifiable from the rows alone (docs/custody-log.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core.errors import DomainError
from custody import tree
from custody.checkpoints import make_checkpoint
from custody.checks import check_custody_chain, check_custody_log
from custody.choices import EventCode
from custody.entries import ENTRY_ROW_FIELDS, digest_of, entry_bytes, new_salt
from custody.keys import ensure_log_keys
from custody.merkle import MemoryTree
from custody.models import (
    Checkpoint,
    Cosignature,
    Event,
    EventDetails,
    EventSubject,
    Leaf,
    PendingEvent,
    TreeNode,
)
from custody.sequencer import integrate_all
from custody.services import erase_details, record_event
from custody.signing import verify_checkpoint
from custody.verifier import tlog

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
BASE_DIR = Path(settings.BASE_DIR)
GUARDED = ("custody_event", "custody_eventsubject", "custody_leaf", "custody_treenode",
           "custody_checkpoint", "custody_cosignature")


def _append(n: int, *, integrate: bool = True, start: int = 0) -> list[Event]:
    """``n`` events; integrated into the tree unless ``integrate=False`` (in tests the
    after-commit kick never fires, so they would stay pending)."""
    events = [
        record_event(
            EventCode.LOGIN_FAILED,
            actor=None,
            actor_name=f"测试{i}",
            subject=("account", f"u{i}"),
            details={"i": i, "text": "中文详情"},
        )
        for i in range(start, start + n)
    ]
    if integrate:
        integrate_all()
    return events


def _drop_guards(*tables: str) -> None:
    """What an attacker with database access would do first (rolled back with the test)."""
    tables = tables or ("custody_event",)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for table in tables:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: ALTER may run
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update")


def _disable_guard() -> None:
    _drop_guards("custody_event")


def _verify() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_custody", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def _entries() -> list[bytes]:
    """The entry bytes of every integrated event, in leaf order, re-derived from the rows."""
    out = []
    for event_id in Leaf.objects.order_by("index").values_list("event_id", flat=True):
        row = Event.objects.filter(pk=event_id).values(*ENTRY_ROW_FIELDS).get()
        subjects = EventSubject.objects.filter(event_id=event_id).values_list("subject_type", "subject_id")
        out.append(entry_bytes(row, subjects))
    return out


def _stored_nodes() -> dict[tuple[int, int], str]:
    return {(lv, ix): h for lv, ix, h in TreeNode.objects.values_list("level", "index", "hash")}


def _memory_nodes(memory: MemoryTree) -> dict[tuple[int, int], str]:
    return {key: value.hex() for key, value in memory.nodes.items()}


def _problems(findings=None) -> list[tuple[int | None, str, int | None]]:
    findings = check_custody_chain() if findings is None else findings
    return [(f.seq, f.problem, f.leaf) for f in findings]


# --- record_event ---------------------------------------------------------------------------


def test_record_event_writes_event_details_subjects_and_a_pending_row():
    event = record_event(
        EventCode.METADATA_CHANGED, actor=None, actor_name="测试", subject=("recording", "7"),
        also=[("upload", "3"), ("recording", "7")], details={"purpose": "核查", "n": 2},
    )
    stored = Event.objects.get(pk=event.pk)
    assert isinstance(stored.event_uid, uuid.UUID)
    assert (stored.subject_type, stored.subject_id, stored.actor_name) == ("recording", "7", "测试")
    assert stored.occurred_at == event.occurred_at
    row = EventDetails.objects.get(event=event)
    assert row.content == {"purpose": "核查", "n": 2} and row.erased_by is None
    assert len(bytes.fromhex(row.salt)) >= 16
    assert stored.details_digest == digest_of(row.salt, row.content)
    assert stored.details == {"purpose": "核查", "n": 2} and stored.details_erased is False
    links = set(EventSubject.objects.filter(event=event).values_list("subject_type", "subject_id"))
    assert links == {("recording", "7"), ("upload", "3")}  # primary plus ``also``, each once
    assert PendingEvent.objects.filter(event=event).exists()
    assert not Leaf.objects.filter(event=event).exists()  # a leaf only comes from the sequencer
    assert check_custody_chain() == []  # pending is not a finding


def test_two_events_with_equal_details_get_different_salts_and_digests():
    first, second = (record_event(EventCode.LOGIN_FAILED, actor=None, subject=("account", "u"),
                                  details={"same": True}) for _ in range(2))
    assert first.details_digest != second.details_digest
    assert EventDetails.objects.get(event=first).salt != EventDetails.objects.get(event=second).salt


def test_record_event_is_atomic_with_the_callers_transaction():
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        record_event(EventCode.METADATA_CHANGED, actor=None, subject=("recording", "7"), also=[("upload", "3")],
                     details={"i": 1})
        raise Refused  # the business change fails after the event was written
    for model in (Event, EventDetails, EventSubject, PendingEvent, Leaf):
        assert model.objects.count() == 0, model.__name__

    with transaction.atomic():
        event = record_event(EventCode.METADATA_CHANGED, actor=None, subject=("recording", "7"), details={"i": 2})
    assert (Event.objects.get().pk, EventDetails.objects.get().event_id, PendingEvent.objects.get().event_id) == (
        event.pk, event.pk, event.pk)
    assert EventSubject.objects.get().event_id == event.pk


# --- the sequencer and the tree ------------------------------------------------------------


def test_integration_assigns_leaves_in_order_and_builds_the_rfc_tree():
    events = _append(5, integrate=False)
    assert tree.tree_size() == 0 and PendingEvent.objects.count() == 5
    assert integrate_all() == 5
    assert list(Leaf.objects.order_by("index").values_list("index", "event_id")) == [
        (i, event.pk) for i, event in enumerate(events)
    ]
    assert PendingEvent.objects.count() == 0
    memory = MemoryTree(_entries())
    assert memory.size == tree.tree_size() == 5
    assert tree.root_at(5) == memory.root()
    assert _stored_nodes() == _memory_nodes(memory)  # every perfect subtree, and nothing else
    report = check_custody_log()
    assert report.findings == [] and (report.leaves, report.root_hex) == (5, memory.root().hex())


def test_a_second_integration_adds_only_the_new_events():
    first = _append(5)
    nodes_before, root_before = _stored_nodes(), tree.root_at(5)
    assert integrate_all() == 0  # nothing queued: nothing written
    assert _stored_nodes() == nodes_before
    second = _append(6, start=5, integrate=False)
    assert integrate_all() == 6
    assert list(Leaf.objects.order_by("index").values_list("event_id", flat=True)) == [
        event.pk for event in first + second
    ]
    nodes_after = _stored_nodes()
    assert nodes_before.items() <= nodes_after.items()  # no old node rewritten
    memory = MemoryTree(_entries())
    assert nodes_after == _memory_nodes(memory) and tree.root_at(11) == memory.root()
    assert tree.root_at(5) == root_before
    proof = tree.consistency_proof(5, 11)
    assert tlog.verify_consistency(5, 11, root_before, tree.root_at(11), proof)
    assert check_custody_chain() == []


def test_intact_log_verifies():
    _append(3)
    out, error = _verify()
    assert error is None
    assert "保管链完整" in out and "3 个事件" in out


# --- guards ---------------------------------------------------------------------------------


@pytest.fixture
def full_log():
    """A row in every guarded table: events, links, leaves, nodes, a checkpoint, a cosignature."""
    ensure_log_keys()
    events = _append(3)
    checkpoint = make_checkpoint()
    Cosignature.objects.create(  # a witness not in LOG_WITNESSES: stored, not checked
        checkpoint=checkpoint, witness_name="unlisted.example/witness", key_id="00000000",
        signed_at=checkpoint.created_at, line="— unlisted.example/witness AAAA", received_at=checkpoint.created_at,
    )
    integrate_all()
    assert check_custody_chain() == []
    return events


UPDATES = {
    "custody_event": "actor_name = 'forged'",
    "custody_eventsubject": "subject_id = 'forged'",
    "custody_leaf": "event_id = event_id + 1000",
    "custody_treenode": "hash = '" + "0" * 64 + "'",
    "custody_checkpoint": "root = '" + "0" * 64 + "'",
    "custody_cosignature": "line = 'forged'",
}


def _snapshot() -> dict:
    return {
        "events": list(Event.objects.values_list("pk", "actor_name")),
        "subjects": list(EventSubject.objects.order_by("pk").values_list("event_id", "subject_type", "subject_id")),
        "leaves": list(Leaf.objects.values_list("index", "event_id")),
        "nodes": _stored_nodes(),
        "checkpoints": list(Checkpoint.objects.values_list("size", "root")),
        "cosignatures": list(Cosignature.objects.values_list("pk", "line")),
    }


@pytest.mark.parametrize("table", GUARDED)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {change}", "DELETE FROM {table}"])
def test_database_refuses_update_and_delete_on_every_log_table(full_log, table, statement):
    before = _snapshot()
    verb = statement.split()[0]
    with pytest.raises(DatabaseError, match=f"append-only: {verb} refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table, change=UPDATES[table]))
    assert _snapshot() == before
    assert check_custody_chain() == []


def test_orm_update_and_delete_are_refused_too():
    event = _append(2)[1]
    for queryset, change in (
        (Event.objects.filter(pk=event.pk), {"actor_name": "forged"}),
        (Leaf.objects.filter(event=event), {"event_id": 0}),
        (TreeNode.objects.filter(level=0, index=1), {"hash": "0" * 64}),
        (EventSubject.objects.filter(event=event), {"subject_id": "forged"}),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            queryset.update(**change)
        with pytest.raises(DatabaseError), transaction.atomic():
            queryset.delete()
    assert Event.objects.get(pk=event.pk).actor_name == "测试1"
    assert check_custody_chain() == []


@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE guard is PostgreSQL-only (SQLite has no TRUNCATE)")
@pytest.mark.postgres
@pytest.mark.parametrize("table", (*GUARDED, "custody_eventdetails"))
def test_postgres_refuses_truncate(full_log, table):
    before = _snapshot()
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
    assert _snapshot() == before and EventDetails.objects.count() == Event.objects.count()


@pytest.mark.parametrize(
    "change",
    [
        "content = '{\"i\": 99}'",  # rewriting the details
        "salt = ''",  # dropping the salt alone
        "content = '{}', salt = ''",  # an erasure that names no erasing event
        "erased_by = 1",  # an erasure marker over kept content
        "content = '{}', salt = '', erased_by = 1, event_id = event_id + 1000",  # moving the row
    ],
)
def test_details_may_change_only_by_the_erasure_shape(change):
    event = _append(1)[0]
    before = list(EventDetails.objects.values_list("event_id", "content", "salt", "erased_by"))
    with pytest.raises(DatabaseError, match="only by lawful erasure: UPDATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE custody_eventdetails SET {change} WHERE event_id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="only by lawful erasure: DELETE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM custody_eventdetails")
    assert list(EventDetails.objects.values_list("event_id", "content", "salt", "erased_by")) == before
    assert check_custody_chain() == []


def test_the_erasure_shape_passes_the_database_once_but_unexplained_it_is_a_finding():
    event = _append(2)[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_eventdetails SET content = '{}', salt = '', erased_by = %s "
                       "WHERE event_id = %s", [event.pk, event.pk])
    assert _problems() == [(event.pk, "erasure_unexplained", 1)]  # no erasing event names it
    with pytest.raises(DatabaseError, match="only by lawful erasure"):  # and never a second change
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE custody_eventdetails SET content = '{\"i\": 1}', salt = 'ab', "
                           "erased_by = NULL WHERE event_id = %s", [event.pk])


# --- lawful erasure -------------------------------------------------------------------------


def test_erasing_details_keeps_the_log_verifiable():
    events = _append(3)
    target = events[1]
    leaf_before = TreeNode.objects.get(level=0, index=1).hash
    erasing = erase_details(target, actor=None, reason="保存期满依法处置", authorization="处置批次 1")
    assert erasing.action == EventCode.DETAILS_ERASED
    assert erasing.details == {"event": target.pk, "reason": "保存期满依法处置", "authorization": "处置批次 1"}
    assert ("event", str(target.pk)) in set(
        EventSubject.objects.filter(event=erasing).values_list("subject_type", "subject_id"))
    row = EventDetails.objects.get(event=target)
    assert (row.content, row.salt, row.erased_by, row.erased_at) == ({}, "", erasing.pk, erasing.occurred_at)
    target = Event.objects.get(pk=target.pk)
    assert target.details == {} and target.details_erased is True
    assert Event.objects.get(pk=events[0].pk).details_erased is False
    integrate_all()
    assert TreeNode.objects.get(level=0, index=1).hash == leaf_before  # the leaf is untouched
    report = check_custody_log()
    assert report.findings == [] and report.erased == 1 and report.leaves == 4
    out, error = _verify()
    assert error is None and "1 个事件的详情已依法删除" in out


def test_erasure_needs_an_authorization_and_happens_once():
    event = _append(1)[0]
    with pytest.raises(DomainError, match="没有处置授权"):
        erase_details(event, actor=None, reason="无授权", authorization=None)
    assert EventDetails.objects.get(event=event).content == {"i": 0, "text": "中文详情"}
    erase_details(event, actor=None, reason="依法处置", authorization="处置批次 2")
    with pytest.raises(DomainError, match="已被删除"):
        erase_details(event, actor=None, reason="再次", authorization="处置批次 3")
    assert Event.objects.filter(action=EventCode.DETAILS_ERASED).count() == 1
    assert check_custody_chain() == []


# --- tampering with the guards dropped ------------------------------------------------------


def test_hand_edited_details_are_named():
    events = _append(4)
    _drop_guards("custody_eventdetails")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_eventdetails SET content = %s WHERE event_id = %s",
                       [json.dumps({"i": 99}), events[2].pk])
    assert _problems() == [(events[2].pk, "details_altered", 2)]
    out, error = _verify()
    assert error is not None and f"第 {events[2].pk} 号事件的详情与其摘要不符" in out


def test_edited_event_row_is_named_with_its_leaf():
    events = _append(5)
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_event SET actor_name = %s WHERE id = %s", ["改过的名字", events[2].pk])

    # the leaf, then the stored nodes above it (2–3 and 0–3) no longer match the rebuilt tree
    assert _problems() == [(events[2].pk, "altered", 2), (None, "node_altered", 2), (None, "node_altered", 0)]
    out, error = _verify()
    assert error is not None
    assert f"第 {events[2].pk} 号事件（第 2 号叶子）" in out and "已被改动" in out


def test_verify_custody_names_the_edited_leaf_as_the_first_broken_one():
    events = _append(5)
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_event SET actor_name = %s WHERE id = %s", ["改过的名字", events[2].pk])
    out, error = _verify()
    assert error is not None
    assert "第一个有问题的叶子：第 2 号" in out


def test_rewritten_details_with_a_recomputed_digest_still_break_the_leaf():
    """Re-salting and re-digesting the edit does not help: the leaf holds the old digest."""
    events = _append(4)
    _drop_guards("custody_event", "custody_eventdetails")
    salt, content = new_salt(), {"i": 99}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_eventdetails SET content = %s, salt = %s WHERE event_id = %s",
                       [json.dumps(content), salt, events[1].pk])
        cursor.execute("UPDATE custody_event SET details_digest = %s WHERE id = %s",
                       [digest_of(salt, content), events[1].pk])
    assert _problems() == [(events[1].pk, "altered", 1), (None, "node_altered", 0), (None, "node_altered", 0)]


def test_deleted_event_row_is_named_and_the_tree_still_checks_the_rest():
    events = _append(5)
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM custody_event WHERE id = %s", [events[2].pk])
    assert _problems() == [(events[2].pk, "event_missing", 2)]
    out, error = _verify()
    assert error is not None and "已被删除" in out


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoints_sign_the_tree_and_stay_consistent():
    ensure_log_keys()
    _append(3)
    first = make_checkpoint()
    assert (first.size, first.root) == (3, tree.root_at(3).hex())
    check = verify_checkpoint(first.note)
    assert check.ok and (check.checkpoint.size, check.checkpoint.root) == (3, tree.root_at(3))
    assert Event.objects.filter(action=EventCode.CHECKPOINT_SIGNED, subject_id=str(first.pk)).exists()
    assert check_custody_chain() == []
    _append(2, start=3)
    second = make_checkpoint()
    assert second.size == 3 + 1 + 2  # the signed event of the first checkpoint is a leaf too
    assert verify_checkpoint(second.note).ok
    proof = tree.consistency_proof(first.size, second.size)
    assert tlog.verify_consistency(first.size, second.size, bytes.fromhex(first.root),
                                   bytes.fromhex(second.root), proof)
    report = check_custody_log()
    assert report.findings == [] and report.checkpoints == 2


# --- concurrency ----------------------------------------------------------------------------

_CONCURRENT_SCRIPT = r"""
import json, os, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from custody.checks import check_custody_chain
from custody.models import Event, Leaf, PendingEvent
from custody.sequencer import integrate_all
from custody.services import record_event

call_command("migrate", verbosity=0)
THREADS, PER_THREAD = int(os.environ["T"]), int(os.environ["N"])
barrier = threading.Barrier(THREADS)
errors = []

def work(t):
    try:
        barrier.wait()
        for i in range(PER_THREAD):
            with transaction.atomic():
                record_event("auth.login_failed", actor=None, actor_name=f"t{t}", subject=("account", f"{t}-{i}"),
                             details={"thread": t, "i": i})
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
for th in threads: th.start()
for th in threads: th.join()
integrate_all()
leaves = list(Leaf.objects.order_by("index").values_list("index", "event_id"))
print(json.dumps({"errors": errors, "events": sorted(Event.objects.values_list("pk", flat=True)),
                  "leaves": leaves, "pending": PendingEvent.objects.count(),
                  "findings": [f.as_stored() for f in check_custody_chain()]}))
"""


@pytest.mark.postgres
@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="concurrent appenders need PostgreSQL (bin/test runs this in its second pass)",
)
def test_concurrent_appends_each_get_exactly_one_leaf(tmp_path):
    """Threads append at once (and the sequencer runs after each commit) against a scratch
    database; every event gets exactly one leaf, the leaves are 0..n-1 and the log checks clean."""
    import psycopg

    db = settings.DATABASES["default"]
    name = f"avr_log_{uuid.uuid4().hex[:12]}"
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "AVR_VAR_DIR": str(tmp_path),
            "AVR_HUEY_IMMEDIATE": "1",  # the after-commit kick integrates in the appending thread
            "DATABASE_URL": f"postgres://{db['USER']}{password}@{params['host']}:{params['port']}/{name}",
            "T": "6",
            "N": "25",
        }
        proc = subprocess.run(
            [sys.executable, "-c", _CONCURRENT_SCRIPT],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result["errors"] == []
        assert len(result["events"]) == 6 * 25
        assert [index for index, _event in result["leaves"]] == list(range(6 * 25))
        assert sorted(event for _index, event in result["leaves"]) == result["events"]  # each once
        assert result["pending"] == 0
        assert result["findings"] == []
        verify = subprocess.run(
            [sys.executable, "manage.py", "verify_custody"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "150 个事件" in verify.stdout
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.req("ACC-5")
def test_two_nodes_signing_the_same_size_get_one_checkpoint(monkeypatch):
    """The audit page on one web node, the API on another and the periodic task may all sign at
    once: the second signer of a size gets the first one's checkpoint, never an error."""
    from custody import checkpoints

    ensure_log_keys()
    record_event(EventCode.LOGIN, actor=None, details={"n": 1})
    first = make_checkpoint()
    before = Checkpoint.objects.count()
    # the race: the second signer looked before the first one's checkpoint (and its event) landed
    monkeypatch.setattr(checkpoints, "latest_checkpoint", lambda: None)
    monkeypatch.setattr(checkpoints, "integrate_all", lambda: None)
    monkeypatch.setattr(checkpoints.tree, "tree_size", lambda: first.size)
    second = make_checkpoint()
    assert second.pk == first.pk and Checkpoint.objects.count() == before
