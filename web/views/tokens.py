"""Per-page-view play tokens (ACC-2): one access entry per viewing, not per Range request.

The detail page mints a token, keeps ``token -> recording id`` in the session, and
puts it in the media URL. The first content request carrying the token registers one
``play`` entry; the browser's later Range requests with the same token do not.
A unique constraint on (recording, play_ref) in the access register makes parallel
first requests (browsers often open two) register exactly once.
"""

from __future__ import annotations

import hashlib
import secrets

from access.choices import AccessAction
from access.services import AlreadyRegistered, register_access
from recordings.models import Recording

SESSION_KEY = "play_tokens"
MAX_TOKENS = 100


def client_label(request) -> str:
    return f"web {request.META.get('REMOTE_ADDR', '')}".strip()


def _play_ref(token: str) -> str:
    """What the access register keeps of a play token: a hash, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def mint_play_token(request, recording_id: int) -> str:
    token = secrets.token_urlsafe(18)
    tokens = dict(request.session.get(SESSION_KEY, {}))
    while len(tokens) >= MAX_TOKENS:
        tokens.pop(next(iter(tokens)))
    tokens[token] = {"r": recording_id, "used": False}
    request.session[SESSION_KEY] = tokens
    return token


def valid_token(request, token: str, recording_id: int) -> bool:
    entry = request.session.get(SESSION_KEY, {}).get(token or "")
    return bool(entry and entry.get("r") == recording_id)


def register_play_once(request, recording: Recording, token: str) -> bool:
    """Register one play for this page view; False when the token was already used."""
    tokens = request.session.get(SESSION_KEY, {})
    entry = tokens.get(token)
    if entry is None or entry.get("used"):
        return False
    try:
        register_access(
            recording,
            actor=request.user,
            action=AccessAction.PLAY,
            client=client_label(request),
            play_ref=_play_ref(token),
        )
        registered = True
    except AlreadyRegistered:
        registered = False
    tokens = dict(request.session.get(SESSION_KEY, {}))
    if token in tokens:
        tokens[token] = {**tokens[token], "used": True}
        request.session[SESSION_KEY] = tokens
    return registered
