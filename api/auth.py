"""API authentication: bearer tokens (integrations) or the browser session (with CSRF).

Tokens look like ``avr_<prefix>_<secret>``. Only the prefix (to find the row) and a
SHA-256 of the whole token are stored; the token itself is shown once when issued.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from api.choices import TokenScope
from api.models import ApiToken

TOKEN_SCHEME = "avr"
PREFIX_LENGTH = 10
# last_used_at is refreshed at most this often: one cheap UPDATE, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfFailed(HttpError):
    """A session request with an unsafe method and no valid CSRF token."""

    def __init__(self) -> None:
        super().__init__(403, _("CSRF 校验失败：请刷新页面后重试。"))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh (prefix, token). The prefix is part of the token and unique per row."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return prefix, f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def _split(token: str) -> str | None:
    """The prefix of a well-formed token, else None."""
    parts = token.strip().split("_", 2)
    if (
        len(parts) != 3
        or parts[0] != TOKEN_SCHEME
        or len(parts[1]) != PREFIX_LENGTH
        or not parts[2]
    ):
        return None
    return parts[1]


class ScopeMissing(HttpError):
    """A valid token used outside its scopes (api.choices.TokenScope)."""

    def __init__(self, scope: str) -> None:
        super().__init__(403, _("该接口令牌没有“%(scope)s”权限，请签发带此权限的令牌。")
                         % {"scope": TokenScope(scope).label})


def person_for_token(token: str, scope: str | None = None):
    """The active person a token belongs to, or None (unknown, revoked, wrong secret, inactive,
    expired, or its owner must change their password first). A valid token without ``scope``
    raises ``ScopeMissing`` (403, not 401: the token is fine, the use is not)."""
    row = _token_row(token)
    if row is None:
        return None
    if scope is not None and scope not in (row.scopes or ()):
        raise ScopeMissing(scope)
    return row.person


def _token_row(token: str):
    prefix = _split(token or "")
    if prefix is None:
        return None
    row = ApiToken.objects.select_related("person").filter(prefix=prefix).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, hash_token(token.strip())):
        return None
    if not row.person.is_active:
        return None
    now = timezone.now()
    if row.expires_at <= now:
        return None  # expired: issue a new one (ACC-6)
    if row.person.must_change_password:
        return None  # a password change is pending: the account is held until it is made
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def bearer_value(request: HttpRequest) -> str | None:
    """The token from ``Authorization: Bearer <token>``, or None if there is no bearer header."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def authenticate_token(request: HttpRequest, scope: str | None = None):
    """Public entry for plain views (tus uploads): the Person behind the bearer token, or None.

    On success ``request.user`` is set to that person, so downstream code sees one user.
    """
    token = bearer_value(request)
    if not token:
        return None
    person = person_for_token(token, scope)
    if person is not None:
        request.user = person
    return person


class TokenAuth(HttpBearer):
    """``Authorization: Bearer avr_…`` (integrations, dock agents), for endpoints of ``scope``."""

    def __init__(self, scope: str | None = None) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str):
        person = person_for_token(token, self.scope)
        if person is not None:
            request.user = person
        return person


class SessionAuth(APIKeyCookie):
    """The browser's login session; unsafe methods must carry the CSRF token.

    A request that presents a bearer token is judged by the token alone.
    """

    param_name = "sessionid"

    def __init__(self) -> None:
        from django.conf import settings

        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None):
        if bearer_value(request) is not None:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method in _UNSAFE_METHODS and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise CsrfFailed()
        return user


token_auth = TokenAuth()
session_auth = SessionAuth()
API_AUTH = [token_auth, session_auth]


def api_auth(scope: str) -> list:
    """The authentication of an endpoint of ``scope``: a token holding it, or the browser session
    (a signed-in person's session carries no scopes: the access rules alone decide)."""
    return [TokenAuth(scope), session_auth]

