"""The access register (ACC-2): every access is one entry plus one custody event; a page view's play only once."""

from __future__ import annotations

import pytest

from access.models import AccessEntry
from access.services import AlreadyRegistered, register_access
from core.testing import make_recording
from custody.models import Event

pytestmark = pytest.mark.django_db


@pytest.mark.req("ACC-2", "ACC-5")
def test_each_access_writes_an_entry_and_a_custody_event_by_the_actor():
    recording = make_recording()
    viewer = recording.primary_officer
    register_access(recording, actor=viewer, action="download", purpose="案件审核")
    entry = AccessEntry.objects.get(recording=recording)
    assert (entry.action, entry.purpose, entry.person_name) == ("download", "案件审核", viewer.display_name)
    event = Event.objects.get(action="access.downloaded", subject_id=str(recording.pk))
    assert event.actor_id == viewer.pk and event.details["access_entry"] == entry.pk


@pytest.mark.req("ACC-2")
def test_same_play_ref_registers_once():
    recording = make_recording()
    register_access(recording, actor=recording.primary_officer, action="play", play_ref="a" * 32)
    with pytest.raises(AlreadyRegistered):
        register_access(recording, actor=recording.primary_officer, action="play", play_ref="a" * 32)
    assert AccessEntry.objects.filter(recording=recording).count() == 1
    assert Event.objects.filter(action="access.played", subject_id=str(recording.pk)).count() == 1


@pytest.mark.req("ACC-2")
def test_the_database_constraint_refuses_a_second_entry_for_one_play():
    """What makes parallel first requests of one page view safe: no Python check decides,
    the unique (recording, play_ref) constraint does, and the refused insert writes nothing."""
    from django.db import IntegrityError, transaction

    recording = make_recording()
    register_access(recording, actor=recording.primary_officer, action="play", play_ref="b" * 32)
    events = Event.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessEntry.objects.create(
            occurred_at=recording.received_at,
            person=recording.primary_officer,
            person_name="x",
            recording=recording,
            action="play",
            play_ref="b" * 32,
        )
    assert AccessEntry.objects.filter(recording=recording).count() == 1
    assert Event.objects.count() == events


def test_empty_play_ref_never_deduplicates():
    recording = make_recording()
    for _ in range(2):
        register_access(recording, actor=recording.primary_officer, action="play")
    assert AccessEntry.objects.filter(recording=recording).count() == 2
