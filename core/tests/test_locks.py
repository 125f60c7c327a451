"""Locks shared by every node, released the moment their holder dies (scale-out, INT-2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from django.db import connection

from core.locks import _PG_CLASS, LockBusy, _pg_key, exclusive
from core.testing import other_session

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_postgres_lock_is_seen_by_another_node_and_freed_when_it_dies():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    other = other_session()
    other.execute("SELECT pg_advisory_lock(%s, %s)", [_PG_CLASS, _pg_key("upload-x")])
    with pytest.raises(LockBusy), exclusive("upload-x"):
        pass
    other.close()  # the node holding it is gone: its session ends, so does the lock
    _acquire_soon("upload-x")  # the server ends the session a moment after the socket closes
    with exclusive("upload-x"):  # released after the block
        pass


@pytest.mark.postgres
def test_postgres_lock_of_another_name_is_independent():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with exclusive("upload-a"), exclusive("upload-b"):
        pass


def _acquire_soon(name: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with exclusive(name):
                return
        except LockBusy:
            assert time.monotonic() < deadline, f"{name} still held {within} s after its holder died"
            time.sleep(0.05)


def test_file_lock_is_freed_when_its_holder_is_killed(settings, tmp_path):
    if connection.vendor == "postgresql":
        pytest.skip("the file lock is the SQLite (one machine) mode")
    settings.VAR_DIR = tmp_path
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, time
        os.makedirs({str(tmp_path / 'locks')!r}, exist_ok=True)
        fd = os.open({str(tmp_path / 'locks' / 'upload-y.lock')!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy), exclusive("upload-y"):
            pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    _acquire_soon("upload-y")
