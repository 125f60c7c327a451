"""Byte-stream helpers shared by uploads, local ingest, derivatives and the pipeline.

No state changes here, and no imports of other ingest modules: every layer may use it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator

from core.digests import CHUNK_SIZE
from storage.backends import vault_for

# Request bodies and local files are read in pieces of this size (4 MiB); tests make it smaller.
READ_CHUNK = CHUNK_SIZE


def iter_stream(stream) -> Iterator[bytes]:
    """Chunks of a file-like object, a bytes value, or an iterable of bytes."""
    if hasattr(stream, "read"):
        while chunk := stream.read(READ_CHUNK):
            yield chunk
    elif isinstance(stream, (bytes, bytearray, memoryview)):
        yield bytes(stream)
    else:
        yield from stream


@contextlib.contextmanager
def local_copy(stored_object) -> Iterator[str]:
    """A local path for a stored object, read from the backend it lives in (the object itself
    on the filesystem backend, a temporary copy elsewhere)."""
    vault = vault_for(stored_object)
    path = vault.local_path(stored_object.key)
    if path is not None:
        yield path
        return
    with (
        tempfile.NamedTemporaryFile(prefix="avr-media-") as tmp,
        vault.open(stored_object.key) as source,
    ):
        while chunk := source.read(CHUNK_SIZE):
            tmp.write(chunk)
        tmp.flush()
        yield tmp.name
