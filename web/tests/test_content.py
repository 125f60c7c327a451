"""Content endpoints: HTTP Range, per-page-view play tokens, downloads, no existence leak."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from access.models import AccessEntry
from core.testing import make_jpeg, make_person, make_recording
from custody.choices import EventCode
from custody.models import Event
from recordings.choices import DerivativeKind

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 4 + b"tail-of-the-original"  # 1044 bytes, every offset distinct enough


@pytest.fixture
def recording(officer):
    return make_recording(officer, data=DATA)


def _content_url(recording, **params):
    url = reverse("web:recording_content", args=[recording.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _play_token(client, recording) -> str:
    page = client.get(reverse("web:recording_detail", args=[recording.pk])).content.decode()
    match = re.search(r'content\?t=([A-Za-z0-9_-]+)"', page)
    assert match, "the detail page puts a play token into the player URL"
    return match.group(1)


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len(DATA) - 1),
        ("bytes=-50", len(DATA) - 50, len(DATA) - 1),
    ],
)
def test_range_request_returns_exact_bytes(officer_client, recording, header, start, end):
    response = officer_client.get(_content_url(recording), HTTP_RANGE=header)
    assert response.status_code == 206
    assert _body(response) == DATA[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{recording.original.sha256}"'


def test_unsatisfiable_range_is_416(officer_client, recording):
    response = officer_client.get(_content_url(recording), HTTP_RANGE=f"bytes={len(DATA) + 10}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


def test_repeated_range_requests_keep_returning_the_same_bytes(officer_client, recording):
    for _ in range(3):
        response = officer_client.get(_content_url(recording), HTTP_RANGE="bytes=10-19")
        assert _body(response) == DATA[10:20]
    whole = officer_client.get(_content_url(recording))
    assert whole.status_code == 200
    assert _body(whole) == DATA


def _plays(recording):
    return AccessEntry.objects.filter(recording=recording, action="play")


def _start_play(client, recording, token):
    return client.post(reverse("web:recording_play", args=[recording.pk]), {"t": token})


@pytest.mark.req("ACC-2")
def test_preloading_metadata_registers_only_the_view(officer_client, recording):
    """The browser's preload fetches bytes; nobody pressed play: one 查看, no 播放."""
    token = _play_token(officer_client, recording)
    for header in ("bytes=0-", "bytes=500-", "bytes=0-99"):
        response = officer_client.get(_content_url(recording, t=token), HTTP_RANGE=header)
        assert response.status_code == 206
    assert AccessEntry.objects.filter(recording=recording, action="view").count() == 1
    assert _plays(recording).count() == 0
    assert not Event.objects.filter(action=EventCode.PLAYED).exists()


@pytest.mark.req("ACC-2")
def test_starting_playback_registers_one_play_across_many_range_requests(
    officer_client, officer, recording, monkeypatch
):
    import web.views.content as content

    monkeypatch.setattr(content, "PLAY_CHUNK", 100)
    token = _play_token(officer_client, recording)
    officer_client.get(_content_url(recording, t=token), HTTP_RANGE="bytes=0-")
    assert _start_play(officer_client, recording, token).status_code == 204
    served = 0
    for header in ("bytes=0-", "bytes=0-99", "bytes=500-", "bytes=0-"):
        response = officer_client.get(_content_url(recording, t=token), HTTP_RANGE=header)
        assert response.status_code == 206
        served += len(_body(response))
    assert served == 400  # ranged answers while playing are at most PLAY_CHUNK long
    assert _start_play(officer_client, recording, token).status_code == 204  # pressed again
    assert _plays(recording).count() == 1
    play = _plays(recording).get()
    assert play.person == officer
    assert play.bytes_served == served  # every later range request is tied to the play
    played = Event.objects.filter(
        action=EventCode.PLAYED, subject_type="recording", subject_id=str(recording.pk)
    )
    assert played.count() == 1
    assert played.get().actor_id == officer.pk


