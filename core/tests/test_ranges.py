"""HTTP Range parsing and serving (RFC 9110 §14)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.ranges import content_disposition, parse_range, ranged_file_response

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-", (0, SIZE - 1)),
        ("bytes=999-", (999, 999)),
        ("bytes=999-999", (999, 999)),
        ("bytes=10-20", (10, 20)),
        ("bytes=500-99999", (500, SIZE - 1)),  # end past the size is clamped
        ("bytes=-1", (SIZE - 1, SIZE - 1)),  # the last byte
        ("bytes=-100", (900, SIZE - 1)),
        ("bytes=-5000", (0, SIZE - 1)),  # suffix longer than the file: everything
        (" bytes=1-2 ", (1, 2)),
        ("bytes=1000-", False),  # starts at the size: unsatisfiable
        ("bytes=1000-2000", False),
        ("bytes=20-10", False),
        ("bytes=-0", False),
        ("bytes=-", None),
        ("bytes=0-1,5-6", None),  # multiple ranges: whole body is allowed
        ("items=0-1", None),
        ("bytes=a-b", None),
        ("bytes=1.5-2", None),
    ],
)
def test_parse_range_cases(header, expected):
    assert parse_range(header, SIZE) == expected


def test_parse_range_on_empty_file_is_unsatisfiable():
    assert parse_range("bytes=0-", 0) is False
    assert parse_range("bytes=-1", 0) is False


@pytest.fixture
def media(tmp_path):
    path = tmp_path / "clip.mp4"
    data = bytes(range(256)) * 40  # 10240 bytes
    path.write_bytes(data)
    return str(path), data


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_range_request_gets_206_with_exact_bytes(media):
    path, data = media
    request = RequestFactory().get("/", HTTP_RANGE="bytes=5000-")
    response = ranged_file_response(request, path, content_type="video/mp4", filename="clip.mp4")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 5000-{len(data) - 1}/{len(data)}"
    assert response["Content-Length"] == str(len(data) - 5000)
    assert response["Accept-Ranges"] == "bytes"
    assert _body(response) == data[5000:]


def test_no_range_gets_whole_body(media):
    path, data = media
    response = ranged_file_response(
        RequestFactory().get("/"), path, content_type="video/mp4", filename="a.mp4"
    )
    assert response.status_code == 200
    assert _body(response) == data
    assert "Content-Range" not in response


def test_unsatisfiable_range_gets_416(media):
    path, data = media
    request = RequestFactory().get("/", HTTP_RANGE=f"bytes={len(data)}-")
    response = ranged_file_response(request, path, content_type="video/mp4", filename="a.mp4")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(data)}"


def test_if_range_with_stale_etag_gets_whole_body(media):
    path, data = media
    request = RequestFactory().get("/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    response = ranged_file_response(
        request, path, content_type="video/mp4", filename="a.mp4", etag="new"
    )
    assert response.status_code == 200
    assert _body(response) == data
    assert response["ETag"] == '"new"'


def test_if_range_with_current_etag_honours_range(media):
    path, data = media
    request = RequestFactory().get("/", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"cur"')
    response = ranged_file_response(
        request, path, content_type="video/mp4", filename="a.mp4", etag="cur"
    )
    assert response.status_code == 206
    assert _body(response) == data[:10]


def test_head_has_headers_but_no_body(media):
    path, data = media
    request = RequestFactory().head("/", HTTP_RANGE="bytes=-10")
    response = ranged_file_response(request, path, content_type="video/mp4", filename="a.mp4")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response.content == b""


def test_repeated_ranges_serve_same_bytes(media):
    path, data = media
    for _ in range(3):
        request = RequestFactory().get("/", HTTP_RANGE="bytes=100-199")
        response = ranged_file_response(request, path, content_type="video/mp4", filename="a.mp4")
        assert _body(response) == data[100:200]


def test_content_disposition_keeps_chinese_filename():
    value = content_disposition("执法记录 2026.mp4", attachment=True)
    assert value.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E6%89%A7%E6%B3%95" in value
    ascii_name = value.split('filename="')[1].split('"')[0]
    assert ascii_name.isascii() and ascii_name.endswith(" 2026.mp4")
