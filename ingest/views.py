"""tus 1.0 endpoints at /api/v1/uploads/ (core, creation, creation-with-upload, termination,
checksum, expiration).

Plain Django views: the PATCH body is read from the request stream in 4 MiB
chunks and never through ``request.body`` / ``request.POST``, so under
gunicorn (WSGI) it flows straight from the socket into the vault.
Authentication: a browser session (CSRF token in ``X-CSRFToken``) or
``Authorization: Bearer <token>``. ``X-HTTP-Method-Override`` is honoured on any
method. Deliberate deviations from the spec are listed in the README (tus section).

This is an edge: it calls services for state changes and enqueues the pipeline
(``ingest.tasks``) for an upload a PATCH completed, after commit.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from api.auth import ScopeMissing, authenticate_token
from api.choices import TokenScope
from core.errors import DomainError
from core.request_body import direct_body
from ingest import services, streams, tasks
from ingest.choices import IngestSource, UploadStatus
from ingest.errors import (
    CsrfFailedError,
    InvalidUploadError,
    MethodNotAllowedError,
    NotAuthenticatedError,
    TokenScopeError,
    TusVersionError,
    UnsupportedMediaTypeError,
)
from ingest.models import Upload
from ingest.tus import (
    CHECKSUM_ALGORITHMS,
    OFFSET_CONTENT_TYPE,
    TUS_EXTENSIONS,
    TUS_VERSION,
    parse_checksum,
    parse_metadata,
    parse_non_negative,
)

logger = logging.getLogger(__name__)

_REASONS = {460: "Checksum Mismatch", 423: "Locked", 507: "Insufficient Storage"}


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def _csrf_failure(request) -> str | None:
    check = _CsrfCheck(lambda req: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


def _authenticate(request):
    """(person, source): a Bearer token (API) or a logged-in session with a valid CSRF token."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        try:
            person = authenticate_token(request, TokenScope.UPLOAD)
        except ScopeMissing as exc:
            raise TokenScopeError(str(exc)) from exc
        if person is None or not person.is_active:
            raise NotAuthenticatedError(_("接口令牌无效、已过期或已吊销。"))
        return person, IngestSource.API
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise NotAuthenticatedError(_("请先登录后再上传。"))
    if _csrf_failure(request):
        raise CsrfFailedError(_("安全校验失败（CSRF），请刷新页面后重试。"))
    return user, IngestSource.WEB


def _base_headers(response: HttpResponse) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def _upload_headers(response: HttpResponse, upload: Upload) -> HttpResponse:
    response["Upload-Offset"] = str(upload.offset)
    response["Upload-Length"] = str(upload.length)
    if upload.status == UploadStatus.RECEIVING:
        response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
    return response


def _error(request, exc: DomainError, upload: Upload | None = None) -> HttpResponse:
    status = exc.status
    if request.method == "HEAD":
        response = HttpResponse(status=status, reason=_REASONS.get(status))
    else:
        response = JsonResponse(
            {"code": exc.code, "message": exc.message},
            status=status,
            reason=_REASONS.get(status),
            json_dumps_params={"ensure_ascii": False},
        )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    if isinstance(exc, TusVersionError):
        response["Tus-Version"] = TUS_VERSION
    if upload is not None:
        fresh = Upload.objects.filter(pk=upload.pk).first()
        if fresh is not None and fresh.status in (UploadStatus.RECEIVING, UploadStatus.COMPLETE):
            _upload_headers(response, fresh)
    return _base_headers(response)


def _method(request) -> str:
    """The effective method: ``X-HTTP-Method-Override`` wins on any request, as in tusd.

    It replaces ``request.method`` itself, so the CSRF check judges the method that runs
    (a GET overridden to PATCH is checked like a PATCH).
    """
    override = request.headers.get("X-HTTP-Method-Override", "").strip().upper()
    if override:
        request.method = override
    return request.method


def _require_tus(request) -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusVersionError(
            _("不支持的 tus 协议版本，请使用 %(version)s。") % {"version": TUS_VERSION}
        )


def _options() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Tus-Version"] = TUS_VERSION
    response["Tus-Extension"] = TUS_EXTENSIONS
    response["Tus-Max-Size"] = str(settings.UPLOAD_MAX_BYTES)
    response["Tus-Checksum-Algorithm"] = ",".join(CHECKSUM_ALGORITHMS)
    return _base_headers(response)


def _content_length(request) -> int | None:
    value = request.META.get("CONTENT_LENGTH")
    if not value:
        return None
    return parse_non_negative(value, "Content-Length")


