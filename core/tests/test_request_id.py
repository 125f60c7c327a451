"""Request ids are made by the server (issue 7): a client's X-Request-ID is kept beside the
server's id, marked as client-supplied, and never becomes the id events and register entries store."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from access.models import AccessEntry
from core.context import correlation, get_client_request_id, get_request_id, sane_client_request_id
from core.middleware import RequestIdMiddleware
from core.testing import make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]

CLIENT_ID = "clientChosenId0001"  # alphanumeric: the old middleware adopted such ids


def test_client_request_id_is_not_the_stored_request_id_of_a_login_event(client):
    make_person("officer", unit=make_unit(), username="zhaoliu", password="Correct-horse-2026")

    response = client.post(
        reverse("web:login"),
        {"username": "zhaoliu", "password": "Correct-horse-2026"},
        HTTP_X_REQUEST_ID=CLIENT_ID,
    )

    assert response.status_code == 302
    event = Event.objects.get(action=EventCode.LOGIN)
    assert event.request_id != CLIENT_ID
    assert event.request_id == response["X-Request-ID"]
    assert response["X-Client-Request-ID"] == CLIENT_ID


def test_client_request_id_is_not_the_stored_request_id_of_a_recording_view(client):
    unit = make_unit()
    officer = make_person("officer", unit=unit)
    recording = make_recording(officer)
    client.force_login(officer)

    response = client.get(reverse("web:recording_detail", args=[recording.pk]), HTTP_X_REQUEST_ID=CLIENT_ID)

    assert response.status_code == 200
    entry = AccessEntry.objects.get(recording=recording)
    event = Event.objects.get(action=EventCode.VIEWED)
    server_id = response["X-Request-ID"]
    assert server_id != CLIENT_ID and len(server_id) == 32
    assert entry.request_id == event.request_id == server_id
    assert response["X-Client-Request-ID"] == CLIENT_ID


def test_each_request_gets_a_fresh_server_id_even_with_the_same_client_id(client):
    first = client.get(reverse("web:login"), HTTP_X_REQUEST_ID=CLIENT_ID)
    second = client.get(reverse("web:login"), HTTP_X_REQUEST_ID=CLIENT_ID)
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert first["X-Client-Request-ID"] == second["X-Client-Request-ID"] == CLIENT_ID


@pytest.mark.parametrize(
    "sent",
    ["", "x" * 65, "has space", "semi;colon", "换行\n", "ｆｕｌｌｗｉｄｔｈ", "abc\x00def", "café"],
)
def test_insane_client_id_is_dropped_and_not_echoed(client, sent):
    extra = {"HTTP_X_REQUEST_ID": sent} if sent else {}
    response = client.get(reverse("web:login"), **extra)
    assert "X-Client-Request-ID" not in response
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.parametrize("sent", ["a", "A-b_9", "x" * 64, "0123456789abcdef0123456789abcdef"])
def test_sane_client_ids(sent):
    assert sane_client_request_id(sent) == sent


def test_middleware_exposes_both_ids_to_services_and_logs_the_client_one(rf, caplog):
    seen = {}

    def view(request):
        from django.http import HttpResponse

        seen.update(server=get_request_id(), client=get_client_request_id(),
                    attr=(request.request_id, request.client_request_id))
        return HttpResponse("ok")

    request = rf.get("/", HTTP_X_REQUEST_ID=CLIENT_ID)
    with caplog.at_level(logging.INFO, logger="core.request"):
        response = RequestIdMiddleware(view)(request)

    assert seen["client"] == CLIENT_ID
    assert seen["server"] == response["X-Request-ID"] != CLIENT_ID
    assert seen["attr"] == (seen["server"], CLIENT_ID)
    assert any(seen["server"] in r.getMessage() and CLIENT_ID in r.getMessage() for r in caplog.records)
    # outside the request, neither id leaks into the next piece of work
    assert get_request_id() == "" and get_client_request_id() == ""


def test_correlation_keeps_or_sets_the_client_id():
    with correlation("server1", client_request_id="client1"):
        assert (get_request_id(), get_client_request_id()) == ("server1", "client1")
        with correlation("server2"):
            assert (get_request_id(), get_client_request_id()) == ("server2", "client1")
    assert (get_request_id(), get_client_request_id()) == ("", "")
