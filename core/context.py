"""Correlation ids that follow a request into services and background tasks.

The request id is always made by the server (``new_request_id``); it is what custody events and
access register entries store. A client may send its own ``X-Request-ID``: that value is kept
beside the server's, marked as client-supplied (``get_client_request_id``), and is never used
as the request id, so a client cannot choose or collide with the ids the log relies on.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from contextlib import contextmanager

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_client_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("client_request_id", default="")

CLIENT_REQUEST_ID_MAX = 64
_SANE_CLIENT_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{CLIENT_REQUEST_ID_MAX}}}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def get_request_id() -> str:
    """The server-made id of the current request or task ("" outside both)."""
    return _request_id.get()


def get_client_request_id() -> str:
    """The id the client sent in ``X-Request-ID``, if it was sane; "" otherwise. Client-supplied:
    for correlating with the client's own logs, never for identifying a request."""
    return _client_request_id.get()


def sane_client_request_id(value: str | None) -> str:
    """``value`` if it is 1–64 ASCII letters, digits, ``-`` or ``_``; "" otherwise."""
    if value and _SANE_CLIENT_ID.fullmatch(value):
        return value
    return ""


@contextmanager
def correlation(request_id: str | None = None, *, client_request_id: str | None = None):
    """Run a block (a task, a command) under a correlation id.

    ``client_request_id`` (already checked with ``sane_client_request_id``) is set beside it
    when given; left as it is when ``None``.
    """
    token = _request_id.set(request_id or new_request_id())
    client_token = None if client_request_id is None else _client_request_id.set(client_request_id)
    try:
        yield _request_id.get()
    finally:
        if client_token is not None:
            _client_request_id.reset(client_token)
        _request_id.reset(token)
