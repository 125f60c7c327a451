"""Bytes out: originals and derivatives with HTTP Range; every byte served is registered (ACC-2).

Whatever a GET asks (``bytes=1-``, a suffix range, several ranges, an If-Range that no longer
matches, no Range at all), the bytes it is answered with are counted on a registered entry:

- with a page view's play token (web.views.tokens): bytes before playback starts are the
  view's preload, in short ranges; playback is one play entry per pass over the file, its
  first request registers it and later range requests are tied to it;
- without a token (a plain link, a script): every request is its own entry (a play of the
  original, a derivative view of a derivative) — per-request entries, since nothing ties one
  token-less request to another;
- a download (``download=1``) is its own 下载 entry every time.

HEAD and unsatisfiable ranges (416) send no bytes and register nothing. Every served response
writes one ``access.ServedRange`` row with its exact byte span.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from access.choices import AccessAction
from access.services import Span, register_read
from core.clients import client_label
from core.errors import NotFoundError
from core.ranges import requested_range, served_span
from recordings.choices import DerivativeKind
from recordings.selectors import get_recording
from storage.backends.base import ObjectMissingError
from storage.serving import ensure_present, serve_stored_object
from web.views.common import page
from web.views.purpose import apply_purpose
from web.views.tokens import (
    PLAY_CHUNK,
    PRELOAD_CHUNK,
    derivative_view,
    is_playing,
    preload,
    shows_recording,
    start_play,
    valid_token,
)


def _span(wanted, size: int, cap: int | None) -> Span:
    """The bytes a response answering ``wanted`` sends (core.ranges.served_span)."""
    return Span(*served_span(wanted, size, cap), whole=not wanted)


def _wanted(request, stored):
    """What the response will be: (start, end), None for the whole body, False for 416."""
    return requested_range(request, stored.size, stored.sha256)


def _present(stored) -> None:
    """A missing file is a 404 before anything is registered."""
    try:
        ensure_present(stored)
    except ObjectMissingError as exc:
        raise Http404(exc.message) from exc


def _register_play(request, recording, stored, *, derivative_kind: str = "") -> int | None:
    """Register (or tie) what this request reads; the most bytes it may be served (None: no limit)."""
    if request.method != "GET":
        return None
    wanted = _wanted(request, stored)
    if wanted is False:
        return None
    size = stored.size
    token = request.GET.get("t", "")
    if token and valid_token(request, token, recording.pk):
        if (
            not is_playing(request, token)
            and wanted
            and preload(request, recording, token, _span(wanted, size, PRELOAD_CHUNK))
        ):
            return PRELOAD_CHUNK
        # a started play, the whole body, or past the preload allowance: this request plays
        start_play(request, recording, token, span=_span(wanted, size, PLAY_CHUNK), size=size,
                   derivative_kind=derivative_kind)
        return PLAY_CHUNK
    register_read(
        recording,
        actor=request.user,
        action=AccessAction.DERIVATIVE_VIEW if derivative_kind else AccessAction.PLAY,
        span=_span(wanted, size, None),
        client=client_label(request, "web"),
        derivative_kind=derivative_kind,
    )
    return None


def _lookup(request, pk: int, action: str):
    try:
        recording = get_recording(request.user, pk, action=action)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    if not apply_purpose(request, recording):
        # a rule that asks for 事由 (access.rules): the record page asks first
        raise PermissionDenied(_("请先在记录页面填写查阅事由。"))
    return recording


@require_http_methods(["GET", "HEAD"])
@page
def recording_content(request, pk: int):
    download = request.GET.get("download") == "1"
    recording = _lookup(request, pk, "download" if download else "play")
    stored = recording.original
    _present(stored)
    limit = None
    if download:
        wanted = _wanted(request, stored)
        if request.method == "GET" and wanted is not False:
            register_read(
                recording,
                actor=request.user,
                action=AccessAction.DOWNLOAD,
                span=_span(wanted, stored.size, None),
                client=client_label(request, "web"),
            )
    else:
        limit = _register_play(request, recording, stored)
    return serve_stored_object(
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
        # The detail page plays the original when the browser can, else its proxy.
        kind = "" if recording.playable else DerivativeKind.PROXY.value
        start_play(request, recording, token, derivative_kind=kind)
    return HttpResponse(status=204)


@require_http_methods(["GET", "HEAD"])
@page
def recording_derivative(request, pk: int, kind: str):
    """A derivative's bytes. Played through the page's player (a proxy with the play token) it is
    the page view's play; otherwise a 查看衍生资料 entry: one per derivative per page view when the
    URL carries the page's token (``?t=``), else one per request."""
    if kind not in DerivativeKind.values:
        raise Http404
    is_poster = kind == DerivativeKind.POSTER
    recording = _lookup(request, pk, "view" if is_poster else "play")
    derivative = recording.derivatives.select_related("stored_object").filter(kind=kind).first()
    if derivative is None:
        raise Http404
    stored = derivative.stored_object
    _present(stored)
    token = request.GET.get("t", "")
    limit = None
    if not is_poster and token and valid_token(request, token, recording.pk):
        # Playing a transcoded copy is still a play of the record (ACC-2).
        limit = _register_play(request, recording, stored, derivative_kind=kind)
    elif request.method == "GET":
        wanted = _wanted(request, stored)
        if wanted is not False:
            span = _span(wanted, stored.size, None)
            if token and shows_recording(request, token, recording.pk):
                derivative_view(request, recording, token, kind, span)
            else:
                register_read(recording, actor=request.user, action=AccessAction.DERIVATIVE_VIEW, span=span,
                              client=client_label(request, "web"), derivative_kind=kind)
    stem = recording.original_filename.rsplit(".", 1)[0]
    extension = derivative.mime_type.split("/")[-1].replace("jpeg", "jpg") or "bin"
    return serve_stored_object(
        request,
        stored,
        content_type=derivative.mime_type,
        filename=f"{stem}.{kind}.{extension}",
        attachment=False,
        max_length=limit,
    )