@pytest.mark.req("ACC-2")
def test_bytes_before_playback_come_in_short_ranges(officer_client, officer, monkeypatch):
    import web.views.content as content
    import web.views.tokens as tokens

    monkeypatch.setattr(content, "PRELOAD_CHUNK", 100)
    monkeypatch.setattr(tokens, "PRELOAD_BUDGET", 250)
    recording = make_recording(officer, data=DATA)
    token = _play_token(officer_client, recording)
    response = officer_client.get(_content_url(recording, t=token), HTTP_RANGE="bytes=0-")
    assert response["Content-Range"] == f"bytes 0-99/{len(DATA)}"
    assert _body(response) == DATA[:100]
    officer_client.get(_content_url(recording, t=token), HTTP_RANGE="bytes=100-")
    assert _plays(recording).count() == 0  # 200 bytes: still the view's preload
    # A client that keeps fetching without saying it plays is playing all the same.
    response = officer_client.get(_content_url(recording, t=token), HTTP_RANGE="bytes=200-")
    assert _body(response) == DATA[200:]
    assert _plays(recording).count() == 1
    officer_client.get(_content_url(recording, t=token), HTTP_RANGE="bytes=0-99")
    assert _plays(recording).count() == 1
    view = AccessEntry.objects.get(recording=recording, action="view")
    assert view.bytes_served == 200  # the preload is counted on the page's view
    assert _plays(recording).get().bytes_served == len(DATA) - 200 + 100


@pytest.mark.req("ACC-2")
def test_whole_body_with_a_token_is_a_play(officer_client, recording):
    token = _play_token(officer_client, recording)
    assert _body(officer_client.get(_content_url(recording, t=token))) == DATA
    assert _plays(recording).count() == 1


@pytest.mark.req("ACC-2")
def test_play_with_a_forged_token_is_refused(officer_client, recording):
    _play_token(officer_client, recording)
    assert _start_play(officer_client, recording, "forged").status_code == 404
    assert _plays(recording).count() == 0


@pytest.mark.req("ACC-2")
def test_each_page_view_mints_a_new_token_and_registers_again(officer_client, recording):
    first = _play_token(officer_client, recording)
    second = _play_token(officer_client, recording)
    assert first != second
    _start_play(officer_client, recording, first)
    _start_play(officer_client, recording, second)
    assert _plays(recording).count() == 2


@pytest.mark.req("ACC-2")
def test_request_without_token_registers_every_request_whatever_its_range(officer_client, recording):
    """Token-less requests are not part of a known play: each one is its own entry."""
    officer_client.get(_content_url(recording))
    officer_client.get(_content_url(recording), HTTP_RANGE="bytes=0-10")
    officer_client.get(_content_url(recording), HTTP_RANGE="bytes=20-30")
    officer_client.get(_content_url(recording, t="forged-token"), HTTP_RANGE="bytes=40-")
    plays = AccessEntry.objects.filter(recording=recording, action="play").order_by("pk")
    assert [p.bytes_served for p in plays] == [len(DATA), 11, 11, len(DATA) - 40]


@pytest.mark.req("ACC-2")
def test_download_is_attachment_and_registers_every_time(officer_client, officer, recording):
    for _ in range(2):
        response = officer_client.get(_content_url(recording, download=1))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert _body(response) == DATA
    downloads = AccessEntry.objects.filter(recording=recording, action="download")
    assert downloads.count() == 2
    assert Event.objects.filter(action=EventCode.DOWNLOADED, actor_id=officer.pk).count() == 2


@pytest.mark.req("ACC-2")
def test_outsider_gets_404_on_detail_content_and_derivatives(client, outsider, recording):
    client.force_login(outsider)
    assert client.get(reverse("web:recording_detail", args=[recording.pk])).status_code == 404
    assert client.get(_content_url(recording)).status_code == 404
    assert client.get(_content_url(recording, download=1)).status_code == 404
    poster = reverse("web:recording_derivative", args=[recording.pk, "poster"])
    assert client.get(poster).status_code == 404
    assert not AccessEntry.objects.filter(recording=recording).exists()
    missing = reverse("web:recording_detail", args=[recording.pk + 1000])
    assert client.get(missing).status_code == 404  # same answer as "exists but not yours"
    denied = Event.objects.filter(action=EventCode.ACCESS_DENIED, actor_id=outsider.pk)
    assert denied.count() == 5  # every refused read is an event (ACC-5)


