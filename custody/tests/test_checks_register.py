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
                         "custody_eventsubject_no_update", "custody_eventsubject_no_delete",
                         "access_accessentry_no_update", "access_accessentry_no_delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: ALTER may run
            cursor.execute("ALTER TABLE custody_event DISABLE TRIGGER custody_event_no_update")
            cursor.execute("ALTER TABLE custody_eventdetails DISABLE TRIGGER custody_eventdetails_no_update")
            cursor.execute("ALTER TABLE custody_eventsubject DISABLE TRIGGER custody_eventsubject_no_update")
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


def _set_link(event: Event, entry_ref: str | None) -> None:
    """Point the event's register link (a subject, in its leaf) elsewhere, or remove it."""
    with connection.cursor() as cursor:
        if entry_ref is None:
            cursor.execute("DELETE FROM custody_eventsubject WHERE event_id = %s AND subject_type = 'accessentry'",
                           [event.pk])
        else:
            cursor.execute("UPDATE custody_eventsubject SET subject_id = %s "
                           "WHERE event_id = %s AND subject_type = 'accessentry'", [entry_ref, event.pk])


def _event_of(entry) -> Event:
    """The entry's event: linked to it as a subject, and naming it in its details."""
    event = Event.objects.get(subject_links__subject_type="accessentry", subject_links__subject_id=str(entry.pk))
    assert event.details["access_entry"] == entry.pk
    return event


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
    _set_link(event, None)
    _set_details(event, details)
    problems = {(f.problem, f.seq, f.entry) for f in check_access_register()}
    assert problems == {
        ("register_entry_unlogged", None, victim.pk),
        ("register_event_unlinked", event.pk, None),
    }
    chain = check_custody_chain()
    # the log sees the edit too: the subjects no longer match the leaf, the details their digest
    assert [(f.problem, f.seq) for f in chain[:2]] == [("altered", event.pk), ("details_altered", event.pk)]
    assert {f.problem for f in chain} >= {"register_entry_unlogged", "register_event_unlinked"}


def test_details_edited_alone_do_not_unlink_the_event(register):
    """The link is a subject in the leaf: rewriting (or lawfully erasing) the details keeps it."""
    victim = register[3]
    event = _event_of(victim)
    _drop_guards()
    _set_details(event, {k: v for k, v in event.details.items() if k != "access_entry"})
    assert check_access_register() == []
    assert [(f.problem, f.seq) for f in check_custody_chain()] == [("details_altered", event.pk)]


def test_event_pointing_at_another_entry_is_found(register):
    view, play = register[0], register[1]
    event = _event_of(view)
    _drop_guards()
    _set_link(event, str(play.pk))
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
    _set_link(event, "abc")
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
