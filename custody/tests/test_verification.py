"""Every chain verification leaves a stored result and an event, including "could not run" (ACC-5, promise 4)."""

from __future__ import annotations

import pytest
from django.db import connection

from core.errors import DomainError
from custody import tree
from custody.models import ChainVerification, Event, Leaf
from custody.services import verify_custody_chain
from custody.tests.test_log import _append, _disable_guard, _verify

pytestmark = pytest.mark.django_db


@pytest.mark.req("ACC-5")
def test_intact_chain_stores_a_pass_and_appends_its_event():
    events = _append(3, integrate=False)  # still queued: the verification integrates them first
    result = verify_custody_chain(actor=None, trigger="scheduled")
    assert result.status == "pass" and result.first_broken_seq is None and result.findings == []
    # last_seq is the tree size covered, last_hash its root
    assert (result.events_checked, result.last_seq, result.last_hash) == (3, 3, tree.root_at(3).hex())
    assert list(Leaf.objects.order_by("index").values_list("event_id", flat=True)[:3]) == [e.pk for e in events]
    event = Event.objects.order_by("-pk").first()
    assert event.action == "custody.chain_verified" and event.subject_id == str(result.pk)
    assert event.details["status"] == "pass" and event.actor_name == "系统"
    assert (event.details["tree_size"], event.details["root"]) == (3, result.last_hash)


@pytest.mark.req("ACC-5")
def test_tampered_row_stores_a_fail_naming_the_first_broken_event():
    events = _append(5)  # integrated: their leaves hold the rows as written
    _disable_guard()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_event SET actor_name = %s WHERE id = %s", ["篡改者", events[1].pk])
    out, error = _verify()
    assert error is not None and f"第 {events[1].pk} 号事件" in out
    stored = ChainVerification.objects.get()
    assert (stored.status, stored.first_broken_seq, stored.trigger) == ("fail", events[1].pk, "command")
    assert {key: stored.findings[0][key] for key in ("seq", "problem", "leaf")} == {
        "seq": events[1].pk, "problem": "altered", "leaf": 1}


@pytest.mark.req("ACC-5")
def test_check_that_cannot_run_is_stored_as_not_run(monkeypatch):
    _append(2)

    def unreadable(**kwargs):
        raise DomainError("数据库不可读")

    monkeypatch.setattr("custody.checks.check_custody_log", unreadable)
    out, error = _verify()
    assert error is not None and "校验未能执行" in str(error)
    stored = ChainVerification.objects.get()
    assert stored.status == "not_run" and "数据库不可读" in stored.detail


def test_a_library_error_is_not_run_in_chinese_with_the_english_only_in_the_log(monkeypatch, caplog):
    _append(1)

    def broken(**kwargs):
        raise RuntimeError("connection reset by peer")

    monkeypatch.setattr("custody.checks.check_custody_log", broken)
    _verify()
    stored = ChainVerification.objects.get()
    assert stored.status == "not_run"
    assert stored.detail == "校验未能执行：读取保管链时出错，详见系统日志。"
    assert "connection reset by peer" in caplog.text
    assert Event.objects.filter(action="custody.chain_verified", details_row__content__status="not_run").exists()


def test_daily_verification_is_scheduled_at_half_past_two():
    from datetime import datetime

    from huey.contrib.djhuey import HUEY

    from custody.tasks import verify_custody_chain_daily

    def due(hour, minute):
        return {type(task) for task in HUEY.read_periodic(datetime(2026, 11, 22, hour, minute))}

    assert verify_custody_chain_daily.task_class in due(2, 30)
    assert verify_custody_chain_daily.task_class not in due(3, 30)


def test_administrators_overview_shows_the_latest_verification(client):
    from core.testing import make_person

    _append(2)
    verify_custody_chain(actor=None, trigger="scheduled")
    client.force_login(make_person("audit_admin", full_name="审计员"))
    body = client.get("/").content.decode()
    assert "最近校验" in body and '<span class="badge bg-green-lt">通过</span>' in body
