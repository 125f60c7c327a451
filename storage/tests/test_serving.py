"""One serving path for every backend (ACC-2): Range, If-Range, HEAD, 416, shortened answers.

Runs on the configured vault: the filesystem in the SQLite pass, Ceph RGW in the PostgreSQL pass.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from storage.backends import get_vault
from storage.backends.base import Area, ObjectMissingError
from storage.services import register_stored_object
from storage.serving import ensure_present, serve_stored_object

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-2")]

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def stored():
    return register_stored_object(get_vault().write([DATA]), area=Area.ORIGINAL, actor=None)


def _serve(stored, method="get", **headers):
    request = getattr(RequestFactory(), method)("/", **headers)
    return serve_stored_object(request, stored, content_type="video/mp4", filename="clip.mp4")


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_range_request_gets_206_with_exact_bytes(stored):
    response = _serve(stored, HTTP_RANGE="bytes=5000-")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 5000-{len(DATA) - 1}/{len(DATA)}"
    assert response["Content-Length"] == str(len(DATA) - 5000)
    assert response["Accept-Ranges"] == "bytes"
    assert _body(response) == DATA[5000:]


@pytest.mark.parametrize(("header", "start", "end"), [
    ("bytes=0-0", 0, 0), ("bytes=-1", len(DATA) - 1, len(DATA) - 1), ("bytes=100-199", 100, 199),
    ("bytes=10239-", 10239, 10239), ("bytes=-100000", 0, len(DATA) - 1),
])
def test_every_range_form_gets_exactly_its_bytes(stored, header, start, end):
    response = _serve(stored, HTTP_RANGE=header)
    assert response.status_code == 206
    assert _body(response) == DATA[start : end + 1]


def test_no_range_gets_whole_body(stored):
    response = _serve(stored)
    assert response.status_code == 200
    assert _body(response) == DATA
    assert "Content-Range" not in response
    assert response["Cache-Control"] == "private, no-store"
    assert response["ETag"] == f'"{stored.sha256}"'


def test_unsatisfiable_range_gets_416(stored):
    response = _serve(stored, HTTP_RANGE=f"bytes={len(DATA)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


def test_if_range_with_stale_etag_gets_whole_body(stored):
    response = _serve(stored, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert response.status_code == 200
    assert _body(response) == DATA


def test_if_range_with_current_etag_honours_range(stored):
    response = _serve(stored, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{stored.sha256}"')
    assert response.status_code == 206
    assert _body(response) == DATA[:10]


def test_head_has_headers_but_no_body(stored):
    response = _serve(stored, "head", HTTP_RANGE="bytes=-10")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response.content == b""


def test_shortened_answer_says_what_it_sent(stored):
    request = RequestFactory().get("/", HTTP_RANGE="bytes=1000-")
    response = serve_stored_object(request, stored, content_type="video/mp4", filename="a.mp4", max_length=100)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1099/{len(DATA)}"
    assert _body(response) == DATA[1000:1100]


def test_repeated_ranges_serve_same_bytes(stored):
    for _ in range(3):
        assert _body(_serve(stored, HTTP_RANGE="bytes=100-199")) == DATA[100:200]


def test_missing_object_is_refused_before_anything_is_served(stored):
    ensure_present(stored)
    stored.key = get_vault().key_for("0" * 64, Area.ORIGINAL)
    with pytest.raises(ObjectMissingError) as caught:
        ensure_present(stored)
    assert caught.value.message
