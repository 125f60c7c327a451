"""Per-upload streaming digesters kept between PATCH requests (ING-2).

Process-local: after a restart, or when another worker process served the
previous PATCH, the state is stale and is rebuilt by re-reading the staging
prefix. The staging file size is the truth; a cached digester is reused only
when it has seen exactly that many bytes.

A digester in use is out of the cache (``acquire``) until ``release`` puts it
back, so evicting idle ones never closes one that is being fed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from core.digests import StreamingDigester

MAX_IDLE = 32

_lock = threading.Lock()
_idle: OrderedDict[str, StreamingDigester] = OrderedDict()


def acquire(key: str, staging) -> StreamingDigester:
    """A digester that has seen exactly the staging file's current bytes.

    The caller holds the upload's write lock, so nobody appends meanwhile.
    """
    size = staging.size()
    with _lock:
        digester = _idle.pop(key, None)
    if digester is not None and digester.size == size:
        return digester
    if digester is not None:
        digester.close()
    digester = StreamingDigester()
    try:
        for chunk in staging.read_prefix(size):
            digester.update(chunk)
    except FileNotFoundError:
        pass
    if digester.size != size:  # the file changed under us (it should not): read again
        digester.close()
        return acquire(key, staging)
    return digester


def release(key: str, digester: StreamingDigester) -> None:
    """Keep an idle digester for the next PATCH of the same upload."""
    evicted = []
    with _lock:
        previous = _idle.pop(key, None)
        if previous is not None and previous is not digester:
            evicted.append(previous)
        _idle[key] = digester
        while len(_idle) > MAX_IDLE:
            evicted.append(_idle.popitem(last=False)[1])
    for old in evicted:
        old.close()


def forget(key: str) -> None:
    with _lock:
        digester = _idle.pop(key, None)
    if digester is not None:
        digester.close()
