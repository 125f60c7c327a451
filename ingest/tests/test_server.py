"""A real gunicorn server killed mid-upload: the upload resumes and ends as one record (ING-6).

Runs against its own temporary var dir (database, vault, locks), never the test database.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import io
import os
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
SIZE = 60 * 1024 * 1024
SEND_BEFORE_KILL = 30 * 1024 * 1024

SEED = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from core.testing import make_person, make_unit
person = make_person("officer", unit=make_unit())
session = SessionStore()
session[SESSION_KEY] = str(person.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = person.get_session_auth_hash()
session.create()
print("SESSION=" + session.session_key)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, env: dict, port: int, log: Path):
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "-c", "config/gunicorn.conf.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("OPTIONS", "/api/v1/uploads/")
                if conn.getresponse().status == 204:
                    return
            time.sleep(0.2)
        raise AssertionError("gunicorn did not come up in 30 s")

    def kill(self) -> None:
        """SIGKILL the master and its workers (the process group this test started)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.mark.req("ING-6")
def test_server_killed_mid_upload_resumes_to_one_record(tmp_path):
    var = tmp_path / "var"
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "AVR_VAULT_DIR")
    }
    env.update(
        AVR_VAR_DIR=str(var),
        AVR_BIND=f"127.0.0.1:{port}",
        AVR_HUEY_IMMEDIATE="1",
        AVR_WEB_WORKERS="1",
        AVR_WEB_THREADS="4",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    manage = [str(PYTHON), "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    session = next(
        line.split("=", 1)[1] for line in seeded.stdout.splitlines() if line.startswith("SESSION=")
    )
    csrf = "k" * 32
    auth = {
        "Tus-Resumable": "1.0.0",
        "Cookie": f"sessionid={session}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
    }

    data = os.urandom(SIZE)
    expected = hashlib.sha256(data).hexdigest()
    server = Server(env, port, tmp_path / "gunicorn.log")
    try:
        server.start()
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
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            not staging.exists() or staging.stat().st_size < SEND_BEFORE_KILL // 2
        ):
            time.sleep(0.05)
        server.kill()
        conn.close()

        server.start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("HEAD", location, headers=auth)
        head = conn.getresponse()
        head.read()
        assert head.status == 200
        offset = int(head.getheader("Upload-Offset"))
        assert SEND_BEFORE_KILL // 2 <= offset <= SEND_BEFORE_KILL
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
        server.kill()

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
