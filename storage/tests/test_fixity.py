"""Fixity (ING-2, promise 4): every re-check leaves pass / fail / not-run, with a custody event."""

from __future__ import annotations

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.testing import refuse_vault_reads, tamper_stored
from custody.checks import check_custody_chain
from custody.models import Event
from storage.backends import get_vault
from storage.backends.base import Area
from storage.checks import check_fixity
from storage.choices import FixityStatus
from storage.models import FixityCheck, StoredObject
from storage.services import register_stored_object, run_fixity_check
from storage.tasks import fixity_sweep, fixity_sweep_once

pytestmark = [pytest.mark.django_db, pytest.mark.req("ING-2")]


def _store(data: bytes) -> StoredObject:
    result = get_vault().write([data])
    return register_stored_object(result, area=Area.ORIGINAL, actor=None)


def _events(obj: StoredObject, action: str):
    return Event.objects.filter(subject_type="storedobject", subject_id=str(obj.pk), action=action)


def test_intact_object_passes_and_leaves_result():
    obj = _store(b"intact original " * 1000)
    check = run_fixity_check(obj, trigger="manual")
    obj.refresh_from_db()
    assert check.status == FixityStatus.PASS
    assert (check.actual_sha256, check.actual_sm3, check.actual_size) == (
        obj.sha256,
        obj.sm3,
        obj.size,
    )
    assert obj.last_fixity_status == FixityStatus.PASS
    assert _events(obj, "storage.fixity_passed").count() == 1


def test_flipped_byte_fails_with_custody_event():
    obj = _store(os.urandom(10_000))
    tamper_stored(obj, 5_000)

    check = run_fixity_check(obj)

    obj.refresh_from_db()
    assert check.status == FixityStatus.FAIL
    assert "SHA-256 不符" in check.detail and "SM3 不符" in check.detail
    assert check.actual_size == obj.size and check.actual_sha256 != obj.sha256
    assert obj.last_fixity_status == FixityStatus.FAIL
    event = _events(obj, "storage.fixity_failed").get()
    assert event.details["expected"]["sha256"] == obj.sha256
    assert event.details["actual"]["sha256"] == check.actual_sha256
    # The failure is a finding, never a repair: the stored digests stay as registered.
    assert StoredObject.objects.get(pk=obj.pk).sha256 == obj.sha256
    assert check_custody_chain() == []


@pytest.mark.filesystem_vault  # a locked S3 version cannot vanish through the S3 API
def test_missing_file_fails_as_missing():
    obj = _store(b"will vanish")
    os.unlink(get_vault().local_path(obj.key))

    check = run_fixity_check(obj)

    obj.refresh_from_db()
    assert check.status == FixityStatus.FAIL
    assert "文件缺失" in check.detail
    assert obj.last_fixity_status == FixityStatus.FAIL
    assert _events(obj, "storage.fixity_failed").count() == 1


def test_unreadable_file_is_not_run(monkeypatch):
    obj = _store(b"cannot be read right now")
    refuse_vault_reads(monkeypatch)
    check = run_fixity_check(obj)

    obj.refresh_from_db()
    assert check.status == FixityStatus.NOT_RUN
    assert "无法读取" in check.detail
    assert obj.last_fixity_status == FixityStatus.NOT_RUN
    assert _events(obj, "storage.fixity_not_run").count() == 1


def test_backend_crash_is_not_run(monkeypatch):
    obj = _store(b"backend trouble")

    def crash(self, key, expected, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(get_vault()), "verify", crash)
    check = run_fixity_check(obj)
    assert check.status == FixityStatus.NOT_RUN
    assert "校验未能执行" in check.detail


def test_command_all_intact_prints_pass_and_exits_zero():
    objs = [_store(f"object {i}".encode()) for i in range(3)]
    out = StringIO()
    call_command("check_fixity", "--all", stdout=out)
    text = out.getvalue()
    assert text.count("[通过]") == 3
    assert all(o.key in text for o in objs)
    assert "共校验 3 个对象：通过 3，失败 0，未执行 0。" in text
    assert FixityCheck.objects.filter(trigger="manual", status="pass").count() == 3


