"""ACC-2: every byte of an original or a derivative served belongs to a registered access.

Each test sums the bytes actually sent and compares them with the bytes counted in the register.
"""

from __future__ import annotations

import re

import pytest
from django.db.models import Sum
from django.urls import reverse

from access.models import AccessEntry, ServedRange
from core.testing import make_jpeg, make_recording
from custody.choices import EventCode
from custody.models import Event
from recordings.choices import DerivativeKind

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 8  # 2048 bytes


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _counted() -> int:
    return ServedRange.objects.aggregate(total=Sum("length"))["total"] or 0


@pytest.fixture
def recording(officer):
    return make_recording(officer, data=DATA)


def _content(recording, **params):
    url = reverse("web:recording_content", args=[recording.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def _store(recording, kind, data, mime):
    from ingest.services import store_derivative_bytes

    store_derivative_bytes(recording, actor=None, kind=kind, source=data, mime_type=mime)


def _token(client, recording) -> str:
    page = client.get(reverse("web:recording_detail", args=[recording.pk])).content.decode()
    return re.search(r'\?t=([A-Za-z0-9_-]+)"', page).group(1)


RANGE_FORMS = [
    ({"HTTP_RANGE": "bytes=1-"}, "bytes=1-"),
    ({"HTTP_RANGE": "bytes=-500"}, "suffix"),
    ({"HTTP_RANGE": "bytes=0-0,1-"}, "multiple"),
    ({"HTTP_RANGE": "bytes=1-", "HTTP_IF_RANGE": '"stale"'}, "if-range mismatch"),
    ({}, "no range"),
]


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize(("headers", "label"), RANGE_FORMS, ids=[f[1] for f in RANGE_FORMS])
def test_no_range_form_escapes_on_the_original(officer_client, recording, headers, label):
    sent = len(_body(officer_client.get(_content(recording), **headers)))
    assert sent > 0
    entry = AccessEntry.objects.get(recording=recording)
    assert entry.action == "play"
    assert entry.bytes_served == sent == _counted()


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize(("headers", "label"), RANGE_FORMS, ids=[f[1] for f in RANGE_FORMS])
def test_no_range_form_escapes_on_a_derivative(officer_client, recording, headers, label):
    _store(recording, DerivativeKind.PROXY, DATA[::-1], "video/mp4")
    url = reverse("web:recording_derivative", args=[recording.pk, "proxy"])
    sent = len(_body(officer_client.get(url, **headers)))
    assert sent > 0
    entry = AccessEntry.objects.get(recording=recording)
    assert (entry.action, entry.derivative_kind) == ("derivative_view", "proxy")
    assert entry.bytes_served == sent == _counted()


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize(("headers", "label"), RANGE_FORMS, ids=[f[1] for f in RANGE_FORMS])
def test_no_range_form_escapes_with_a_play_token(officer_client, recording, headers, label):
    token = _token(officer_client, recording)
    sent = 0
    for _ in range(3):
        sent += len(_body(officer_client.get(_content(recording, t=token), **headers)))
    assert sent == _counted()  # preload on the view, the rest on play entries


@pytest.mark.req("ACC-2")
def test_head_sends_no_bytes_and_registers_nothing(officer_client, recording):
    response = officer_client.head(_content(recording), HTTP_RANGE="bytes=1-")
    assert response.status_code == 206
    assert not AccessEntry.objects.exists()


@pytest.mark.req("ACC-2")
def test_second_whole_read_under_one_token_is_a_new_entry(officer_client, recording):
    token = _token(officer_client, recording)
    for _ in range(3):
        assert _body(officer_client.get(_content(recording, t=token))) == DATA
    plays = AccessEntry.objects.filter(recording=recording, action="play")
    assert [p.bytes_served for p in plays.order_by("pk")] == [len(DATA)] * 3
    assert Event.objects.filter(action=EventCode.PLAYED).count() == 3


@pytest.mark.req("ACC-2")
def test_ranges_covering_the_file_again_are_a_new_entry(officer_client, recording, monkeypatch):
    import web.views.content as content

    monkeypatch.setattr(content, "PLAY_CHUNK", 512)
    token = _token(officer_client, recording)
    officer_client.post(reverse("web:recording_play", args=[recording.pk]), {"t": token})
    for start in (0, 512, 1024, 1536):  # one full read, range by range
        officer_client.get(_content(recording, t=token), HTTP_RANGE=f"bytes={start}-")
    plays = AccessEntry.objects.filter(recording=recording, action="play")
    assert plays.count() == 1 and plays.get().bytes_served == len(DATA)
    officer_client.get(_content(recording, t=token), HTTP_RANGE="bytes=1-")  # again
    assert plays.count() == 2
    assert plays.order_by("pk").last().bytes_served == 512


@pytest.mark.req("ACC-2")
def test_download_is_its_own_entry_every_time_even_ranged(officer_client, recording):
    for header in ("bytes=1-", "bytes=-10"):
        officer_client.get(_content(recording, download=1), HTTP_RANGE=header)
    downloads = AccessEntry.objects.filter(action="download").order_by("pk")
    assert [d.bytes_served for d in downloads] == [len(DATA) - 1, 10]


@pytest.mark.req("ACC-2")
def test_poster_on_the_detail_page_is_one_entry_per_page_view(officer_client, recording):
    jpeg = make_jpeg(32, 18)
    _store(recording, DerivativeKind.POSTER, jpeg, "image/jpeg")
    token = _token(officer_client, recording)
    url = reverse("web:recording_derivative", args=[recording.pk, "poster"]) + f"?t={token}"
    for _ in range(3):
        assert _body(officer_client.get(url)) == jpeg
    entry = AccessEntry.objects.get(action="derivative_view")
    assert (entry.derivative_kind, entry.bytes_served) == ("poster", 3 * len(jpeg))
    event = Event.objects.get(action=EventCode.VIEWED, details_row__content__access_entry=entry.pk)
    assert (event.details["kind"], event.details["action"]) == ("poster", "derivative_view")


@pytest.mark.req("ACC-2")
def test_list_page_token_registers_each_poster_once(client, officer):
    from web.views.tokens import mint_list_token

    client.force_login(officer)
    recordings = [make_recording(officer, data=DATA + bytes([i])) for i in range(2)]
    jpeg = make_jpeg(16, 9)
    for r in recordings:
        _store(r, DerivativeKind.POSTER, jpeg, "image/jpeg")

    class Page:
        session = client.session

    token = mint_list_token(Page, [r.pk for r in recordings])
    Page.session.save()
    for _ in range(2):
        for r in recordings:
            url = reverse("web:recording_derivative", args=[r.pk, "poster"]) + f"?t={token}"
            assert _body(client.get(url)) == jpeg
    entries = AccessEntry.objects.filter(action="derivative_view")
    assert sorted(e.recording_id for e in entries) == sorted(r.pk for r in recordings)
    assert {e.bytes_served for e in entries} == {2 * len(jpeg)}
    # A list token is no play token: it never reaches the original.
    client.get(_content(recordings[0], t=token), HTTP_RANGE="bytes=0-")
    assert AccessEntry.objects.filter(action="play").get().bytes_served == len(DATA) + 1


@pytest.mark.req("ACC-2")
def test_catalogue_and_detail_pages_put_their_page_token_on_every_poster(officer_client, officer):
    import re

    recordings = [make_recording(officer, data=DATA + bytes([i])) for i in range(3)]
    jpeg = make_jpeg(16, 9)
    for r in recordings:
        _store(r, DerivativeKind.POSTER, jpeg, "image/jpeg")
    for _ in range(2):  # the same page view's images, loaded twice (a reflow, a back button)
        page = officer_client.get(reverse("web:recording_list")).content.decode()
        urls = re.findall(r'src="(/recordings/\d+/derivatives/poster\?t=[^"]+)"', page)
        assert len(urls) == 3
        for url in urls * 2:
            assert _body(officer_client.get(url)) == jpeg
    # one entry per poster per page view: two page views, three posters
    assert AccessEntry.objects.filter(action="derivative_view").count() == 6
    detail = officer_client.get(reverse("web:recording_detail", args=[recordings[0].pk]))
    assert re.search(r'poster="/recordings/\d+/derivatives/poster\?t=[^"]+"', detail.content.decode())
