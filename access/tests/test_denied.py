"""ACC-5: a read refused for scope is an access.denied event, and still a plain 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import make_recording
from custody.choices import EventCode
from custody.models import Event

pytestmark = pytest.mark.django_db


@pytest.mark.req("ACC-5")
def test_denied_detail_is_an_event_with_actor_id_and_action(client, outsider, officer):
    recording = make_recording(officer)
    client.force_login(outsider)
    response = client.get(reverse("web:recording_detail", args=[recording.pk]))
    assert response.status_code == 404
    assert recording.original_filename not in response.content.decode()
    event = Event.objects.get(action=EventCode.ACCESS_DENIED)
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        outsider.pk,
        "recording",
        str(recording.pk),
    )
    assert event.details == {"action": "view"}


@pytest.mark.req("ACC-5")
def test_missing_and_foreign_records_answer_alike_but_both_are_events(client, outsider, officer):
    recording = make_recording(officer)
    client.force_login(outsider)
    foreign = client.get(reverse("web:recording_content", args=[recording.pk]))
    missing = client.get(reverse("web:recording_content", args=[recording.pk + 10**12]))
    assert foreign.status_code == missing.status_code == 404
    events = Event.objects.filter(action=EventCode.ACCESS_DENIED).order_by("pk")
    assert [(e.subject_id, e.details["action"]) for e in events] == [
        (str(recording.pk), "play"),
        (str(recording.pk + 10**12), "play"),
    ]


@pytest.mark.req("ACC-5")
def test_a_flood_of_404s_writes_only_fixed_size_events(client, outsider):
    from core.bounds import MAX_ID

    client.force_login(outsider)
    assert client.get(reverse("web:recording_detail", args=[MAX_ID])).status_code == 404
    assert client.get(f"/recordings/{'9' * 5000}").status_code == 404  # not an id: no read at all
    events = Event.objects.filter(action=EventCode.ACCESS_DENIED)
    assert events.count() == 1
    event = events.get()
    assert len(event.subject_id) <= 20 and len(str(event.details)) < 120
