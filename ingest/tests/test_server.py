"""A real gunicorn server killed mid-upload: the upload resumes and ends as one record (ING-6).

Runs against its own temporary var dir (database, vault, locks), never the test database.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import os
import sqlite3
import time

import pytest

from core.testing_server import Platform

SIZE = 60 * 1024 * 1024
SEND_BEFORE_KILL = 30 * 1024 * 1024
WRITTEN_BEFORE_KILL = 4 * 1024 * 1024  # one request-body chunk written by the server


HANG = 600  # seconds: only a server that is stuck, not a slow one, gets this far


def _wait_until(condition, server) -> None:
    """Poll a condition the server's progress makes true, for as long as it takes on a busy
    machine. Not a speed check: it fails only if the server died, or hung for ten minutes."""
    started = time.monotonic()
    while not condition():
        assert server.poll() is None, "the web server exited before writing the body"
        assert time.monotonic() - started < HANG, "the web server made no progress (hung)"
        time.sleep(0.05)

SEED = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from core.testing import make_person, make_unit
person = make_person("officer", unit=make_unit())
session = SessionStore()
session[SESSION_KEY] = str(person.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = person.get_session_auth_hash()
session.create()
print("SESSION=" + session.session_key)
"""


@pytest.mark.req("ING-6")
def test_server_killed_mid_upload_resumes_to_one_record(tmp_path):
    var = tmp_path / "var"
    platform = Platform(
        var,
        worker=False,  # the pipeline runs inline in the web process (AVR_HUEY_IMMEDIATE)
        extra_env={"AVR_HUEY_IMMEDIATE": "1", "AVR_WEB_THREADS": "4", "PYTHONUNBUFFERED": "1"},
    )
    port = platform.port
    platform.manage("migrate", "--noinput")
    session = next(
        line.split("=", 1)[1] for line in platform.shell(SEED).splitlines() if line.startswith("SESSION=")
    )
    csrf = "k" * 32
    auth = {
        "Tus-Resumable": "1.0.0",
        "Cookie": f"sessionid={session}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
    }

    data = os.urandom(SIZE)
    expected = hashlib.sha256(data).hexdigest()
    try:
        platform.start_web()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        metadata = "filename " + base64.b64encode("长录像.mp4".encode()).decode()
        conn.request(
            "POST",
            "/api/v1/uploads/",
            headers={**auth, "Upload-Length": str(SIZE), "Upload-Metadata": metadata},
        )
        created = conn.getresponse()
        created.read()
        assert created.status == 201, created.status
        location = created.getheader("Location")
        staging = var / "vault" / "staging" / f"tus-{location.rsplit('/', 1)[-1].replace('-', '')}"

        # Send half of the body of one big PATCH, then kill the server while it is writing.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.putrequest("PATCH", location)
        for key, value in {
            **auth,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(SIZE),
        }.items():
            conn.putheader(key, value)
        conn.endheaders()
        view = memoryview(data)
        for start in range(0, SEND_BEFORE_KILL, 1024 * 1024):
            conn.send(view[start : start + 1024 * 1024])
        # Kill the server once it has written part of the body, however long that takes on a
        # busy machine: the behaviour under test is "killed mid-body", not a speed.
        _wait_until(
            lambda: staging.exists() and staging.stat().st_size >= WRITTEN_BEFORE_KILL,
            platform.web,
        )
        platform.kill_web()
        conn.close()

        platform.start_web()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("HEAD", location, headers=auth)
        head = conn.getresponse()
        head.read()
        assert head.status == 200
        offset = int(head.getheader("Upload-Offset"))
        # what arrived before the kill is kept, no more than was sent, and the offset is the
        # staging file's true size (reconciled after the crash)
        assert WRITTEN_BEFORE_KILL <= offset <= SEND_BEFORE_KILL < SIZE
        assert offset == staging.stat().st_size

        conn.request(
            "PATCH",
            location,
            body=view[offset:].tobytes(),
            headers={
                **auth,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        done = conn.getresponse()
        body = done.read()
        assert done.status == 204, body.decode("utf-8", "replace")
        assert int(done.getheader("Upload-Offset")) == SIZE

        # A standard tus client (tuspy) speaks the same protocol, in small chunks.
        from tusclient import client as tus_client

        small = os.urandom(700 * 1024)
        uploader = tus_client.TusClient(
            f"http://127.0.0.1:{port}/api/v1/uploads/", headers=auth
        ).uploader(
            file_stream=io.BytesIO(small), chunk_size=256 * 1024, metadata={"filename": "tuspy.bin"}
        )
        uploader.upload()
        assert uploader.offset == len(small)
    finally:
        platform.kill_web()

    db = sqlite3.connect(f"file:{var / 'db.sqlite3'}?mode=ro", uri=True)
    originals = db.execute(
        "SELECT sha256, size, key FROM storage_storedobject WHERE area = 'originals' ORDER BY id"
    ).fetchall()
    recordings = db.execute(
        "SELECT original_filename, flagged FROM recordings_recording ORDER BY id"
    ).fetchall()
    items = db.execute("SELECT status, sha256 FROM ingest_ingestitem ORDER BY id").fetchall()
    db.close()
    # exactly one stored object and one record for the interrupted upload (plus tuspy's file)
    assert len(originals) == 2 and originals[0][:2] == (expected, SIZE)
    assert [r[0] for r in recordings] == ["长录像.mp4", "tuspy.bin"]
    # random bytes: kept, catalogued and flagged as not media
    assert items == [("flagged", expected), ("flagged", hashlib.sha256(small).hexdigest())]
    stored = var / "vault" / originals[0][2]
    assert stored.stat().st_size == SIZE
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == expected
    assert list((var / "vault" / "staging").iterdir()) == []