def _body_chunks(request):
    """The request body in chunks: from gunicorn's socket into pooled buffers where it can be
    (``core.request_body``: no copies; the service lends them to the digests), else 4 MiB
    chunks from the WSGI stream."""
    length = _content_length(request)
    if length:
        direct = direct_body(request.META, length)
        if direct is not None:
            return direct
    return _stream_chunks(request)


def _stream_chunks(request):
    if request.META.get("CONTENT_LENGTH"):
        stream = request  # Django's LimitedStream over wsgi.input, bounded by Content-Length
    elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        stream = request.META["wsgi.input"]  # the server de-chunks; read to EOF
    else:
        return
    while True:
        chunk = stream.read(streams.READ_CHUNK)
        if not chunk:
            return
        yield chunk


def _has_body(request) -> bool:
    return bool(request.META.get("CONTENT_LENGTH", "0") not in ("", "0")) or (
        "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def _append(request, upload: Upload, actor, offset: int):
    if request.content_type != OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaTypeError(
            _("Content-Type 必须为 %(type)s。") % {"type": OFFSET_CONTENT_TYPE}
        )
    result = services.append_to_upload(
        upload,
        actor=actor,
        offset=offset,
        chunks=_body_chunks(request),
        checksum=parse_checksum(request.headers.get("Upload-Checksum", "")),
        content_length=_content_length(request),
    )
    if result.completed:
        tasks.enqueue_pipeline_on_commit(result.item.pk)
    return result


def _with_result(response: HttpResponse, result) -> HttpResponse:
    _upload_headers(response, result.upload)
    if result.item is not None:
        response["X-Ingest-Item"] = str(result.item.pk)
    return response


def _guard(handler):
    """Domain errors become JSON with tus headers; anything else is logged, never a bare 500 page."""

    def wrapped(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except DomainError as exc:
            return _error(request, exc, getattr(request, "_tus_upload", None))
        except Exception:
            logger.exception("tus %s %s failed", request.method, request.path)
            exc = DomainError(
                _("服务器内部错误，已记录日志，请稍后重试。"), code="internal_error", status=500
            )
            return _error(request, exc, getattr(request, "_tus_upload", None))

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


@csrf_exempt
@_guard
def upload_collection(request):
    """OPTIONS: capabilities. POST: create an upload (optionally with its first bytes)."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    _require_tus(request)
    if method != "POST":
        raise MethodNotAllowedError(_("不支持的请求方法。"))
    actor, source = _authenticate(request)
    if request.headers.get("Upload-Defer-Length"):
        raise InvalidUploadError(
            _("不支持延后声明文件大小（Upload-Defer-Length），请提供 Upload-Length。")
        )
    length = parse_non_negative(request.headers.get("Upload-Length"), "Upload-Length")
    header = request.headers.get("Upload-Metadata", "")
    metadata = parse_metadata(header)
    upload = services.create_upload(
        actor=actor, length=length, metadata=metadata, source=source, metadata_header=header
    )
    request._tus_upload = upload
    location = reverse("ingest:upload", args=[upload.pk])
    response = HttpResponse(status=201)
    response["Location"] = location
    if _has_body(request) and request.content_type == OFFSET_CONTENT_TYPE:
        try:
            _with_result(response, _append(request, upload, actor, 0))
        except DomainError as exc:
            failed = _error(request, exc, upload)
            failed["Location"] = location
            return failed
    else:
        _upload_headers(response, upload)
    return _base_headers(response)


@csrf_exempt
@_guard
def upload_resource(request, upload_id):
    """HEAD: offset. PATCH: append. DELETE: terminate. OPTIONS: capabilities."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    _require_tus(request)
    if method not in ("HEAD", "PATCH", "DELETE"):
        raise MethodNotAllowedError(_("不支持的请求方法。"))
    actor, _source = _authenticate(request)
    upload = services.get_upload_for(actor, upload_id)
    request._tus_upload = upload
    if method == "HEAD":
        upload = services.current_upload_state(upload)
        response = _upload_headers(HttpResponse(status=200), upload)
        if upload.metadata_header:
            response["Upload-Metadata"] = upload.metadata_header  # as sent at creation
        return _base_headers(response)
    if method == "DELETE":
        services.terminate_upload(upload, actor=actor)
        return _base_headers(HttpResponse(status=204))
    offset = parse_non_negative(request.headers.get("Upload-Offset"), "Upload-Offset")
    result = _append(request, upload, actor, offset)
    return _base_headers(_with_result(HttpResponse(status=204), result))
