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
def test_parallel_claim_of_the_same_play_ref_loses_to_the_constraint_and_writes_nothing(monkeypatch):
    """The existence check passes in both requests; the database's unique constraint decides."""
    recording = make_recording()
    actor = recording.primary_officer
    register_access(recording, actor=actor, action="play", play_ref="b" * 32)
    real_filter = AccessEntry.objects.filter
    calls = {"n": 0}

    def stale_first_check(*args, **kwargs):  # the second request checked before the first inserted
        calls["n"] += 1
        qs = real_filter(*args, **kwargs)
        return qs.none() if calls["n"] == 1 else qs

    monkeypatch.setattr(AccessEntry.objects, "filter", stale_first_check)
    with pytest.raises(AlreadyRegistered):
        register_access(recording, actor=actor, action="play", play_ref="b" * 32)
    monkeypatch.undo()
    assert AccessEntry.objects.filter(recording=recording).count() == 1
    assert Event.objects.filter(action="access.played", subject_id=str(recording.pk)).count() == 1


def test_empty_play_ref_never_deduplicates():
    recording = make_recording()
    for _ in range(2):
        register_access(recording, actor=recording.primary_officer, action="play")
    assert AccessEntry.objects.filter(recording=recording).count() == 2
