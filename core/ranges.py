"""HTTP Range (RFC 9110 §14): parsing, the span an answer sends, and a sendfile-able file view.

The one function that answers with vault bytes is ``storage.serving.serve_stored_object``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """Return (start, end) inclusive; None to serve the whole body; False if unsatisfiable.

    Multiple ranges are answered with the whole body (allowed by the RFC).
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


class RangeFile:
    """A read-limited view of an open file that still exposes fileno() for sendfile."""

    def __init__(self, handle, start: int, length: int):
        self._handle = handle
        self._remaining = length
        handle.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        data = self._handle.read(size)
        self._remaining -= len(data)
        return data

    def fileno(self) -> int:
        return self._handle.fileno()

    def close(self) -> None:
        self._handle.close()


def content_disposition(filename: str, attachment: bool) -> str:
    kind = "attachment" if attachment else "inline"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def requested_range(request, size: int, etag: str = "") -> tuple[int, int] | None | bool:
    """The range a request asks for once If-Range is applied (same values as ``parse_range``).

    Callers that register access decide with this whether a request starts a play.
    """
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    if header and if_range and etag and if_range.strip('"') != etag:
        header = ""
    return parse_range(header, size)


def served_span(wanted, size: int, max_length: int | None = None) -> tuple[int, int]:
    """(start, end) inclusive of what a response to ``wanted`` (``requested_range``'s value, not
    False) sends: the whole body for None; a range shortened to ``max_length`` when given."""
    start, end = wanted if wanted else (0, size - 1)
    if wanted and max_length is not None:
        end = min(end, start + max_length - 1)
    return start, end
