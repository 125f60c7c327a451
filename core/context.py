"""Correlation ids that follow a request into services and background tasks."""

from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


def get_request_id() -> str:
    return _request_id.get()


@contextmanager
def correlation(request_id: str | None = None):
    """Run a block (a task, a command) under a correlation id."""
    token = _request_id.set(request_id or new_request_id())
    try:
        yield _request_id.get()
    finally:
        _request_id.reset(token)
