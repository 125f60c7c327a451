"""Byte-stream helpers shared by uploads, local ingest, derivatives and the pipeline.

No state changes here, and no imports of other ingest modules: every layer may use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import BinaryIO

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
def media_source(stored_object) -> Iterator[str | BinaryIO]:
    """What the probe, the poster and the proxy read a stored object through: its own path on
    the filesystem backend; elsewhere (S3) a seekable reader that fetches only the byte ranges
    the demuxer asks for, so a 4 GB original is never copied to local disk to be probed."""
    vault = vault_for(stored_object)
    path = vault.local_path(stored_object.key)
    if path is not None:
        yield path
        return
    with vault.open(stored_object.key) as reader:
        yield reader
