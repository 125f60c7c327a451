"""Domain errors: each app subclasses DomainError; one place maps them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user can act on. ``code`` is stable; ``message`` is Chinese."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        if status:
            self.status = status


class NotFoundError(DomainError):
    code = "not_found"
    status = 404


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    status = 403


class ConflictError(DomainError):
    code = "conflict"
    status = 409