@pytest.mark.req("ACC-2")
def test_administrator_sees_no_media(client, admin, recording):
    client.force_login(admin)
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    text = home.content.decode()
    assert "系统概况" in text
    assert recording.original_filename not in text
    assert client.get(reverse("web:recording_detail", args=[recording.pk])).status_code == 404
    assert client.get(_content_url(recording)).status_code == 404
    listing = client.get(reverse("web:recording_list")).content.decode()
    assert recording.original_filename not in listing
    assert not AccessEntry.objects.filter(recording=recording).exists()


@pytest.mark.req("ING-7", "ACC-2")
def test_poster_derivative_is_served_and_registered_as_a_derivative_view(officer_client, recording):
    from ingest.services import store_derivative_bytes

    jpeg = make_jpeg(32, 18)
    store_derivative_bytes(
        recording, actor=None, kind=DerivativeKind.POSTER, source=jpeg, mime_type="image/jpeg"
    )
    response = officer_client.get(
        reverse("web:recording_derivative", args=[recording.pk, "poster"])
    )
    assert response.status_code == 200
    assert _body(response) == jpeg
    assert response["Content-Type"] == "image/jpeg"
    entry = AccessEntry.objects.get(recording=recording)
    assert (entry.action, entry.derivative_kind, entry.bytes_served) == (
        "derivative_view",
        "poster",
        len(jpeg),
    )
    assert (
        officer_client.get(
            reverse("web:recording_derivative", args=[recording.pk, "proxy"])
        ).status_code
        == 404
    )


@pytest.mark.req("ING-7", "ACC-2")
def test_unplayable_original_plays_labelled_proxy_and_registers_once(
    officer_client, officer, monkeypatch
):
    import web.views.content as content
    from ingest.services import store_derivative_bytes

    monkeypatch.setattr(content, "PLAY_CHUNK", 100)

    recording = make_recording(officer, data=b"\x00" * 300, mime_type="video/x-msvideo")
    recording.playable = False
    recording.save(update_fields=["playable"])
    page = officer_client.get(reverse("web:recording_detail", args=[recording.pk])).content.decode()
    assert "正在生成可播放副本" in page

    proxy = b"proxy-bytes-" * 50
    store_derivative_bytes(
        recording, actor=None, kind=DerivativeKind.PROXY, source=proxy, mime_type="video/mp4"
    )
    page = officer_client.get(reverse("web:recording_detail", args=[recording.pk])).content.decode()
    assert "衍生资料（转码副本，非原始记录）" in page
    token = re.search(r'derivatives/proxy\?t=([A-Za-z0-9_-]+)"', page).group(1)
    url = reverse("web:recording_derivative", args=[recording.pk, "proxy"]) + f"?t={token}"
    officer_client.get(url, HTTP_RANGE="bytes=0-")
    assert _plays(recording).count() == 0  # preload
    _start_play(officer_client, recording, token)
    for header in ("bytes=0-", "bytes=100-199"):
        response = officer_client.get(url, HTTP_RANGE=header)
        assert response.status_code == 206
    assert _body(officer_client.get(url, HTTP_RANGE="bytes=100-199")) == proxy[100:200]
    assert _plays(recording).count() == 1
    play = _plays(recording).get()
    assert (play.derivative_kind, play.bytes_served) == ("proxy", 300)


def test_unit_custodian_may_open_unit_recordings(client, unit, recording):
    custodian = make_person("custodian", unit=unit)
    client.force_login(custodian)
    assert client.get(reverse("web:recording_detail", args=[recording.pk])).status_code == 200
    assert client.get(_content_url(recording), HTTP_RANGE="bytes=0-9").status_code == 206