def test_command_with_tampered_object_names_it_and_exits_nonzero():
    good, bad = _store(b"good one"), _store(b"bad one, soon")
    tamper_stored(bad, 0)
    out = StringIO()
    with pytest.raises(CommandError, match="1 个对象"):
        call_command("check_fixity", "--all", stdout=out)
    text = out.getvalue()
    assert f"[失败] {bad.key}" in text
    assert f"[通过] {good.key}" in text
    assert "通过 1，失败 1，未执行 0" in text


def test_command_not_run_exits_nonzero(monkeypatch):
    obj = _store(b"locked away")
    refuse_vault_reads(monkeypatch)
    out = StringIO()
    with pytest.raises(CommandError, match="未能执行"):
        call_command("check_fixity", "--key", obj.key, stdout=out)
    assert f"[未执行] {obj.key}" in out.getvalue()


def test_command_unknown_key_is_refused():
    with pytest.raises(CommandError, match="没有这些对象键"):
        call_command("check_fixity", "--key", "originals/00/00/" + "0" * 64, stdout=StringIO())


def test_command_limit_checks_least_recently_checked_first():
    a, b, c = (_store(f"limit {i}".encode()) for i in range(3))
    now = timezone.now()
    StoredObject.objects.filter(pk=a.pk).update(last_fixity_at=now - timedelta(days=1))
    StoredObject.objects.filter(pk=b.pk).update(last_fixity_at=now - timedelta(days=9))
    StoredObject.objects.filter(pk=c.pk).update(last_fixity_at=now)
    out = StringIO()
    call_command("check_fixity", "--limit", "2", stdout=out)
    text = out.getvalue()
    assert b.key in text and a.key in text and c.key not in text
    assert text.index(b.key) < text.index(a.key)


def test_periodic_sweep_checks_batch_of_oldest(settings):
    settings.FIXITY_BATCH = 2
    objs = [_store(f"sweep {i}".encode()) for i in range(3)]
    StoredObject.objects.filter(pk=objs[2].pk).update(last_fixity_at=None)
    tamper_stored(objs[2], 1)

    counts = fixity_sweep_once()

    assert counts == {"pass": 1, "fail": 1, "not_run": 0}
    assert FixityCheck.objects.filter(
        stored_object=objs[2], status="fail", trigger="scheduled"
    ).exists()


def test_periodic_task_is_scheduled_hourly():
    from datetime import datetime

    from huey.contrib.djhuey import HUEY

    def due(hour, minute):
        return {type(task) for task in HUEY.read_periodic(datetime(2026, 11, 22, hour, minute))}

    assert all(fixity_sweep.task_class in due(hour, 17) for hour in (0, 9, 23))
    assert fixity_sweep.task_class not in due(9, 18)


def test_report_lists_failed_and_never_checked_without_reading():
    fine, failed, never = _store(b"fine"), _store(b"failed"), _store(b"never")
    StoredObject.objects.filter(pk=failed.pk).update(last_fixity_status=FixityStatus.FAIL)
    StoredObject.objects.filter(pk=never.pk).update(
        last_fixity_at=None, last_fixity_status=FixityStatus.NOT_RUN
    )
    findings = check_fixity(
        StoredObject.objects.order_by("pk"), now=timezone.now(), max_age=timedelta(days=30)
    )
    assert [(f.object_id, f.problem) for f in findings] == [
        (failed.pk, "failed"),
        (never.pk, "never_checked"),
    ]
    assert fine.pk not in {f.object_id for f in findings}

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_fixity", "--report", stdout=out)
    assert "需要关注的对象：2 个。" in out.getvalue()
    assert not FixityCheck.objects.exists()


def test_report_flags_overdue_checks():
    obj = _store(b"old check")
    StoredObject.objects.filter(pk=obj.pk).update(
        last_fixity_at=timezone.now() - timedelta(days=40)
    )
    obj.refresh_from_db()
    findings = check_fixity([obj], now=timezone.now(), max_age=timedelta(days=30))
    assert [f.problem for f in findings] == ["overdue"]
    assert "40 天" in findings[0].message
