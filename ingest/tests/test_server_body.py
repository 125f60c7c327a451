"""tus PATCH bodies through a real gunicorn, read from its socket into pooled buffers (ING-2).

``core.request_body`` bypasses gunicorn's ``wsgi.input`` for a Content-Length body. These
tests send bodies the way a network delivers them — headers and body in one packet, odd
pieces, a pipelined request behind the body, a client that goes away mid-body, a request
refused before its body is read, a chunked body (the WSGI path) — and check the digests the
platform stored against digests computed here, and that a kept-alive connection stays in step.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
import time

import pytest

from core.testing_server import Platform

pytestmark = pytest.mark.req("ING-2")

SEED = """
from core.testing import make_person, make_unit
from orgs.services import issue_api_token
person = make_person("officer", unit=make_unit())
row, secret = issue_api_token(person, "test", actor=None)
print("TOKEN=" + secret)
"""

STORED = """
import json
from ingest.models import Upload, IngestItem
from storage.models import StoredObject
upload = Upload.objects.get(pk="{upload}")
item = IngestItem.objects.filter(upload=upload).first()
obj = StoredObject.objects.filter(sha256=item.sha256).first() if item else None
print("STORED=" + json.dumps({{"offset": upload.offset, "status": upload.status,
    "sha256": item and item.sha256, "sm3": item and item.sm3, "object": bool(obj)}}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    platform = Platform(
        tmp_path_factory.mktemp("body") / "var",
        worker=False,  # the pipeline runs inline in the web process
        extra_env={"AVR_HUEY_IMMEDIATE": "1", "AVR_WEB_THREADS": "4"},
    )
    platform.manage("migrate", "-v0")
    out = platform.shell(SEED)
    platform.token = next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))
    platform.start_web()
    yield platform
    platform.stop()


def _headers(server, **extra) -> dict:
    return {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {server.token}", **extra}


def _create(server, size: int, name: str = "DSJ-0001.MP4") -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    meta = "filename " + base64.b64encode(name.encode()).decode()
    conn.request("POST", "/api/v1/uploads/", headers=_headers(server, **{"Upload-Length": str(size), "Upload-Metadata": meta}))
    response = conn.getresponse()
    response.read()
    assert response.status == 201, response.status
    return response.getheader("Location")


def _patch_head(server, location: str, offset: int, length: int) -> bytes:
    lines = [f"PATCH {location} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in _headers(server, **{
        "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(length)}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _head_request(server, location: str) -> bytes:
    lines = [f"HEAD {location} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in _headers(server).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Stream:
    """One buffered reader for every response of a connection (HTTPResponse asks for makefile)."""

    def __init__(self, sock):
        self.file = sock.makefile("rb")

    def makefile(self, mode):
        return self

    def __getattr__(self, name):
        return getattr(self.file, name)

    def close(self):  # a response read to its end closes its file: not the connection's
        pass


def _response(stream: _Stream, method: str = "PATCH") -> http.client.HTTPResponse:
    response = http.client.HTTPResponse(stream, method=method)
    response.begin()
    response.read()
    return response


def _patch(server, location: str, offset: int, body, *, chunked: bool = False) -> http.client.HTTPResponse:
    """One PATCH through http.client: Content-Length, or a chunked body from an iterable."""
    headers = _headers(server, **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("PATCH", location, body=body, headers=headers, encode_chunked=chunked)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _stored(server, location: str) -> dict:
    upload = location.rstrip("/").rsplit("/", 1)[-1]
    out = server.shell(STORED.format(upload=upload))
    return json.loads(next(line[7:] for line in out.splitlines() if line.startswith("STORED=")))


def _digests(data: bytes) -> tuple[str, str]:
    return hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()


def test_a_body_in_odd_pieces_behind_its_headers_is_stored_with_exact_digests(server):
    data = os.urandom(5 * 1024 * 1024 + 12345)
    location = _create(server, len(data))
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(_patch_head(server, location, 0, len(data)) + data[:1000])  # one packet
        position = 1000
        for size in (1, 7, 4095, 65537, 1024 * 1024 + 3, 13):
            sock.sendall(data[position : position + size])
            position += size
            time.sleep(0.01)  # separate segments: the reads see them one by one
        sock.sendall(data[position:])
        response = _response(_Stream(sock))
    assert response.status == 204
    assert int(response.getheader("Upload-Offset")) == len(data)
    sha256, sm3 = _digests(data)
    stored = _stored(server, location)
    assert (stored["sha256"], stored["sm3"], stored["object"]) == (sha256, sm3, True)


def test_a_request_pipelined_behind_the_body_is_answered_in_turn(server):
    data = os.urandom(3 * 1024 * 1024)
    first, rest = data[:1024 * 1024], data[1024 * 1024:]
    location = _create(server, len(data))
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        # a PATCH and a HEAD in one write: the HEAD's bytes must not be taken for body
        sock.sendall(_patch_head(server, location, 0, len(first)) + first + _head_request(server, location))
        stream = _Stream(sock)
        patched = _response(stream)
        head = _response(stream, "HEAD")
        assert patched.status == 204 and int(patched.getheader("Upload-Offset")) == len(first)
        assert head.status == 200 and int(head.getheader("Upload-Offset")) == len(first)
        sock.sendall(_patch_head(server, location, len(first), len(rest)) + rest)
        done = _response(stream)
    assert done.status == 204 and int(done.getheader("Upload-Offset")) == len(data)
    assert _stored(server, location)["sha256"] == _digests(data)[0]


def test_a_client_gone_mid_body_keeps_what_arrived_and_the_upload_resumes(server):
    data = os.urandom(4 * 1024 * 1024)
    sent = 1024 * 1024 + 777
    location = _create(server, len(data))
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(_patch_head(server, location, 0, len(data)) + data[:sent])
    # the server notices the closed connection and keeps every byte that came
    deadline = time.monotonic() + 60
    while _stored(server, location)["offset"] != sent:
        assert time.monotonic() < deadline, _stored(server, location)
        time.sleep(0.2)
    assert _patch(server, location, sent, data[sent:]).status == 204
    sha256, sm3 = _digests(data)
    stored = _stored(server, location)
    assert (stored["sha256"], stored["sm3"]) == (sha256, sm3)


def test_a_patch_refused_before_its_body_is_read_takes_nothing_of_it(server):
    data = os.urandom(256 * 1024)
    location = _create(server, len(data))
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(_patch_head(server, location, 5, len(data)) + data)  # wrong offset: 409
        refused = _response(_Stream(sock))
    assert refused.status == 409
    assert _stored(server, location)["offset"] == 0
    assert _patch(server, location, 0, data).status == 204
    assert _stored(server, location)["sha256"] == _digests(data)[0]


def test_a_chunked_body_goes_through_the_wsgi_stream(server):
    data = os.urandom(2 * 1024 * 1024 + 5)
    location = _create(server, len(data))
    pieces = (data[i : i + 300_000] for i in range(0, len(data), 300_000))
    assert _patch(server, location, 0, pieces, chunked=True).status == 204
    sha256, sm3 = _digests(data)
    stored = _stored(server, location)
    assert (stored["sha256"], stored["sm3"]) == (sha256, sm3)
