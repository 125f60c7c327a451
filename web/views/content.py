"""Bytes out: originals and derivatives with HTTP Range; every play and download registered."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.views.decorators.http import require_http_methods

from access.choices import AccessAction
from access.services import register_access
from core.errors import NotFoundError
from core.ranges import content_disposition, ranged_file_response, requested_range
from recordings.choices import DerivativeKind
from recordings.selectors import get_recording
from storage.backends import get_vault
from web.views.common import page
from web.views.tokens import client_label, register_play_once, valid_token


def _serve(request, stored, *, content_type: str, filename: str, attachment: bool):
    vault = get_vault()
    path = vault.local_path(stored.key)
    if path is not None:
        return ranged_file_response(
            request,
            path,
            content_type=content_type,
            filename=filename,
            attachment=attachment,
            etag=stored.sha256,
        )
    # A backend without local files (object storage): whole body, no ranges.
    response = FileResponse(vault.open(stored.key), content_type=content_type)
    response["Content-Length"] = str(stored.size)
    response["Content-Disposition"] = content_disposition(filename, attachment)
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = f'"{stored.sha256}"'
    return response


def _starts_at_zero(request, stored) -> bool:
    wanted = requested_range(request, stored.size, stored.sha256)
    if wanted is False:
        return False
    return wanted is None or wanted[0] == 0


def _register_play(request, recording, stored) -> None:
    if request.method != "GET":
        return
    token = request.GET.get("t", "")
    if token and valid_token(request, token, recording.pk):
        register_play_once(request, recording, token)
    elif _starts_at_zero(request, stored):
        register_access(
            recording, actor=request.user, action=AccessAction.PLAY, client=client_label(request)
        )


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
    if download:
        if request.method == "GET":
            register_access(
                recording,
                actor=request.user,
                action=AccessAction.DOWNLOAD,
                client=client_label(request),
            )
    else:
        _register_play(request, recording, stored)
    return _serve(
        request,
        stored,
        content_type=recording.mime_type or "application/octet-stream",
        filename=recording.original_filename,
        attachment=download,
    )


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
    if not is_poster:
        # Playing a transcoded copy is still a viewing of the record (ACC-2).
        _register_play(request, recording, derivative.stored_object)
    stem = recording.original_filename.rsplit(".", 1)[0]
    extension = derivative.mime_type.split("/")[-1].replace("jpeg", "jpg") or "bin"
    return _serve(
        request,
        derivative.stored_object,
        content_type=derivative.mime_type,
        filename=f"{stem}.{kind}.{extension}",
        attachment=False,
    )
