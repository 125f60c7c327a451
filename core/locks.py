"""Exclusive locks shared by every web node and worker, released when their holder dies.

On PostgreSQL (the scale-out mode) a session-level advisory lock: any node that can reach the
database sees it, and the server drops it the moment the holder's connection closes — a web node
killed mid-upload frees its uploads at once for the node the client retries through. On SQLite
(the embedded default: one machine by definition) an ``flock`` on a file under
``$AVR_VAR_DIR/locks``, which the kernel releases when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

# The two-key form of PostgreSQL's advisory locks: this class key, then a 32-bit hash of the
# name. Its key space does not overlap the one-key locks (the custody sequencer uses one).
_PG_CLASS = 0x41565231  # "AVR1"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


class LockBusy(Exception):
    """Somebody else holds the lock."""


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[None]:
    """Hold the lock called ``name`` for the block, or raise ``LockBusy`` at once."""
    if connection.vendor == "postgresql":
        with _pg_lock(name):
            yield
    else:
        with _file_lock(name):
            yield


def _pg_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


@contextlib.contextmanager
def _pg_lock(name: str) -> Iterator[None]:
    key = _pg_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_PG_CLASS, key])
        if not cursor.fetchone()[0]:
            raise LockBusy(name)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_PG_CLASS, key])


@contextlib.contextmanager
def _file_lock(name: str) -> Iterator[None]:
    directory = Path(settings.VAR_DIR) / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_SAFE_NAME.sub('_', name)}.lock"
    for _attempt in range(5):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(name) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder before us removed the file: lock the new one instead
            os.close(fd)
            continue
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            os.close(fd)
        return
    raise LockBusy(name)
