"""Ingest refusals: each a DomainError with a stable code, a Chinese message and an HTTP status."""

from __future__ import annotations

from core.errors import ConflictError, DomainError, NotFoundError


class IngestError(DomainError):
    code = "ingest_error"


class InvalidUploadError(IngestError):
    code = "invalid_upload"


class EmptyUploadError(IngestError):
    code = "empty_file"


class UploadTooLargeError(IngestError):
    code = "too_large"
    status = 413


class InsufficientSpaceError(IngestError):
    code = "insufficient_space"
    status = 507


class UploadNotFoundError(NotFoundError):
    code = "upload_not_found"


class UploadGoneError(IngestError):
    code = "upload_gone"
    status = 410


class OffsetMismatchError(ConflictError):
    code = "offset_mismatch"


class UploadBusyError(IngestError):
    code = "upload_busy"
    status = 423


class ChecksumMismatchError(IngestError):
    code = "checksum_mismatch"
    status = 460


class UnsupportedChecksumError(IngestError):
    code = "checksum_algorithm_unsupported"


class NotAuthenticatedError(IngestError):
    code = "not_authenticated"
    status = 401


class CsrfFailedError(IngestError):
    code = "csrf_failed"
    status = 403


class TokenScopeError(IngestError):
    """A valid API token without the upload scope (api.choices.TokenScope)."""

    code = "token_scope_missing"
    status = 403


class TusVersionError(IngestError):
    code = "tus_version_unsupported"
    status = 412


class UnsupportedMediaTypeError(IngestError):
    code = "unsupported_media_type"
    status = 415


class MethodNotAllowedError(IngestError):
    code = "method_not_allowed"
    status = 405
