"""One way vault bytes leave the platform, for the web pages and the API alike (ACC-2).

``serve_stored_object`` answers GET and HEAD for a catalogued object from whichever backend holds
it: HTTP Range (one range; several are answered with the whole body, as RFC 9110 allows), If-Range,
a shortened answer when the caller limits it, sendfile on the filesystem and a streamed ranged GET
on S3 — never a redirect to the store, so every byte passes the access register first. Callers
register the read (access.services) before they call it; ``ensure_present`` lets them refuse a
missing object before anything is registered.
"""

from __future__ import annotations

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from core.ranges import RangeFile, content_disposition, requested_range, served_span
from storage.backends import vault_for
from storage.backends.base import ObjectMissingError


def ensure_present(stored) -> None:
    """Raise ObjectMissingError (404, in Chinese) when the backend no longer has the object."""
    if vault_for(stored).stat(stored.key) is None:
        raise ObjectMissingError(_("文件库中找不到该文件，请联系管理员。"))


def serve_stored_object(request, stored, *, content_type: str, filename: str,
                        attachment: bool = False, max_length: int | None = None) -> HttpResponse:
    """``max_length`` shortens a ranged answer (RFC 9110 lets a server send less than asked;
    the Content-Range says what was sent, and players ask again for the rest)."""
    size = stored.size
    wanted = requested_range(request, size, stored.sha256)
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    start, end = served_span(wanted, size, max_length)
    length = max(0, end - start + 1)
    status = 206 if wanted else 200
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
    else:
        vault = vault_for(stored)
        path = vault.local_path(stored.key)
        if path is not None:
            response = FileResponse(RangeFile(open(path, "rb"), start, length), status=status,  # noqa: SIM115
                                    content_type=content_type)
        else:
            response = StreamingHttpResponse(vault.open_range(stored.key, start, length),
                                             status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["ETag"] = f'"{stored.sha256}"'
    response["Content-Disposition"] = content_disposition(filename, attachment)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
