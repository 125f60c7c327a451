"""The custody log only grows (ACC-5, promise 2): chained, guarded by the database, verifiable."""

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

from custody.checks import check_custody_chain
from custody.choices import EventCode
from custody.hashing import HASHED_FIELDS, event_hash
from custody.models import GENESIS_HASH, Event
from custody.services import record_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
BASE_DIR = Path(settings.BASE_DIR)


def _append(n: int) -> list[Event]:
    return [
        record_event(
            EventCode.LOGIN_FAILED,
            actor=None,
            actor_name=f"测试{i}",
            subject=("account", f"u{i}"),
            details={"i": i, "text": "中文详情"},
        )
        for i in range(n)
    ]


def _disable_guard() -> None:
    """What an attacker with database access would do first (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER custody_event_no_update")
            cursor.execute("DROP TRIGGER custody_event_no_delete")
        else:
            cursor.execute("ALTER TABLE custody_event DISABLE TRIGGER custody_event_no_update")


def _verify() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_custody", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_events_chain_prev_hash_and_seq():
    events = _append(4)
    first = Event.objects.order_by("seq").first()
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.seq == before.seq + 1
        assert after.prev_hash == before.hash
    for event in Event.objects.all():
        row = {name: getattr(event, name) for name in HASHED_FIELDS}
        assert event.hash == event_hash(row)
    assert check_custody_chain() == []


def test_event_stores_actor_name_and_explicit_time():
    event = _append(1)[0]
    stored = Event.objects.get(pk=event.pk)
    assert stored.actor_name == "测试0"
    assert stored.occurred_at == event.occurred_at
    assert stored.details == {"i": 0, "text": "中文详情"}


def test_intact_chain_verifies():
    _append(3)
    out, error = _verify()
    assert error is None
    assert "共 3 个事件" in out


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE custody_event SET actor_name = 'forged' WHERE seq = 2",
        "UPDATE custody_event SET details = '{}'",
        "DELETE FROM custody_event WHERE seq = 2",
        "DELETE FROM custody_event",
    ],
)
def test_database_refuses_update_and_delete(sql):
    _append(3)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert list(Event.objects.values_list("actor_name", flat=True)) == ["测试0", "测试1", "测试2"]
    assert check_custody_chain() == []


def test_orm_update_and_delete_are_refused_too():
    event = _append(2)[1]
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            Event.objects.filter(pk=event.pk).update(actor_name="forged")
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).actor_name == "测试1"


@pytest.mark.skipif(
    not ON_POSTGRES, reason="TRUNCATE guard is PostgreSQL-only (SQLite has no TRUNCATE)"
)
@pytest.mark.postgres
def test_postgres_refuses_truncate():
    _append(1)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE custody_event")
    assert Event.objects.count() == 1


def test_edited_row_is_named_by_verify_custody():
    events = _append(5)
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE custody_event SET actor_name = %s WHERE seq = %s", ["改过的名字", events[2].seq]
        )

    out, error = _verify()

    assert error is not None
    assert f"第 {events[2].seq} 号事件" in str(error)
    assert f"第一个断开的环节：第 {events[2].seq} 号事件" in out
    assert "已被改动" in out
    findings = check_custody_chain()
    assert [(f.seq, f.problem) for f in findings] == [(events[2].seq, "altered")]


def test_edited_details_with_recomputed_hash_breaks_the_next_link():
    """Re-hashing the edited row does not help: the next row still points at the old hash."""
    events = _append(4)
    _disable_guard()
    target = Event.objects.filter(seq=events[1].seq).values(*HASHED_FIELDS).get()
    target["details"] = {"i": 99}
    new_hash = event_hash(target)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE custody_event SET details = %s, hash = %s WHERE seq = %s",
            [json.dumps({"i": 99}), new_hash, events[1].seq],
        )
    findings = check_custody_chain()
    assert [(f.seq, f.problem) for f in findings] == [(events[2].seq, "broken_link")]
    out, error = _verify()
    assert error is not None and f"第 {events[2].seq} 号事件" in out


def test_deleted_middle_row_is_named_as_a_gap():
    events = _append(5)
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM custody_event WHERE seq = %s", [events[2].seq])

    out, error = _verify()

    assert error is not None
    problems = {(f.seq, f.problem) for f in check_custody_chain()}
    assert (events[3].seq, "gap") in problems
    assert (events[3].seq, "broken_link") in problems
    assert f"应为 {events[2].seq}，实为 {events[3].seq}" in out
    assert "有事件缺失" in out


_CONCURRENT_SCRIPT = r"""
import json, os, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from custody.checks import check_custody_chain
from custody.models import Event
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
seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
print(json.dumps({"errors": errors, "seqs": seqs,
                  "findings": [f.__dict__ for f in check_custody_chain()]}))
"""


@pytest.mark.postgres
@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="concurrent appenders need PostgreSQL (bin/test runs this in its second pass)",
)
def test_concurrent_appends_keep_chain_valid(tmp_path):
    """Several threads append at once against a scratch database; the chain stays whole."""
    import psycopg

    db = settings.DATABASES["default"]
    name = f"avr_chain_{uuid.uuid4().hex[:12]}"
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
        assert result["seqs"] == list(range(1, 6 * 25 + 1))
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
        assert "共 150 个事件" in verify.stdout
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
