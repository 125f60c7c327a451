"""Serve vault bytes with HTTP Range (RFC 9110 §14), repeatedly, via sendfile when possible."""

from __future__ import annotations

import os
import re
from urllib.parse import quote

from django.http import FileResponse, HttpResponse

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


class _RangeFile:
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


def ranged_file_response(request, path: str, *, content_type: str, filename: str,
                         attachment: bool = False, etag: str = "",
                         max_length: int | None = None) -> HttpResponse:
    """Answer GET/HEAD for a file on disk, honouring Range and If-Range.

    ``max_length`` shortens a ranged answer (RFC 9110 lets a server send less than asked;
    the Content-Range says what was sent, and players ask again for the rest).
    """
    size = os.path.getsize(path)
    wanted = requested_range(request, size, etag)
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    start, end = served_span(wanted, size, max_length)
    length = max(0, end - start + 1)
    if request.method == "HEAD":
        response = HttpResponse(status=206 if wanted else 200, content_type=content_type)
    else:
        handle = open(path, "rb")
        response = FileResponse(_RangeFile(handle, start, length), status=206 if wanted else 200,
                                content_type=content_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    if etag:
        response["ETag"] = f'"{etag}"'
    response["Content-Disposition"] = content_disposition(filename, attachment)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
