"""Large transient buffers go back to the system when freed (glibc malloc tuning).

An upload moves megabyte buffers through several threads: request-body chunks, 8 MiB S3
staging segments, boto3 bodies. glibc raises its mmap threshold each time such a buffer is
freed (up to 32 MiB), so later ones come from per-thread heap arenas (up to 8 per core) that
keep the freed memory: bench/scaleout.py saw a web process at 336–392 MB with two or three
uploads in it. A fixed threshold keeps every buffer of 128 KiB and more on mmap (freed means
returned), and two arenas bound what small allocations can strand.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024
ARENAS = 2


def return_large_buffers() -> bool:
    """Apply the tuning to this process (and what it forks afterwards); False off glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENAS))
