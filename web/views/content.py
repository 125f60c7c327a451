"""Bytes out: originals and derivatives with HTTP Range; every byte served is registered (ACC-2).

With a page view's play token (web.views.tokens): bytes before playback starts are the
view's preload, in short ranges; playback is one play. Without a token (a plain link, a
script): any request starting at byte 0 is a play; a download is always a download.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_http_methods, require_POST

from access.choices import AccessAction
from access.services import register_access
from core.clients import client_label
from core.errors import NotFoundError
from core.ranges import content_disposition, ranged_file_response, requested_range
from recordings.choices import DerivativeKind
from recordings.selectors import get_recording
from storage.backends import vault_for
from web.views.common import page
from web.views.tokens import PRELOAD_CHUNK, is_playing, preload, start_play, valid_token


def _serve(request, stored, *, content_type: str, filename: str, attachment: bool, max_length=None):
    vault = vault_for(stored)
    path = vault.local_path(stored.key)
    if path is not None:
        return ranged_file_response(
            request,
            path,
            content_type=content_type,
            filename=filename,
            attachment=attachment,
            etag=stored.sha256,
            max_length=max_length,
        )
    # A backend without local files (object storage): whole body, no ranges.
    response = FileResponse(vault.open(stored.key), content_type=content_type)
    response["Content-Length"] = str(stored.size)
    response["Content-Disposition"] = content_disposition(filename, attachment)
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = f'"{stored.sha256}"'
    return response


def _register_play(request, recording, stored) -> int | None:
    """Register what this request is; the most bytes it may be served (None: no limit)."""
    if request.method != "GET":
        return None
    wanted = requested_range(request, stored.size, stored.sha256)
    token = request.GET.get("t", "")
    if token and valid_token(request, token, recording.pk):
        if is_playing(request, token):
            return None
        if not wanted:  # the whole body, or an unsatisfiable range: not a preload
            if wanted is None:
                start_play(request, recording, token)
            return None
        length = min(wanted[1] - wanted[0] + 1, PRELOAD_CHUNK)
        return None if preload(request, recording, token, length) else PRELOAD_CHUNK
    if wanted is not False and (wanted is None or wanted[0] == 0):
        register_access(
            recording,
            actor=request.user,
            action=AccessAction.PLAY,
            client=client_label(request, "web"),
        )
    return None


def _lookup(request, pk: int, action: str):
    try:
        return get_recording(request.user, pk, action=action)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@require_http_methods(["GET", "HEAD"])
@page
def recording_content(request, pk: int):
    download = request.GET.get("download") == "1"
    recording = _lookup(request, pk, "download" if download else "play")
    stored = recording.original
    limit = None
    if download:
        if request.method == "GET":
            register_access(
                recording,
                actor=request.user,
                action=AccessAction.DOWNLOAD,
                client=client_label(request, "web"),
            )
    else:
        limit = _register_play(request, recording, stored)
    return _serve(
        request,
        stored,
        content_type=recording.mime_type or "application/octet-stream",
        filename=recording.original_filename,
        attachment=download,
        max_length=limit,
    )


@require_POST
@page
def recording_play(request, pk: int):
    """The player started: register this page view's play (ACC-2). 204; 404 for a bad token."""
    recording = _lookup(request, pk, "play")
    token = request.POST.get("t", "")
    if not valid_token(request, token, recording.pk):
        raise Http404
    if not is_playing(request, token):
        start_play(request, recording, token)
    return HttpResponse(status=204)


@require_http_methods(["GET", "HEAD"])
@page
def recording_derivative(request, pk: int, kind: str):
    if kind not in DerivativeKind.values:
        raise Http404
    is_poster = kind == DerivativeKind.POSTER
    recording = _lookup(request, pk, "view" if is_poster else "play")
    derivative = recording.derivatives.select_related("stored_object").filter(kind=kind).first()
    if derivative is None:
        raise Http404
    limit = None
    if not is_poster:
        # Playing a transcoded copy is still a viewing of the record (ACC-2).
        limit = _register_play(request, recording, derivative.stored_object)
    stem = recording.original_filename.rsplit(".", 1)[0]
    extension = derivative.mime_type.split("/")[-1].replace("jpeg", "jpg") or "bin"
    return _serve(
        request,
        derivative.stored_object,
        content_type=derivative.mime_type,
        filename=f"{stem}.{kind}.{extension}",
        attachment=False,
        max_length=limit,
    )
