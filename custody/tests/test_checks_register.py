"""The access register against the custody log, both ways (ACC-2): one stored verification."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from access.choices import AccessAction
from access.services import register_access
from core.testing import make_recording
from custody.checks import check_access_register, check_custody_chain
from custody.models import Event
from custody.sequencer import integrate_all
from custody.services import verify_custody_chain

pytestmark = pytest.mark.django_db


def _drop_guards() -> None:
    """What an attacker with database access would do first (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in ("custody_event_no_update", "custody_event_no_delete",
                         "custody_eventdetails_no_update", "custody_eventdetails_no_delete",
                         "access_accessentry_no_update", "access_accessentry_no_delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: ALTER may run
            cursor.execute("ALTER TABLE custody_event DISABLE TRIGGER custody_event_no_update")
            cursor.execute("ALTER TABLE custody_eventdetails DISABLE TRIGGER custody_eventdetails_no_update")
            cursor.execute("ALTER TABLE access_accessentry DISABLE TRIGGER access_accessentry_no_update")


@pytest.fixture
def register():
    recording = make_recording()
    officer = recording.primary_officer
    entries = [
        register_access(recording, actor=officer, action=AccessAction.VIEW),
        register_access(recording, actor=officer, action=AccessAction.PLAY, play_ref="p1"),
        register_access(recording, actor=officer, action=AccessAction.DOWNLOAD),
        register_access(recording, actor=officer, action=AccessAction.DERIVATIVE_VIEW,
                        play_ref="d1", derivative_kind="poster"),
    ]
    integrate_all()  # in the tree, so an edit of an event's row is seen by the tree check as well
    return entries


def _set_details(event: Event, content: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_eventdetails SET content = %s WHERE event_id = %s",
                       [json.dumps(content), event.pk])


def _event_of(entry) -> Event:
    return Event.objects.get(details_row__content__access_entry=entry.pk)


def test_intact_register_has_no_finding(register):
    assert check_access_register() == []
    assert check_custody_chain() == []
    assert verify_custody_chain().status == "pass"


def test_deleted_entry_is_a_finding_naming_the_event(register):
    victim = register[1]
    number = _event_of(victim).pk
    _drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM access_accessentry WHERE id = %s", [victim.pk])
    findings = check_access_register()
    assert [(f.seq, f.problem, f.entry) for f in findings] == [(number, "register_entry_missing", victim.pk)]
    assert f"第 {number} 号事件" in findings[0].message and f"第 {victim.pk} 号查阅登记" in findings[0].message
    result = verify_custody_chain()
    assert result.status == "fail" and result.first_broken_seq == number
    assert result.findings[0]["problem"] == "register_entry_missing"


def test_event_link_edited_away_is_found_both_ways(register):
    victim = register[3]  # a derivative view
    event = _event_of(victim)
    details = {k: v for k, v in event.details.items() if k != "access_entry"}
    _drop_guards()
    _set_details(event, details)
    problems = {(f.problem, f.seq, f.entry) for f in check_access_register()}
    assert problems == {
        ("register_entry_unlogged", None, victim.pk),
        ("register_event_unlinked", event.pk, None),
    }
    chain = check_custody_chain()
    # the log sees the edit too: the details no longer match the digest in the event's leaf
    assert (chain[0].problem, chain[0].seq) == ("details_altered", event.pk)
    assert {f.problem for f in chain} >= {"register_entry_unlogged", "register_event_unlinked"}


def test_event_pointing_at_another_entry_is_found(register):
    view, play = register[0], register[1]
    event = _event_of(view)
    _drop_guards()
    _set_details(event, {**event.details, "access_entry": play.pk})
    problems = {(f.problem, f.entry) for f in check_access_register()}
    assert problems == {("register_entry_unlogged", view.pk), ("register_event_duplicate", play.pk)}


def test_event_with_wrong_action_for_its_entry_is_a_mismatch(register):
    download = register[2]
    event = _event_of(download)
    _drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_event SET action = %s WHERE id = %s", ["access.viewed", event.pk])
    findings = check_access_register()
    assert [(f.problem, f.entry) for f in findings] == [("register_event_mismatch", download.pk)]


def test_non_numeric_link_is_a_finding_not_a_crash(register):
    event = _event_of(register[0])
    _drop_guards()
    _set_details(event, {**event.details, "access_entry": "abc"})
    problems = {(f.problem, f.seq) for f in check_access_register()}
    assert ("register_entry_missing", event.pk) in problems


def test_findings_are_capped(register):
    _drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM access_accessentry")
    findings = check_access_register(limit=2)
    assert [f.problem for f in findings] == ["register_entry_missing"] * 2 + ["register_more"]
    assert "另有 2 个" in findings[-1].message


def test_check_is_a_fixed_number_of_queries(register, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        check_access_register()
