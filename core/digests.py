"""Streaming SHA-256 + SM3 + size in one pass (ING-2, habit 4).

Each algorithm runs in its own thread fed by a bounded queue; ``hashlib``
releases the GIL on large buffers, so both digests advance while the caller
reads the next chunk from the network and writes it to disk. The slowest
algorithm (SM3, ~0.3 GB/s) sets the pace, not the sum of all three stages.
"""

from __future__ import annotations

import functools
import hashlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

ALGORITHMS = ("sha256", "sm3")
CHUNK_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Digests:
    """Checksums always travel with their algorithm and the size they cover."""

    sha256: str
    sm3: str
    size: int

    def as_dict(self) -> dict:
        return {"sha256": self.sha256, "sm3": self.sm3, "size": self.size}


class _HashWorker(threading.Thread):
    def __init__(self, algorithm: str, state=None):
        super().__init__(daemon=True, name=f"digest-{algorithm}")
        self.hasher = state if state is not None else hashlib.new(algorithm)
        self.queue: queue.Queue = queue.Queue(maxsize=8)

    def run(self) -> None:
        while True:
            chunk = self.queue.get()
            try:
                if chunk is None:
                    return
                if type(chunk) is _Lent:
                    self.hasher.update(chunk.view)
                    chunk.done()
                else:
                    self.hasher.update(chunk)
            finally:
                self.queue.task_done()


class _Lent:
    """A caller's buffer hashed without a copy; ``release()`` runs once every algorithm is done."""

    __slots__ = ("view", "remaining", "release", "lock")

    def __init__(self, view: memoryview, users: int, release):
        self.view, self.remaining, self.release = view, users, release
        self.lock = threading.Lock()

    def done(self) -> None:
        with self.lock:
            self.remaining -= 1
            last = self.remaining == 0
        if last:
            self.release()


class PooledReader:
    """Chunks read by ``readinto`` into a few reused buffers, to be lent on without a copy.

    Iterating yields ``memoryview`` chunks. A buffer goes back to the pool once the consumer
    has asked for the next chunk *and* every :meth:`lend` of it has been released: a consumer
    that copies the chunk (S3 staging) frees the buffer at once, one that hands it to
    :meth:`StreamingDigester.update` (filesystem staging) frees it once both digests have
    consumed it. Reading blocks while every buffer is still held, which bounds memory at
    ``count * size`` and lets the slowest digest pace the reading. Fresh ``bytes`` per chunk
    would cost an allocation, page faults and zeroing each time, and — from a WSGI server's
    stream — several copies of every byte.
    """

    def __init__(self, readinto, *, count: int = 8, size: int = 1024 * 1024):
        self._readinto = readinto
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(count):
            self._free.put(bytearray(size))
        self._holds: dict[int, int] = {}  # id(buffer) -> holders (the consumer, each lend)
        self._lock = threading.Lock()

    def __iter__(self):
        while True:
            buffer = self._free.get()
            with self._lock:
                self._holds[id(buffer)] = 1
            try:
                n = self._readinto(buffer)
                if not n:
                    return
                yield memoryview(buffer)[:n]
            finally:
                self._drop(buffer)  # the consumer has moved on (or stopped)

    def lend(self, chunk) -> Callable[[], None] | None:
        """For a chunk this reader yielded: a release callback for
        ``StreamingDigester.update(chunk, release=...)``; ``None`` for any other chunk (then
        the digester copies it, as it must)."""
        buffer = chunk.obj if isinstance(chunk, memoryview) else None
        with self._lock:
            if buffer is None or id(buffer) not in self._holds:
                return None
            self._holds[id(buffer)] += 1
        return functools.partial(self._drop, buffer)

    def _drop(self, buffer: bytearray) -> None:
        with self._lock:
            left = self._holds[id(buffer)] - 1
            if left:
                self._holds[id(buffer)] = left
                return
            del self._holds[id(buffer)]
        self._free.put(buffer)


class StreamingDigester:
    """Feed chunks with :meth:`update`; read results with :meth:`finish`.

    ``checkpoint()`` / ``restore()`` let a caller undo a rejected chunk (tus
    checksum mismatch, a client that sends past its declared length).
    """

    def __init__(self, states: dict | None = None, size: int = 0, algorithms: tuple = ALGORITHMS):
        """``algorithms`` narrows the work (the read-back after a write needs SHA-256 only); the
        digests of an algorithm not run are empty strings."""
        states = states or {}
        self.size = size
        self._workers = [_HashWorker(a, states.get(a)) for a in algorithms]
        for worker in self._workers:
            worker.start()
        self._closed = False

    def update(self, chunk: bytes | memoryview, *, release=None) -> None:
        """Hash ``chunk``. Without ``release`` a mutable chunk is copied (the caller may reuse it
        at once); with ``release`` it is lent: hashed in place, and ``release()`` is called when
        every algorithm has consumed it — the caller must not touch it before then."""
        if release is not None:
            view = memoryview(chunk)
            if not view:
                release()
                return
            self.size += len(view)
            lent = _Lent(view, len(self._workers), release)
            for worker in self._workers:
                worker.queue.put(lent)
            return
        if not chunk:
            return
        chunk = bytes(chunk)
        self.size += len(chunk)
        for worker in self._workers:
            worker.queue.put(chunk)

    def _drain(self) -> None:
        for worker in self._workers:
            worker.queue.join()

    def checkpoint(self) -> tuple[dict, int]:
        self._drain()
        return {w.hasher.name: w.hasher.copy() for w in self._workers}, self.size

    def restore(self, point: tuple[dict, int]) -> None:
        self._drain()
        states, size = point
        for worker in self._workers:
            worker.hasher = states[worker.hasher.name].copy()
        self.size = size

    def peek(self) -> Digests:
        """Digests of everything fed so far, without closing."""
        self._drain()
        values = {w.hasher.name: w.hasher.hexdigest() for w in self._workers}
        return Digests(sha256=values.get("sha256", ""), sm3=values.get("sm3", ""), size=self.size)

    def finish(self) -> Digests:
        result = self.peek()
        self.close()
        return result

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for worker in self._workers:
            worker.queue.put(None)
        for worker in self._workers:
            worker.join()

    def __enter__(self) -> StreamingDigester:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def digest_file(path, chunk_size: int = CHUNK_SIZE, limit: int | None = None,
                algorithms: tuple = ALGORITHMS) -> Digests:
    """Re-read a file (or its first ``limit`` bytes) and return its digests."""
    with StreamingDigester(algorithms=algorithms) as digester, open(path, "rb", buffering=0) as handle:
        remaining = limit
        while True:
            want = chunk_size if remaining is None else min(chunk_size, remaining)
            if want == 0:
                break
            chunk = handle.read(want)
            if not chunk:
                break
            digester.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
        return digester.finish()
