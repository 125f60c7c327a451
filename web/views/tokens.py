"""Per-page-view play tokens (ACC-2): one access entry per viewing, not per Range request.

The detail page mints a token, keeps ``token -> recording id`` in the session, and
puts it in the media URL. The first content request carrying the token registers one
``play`` entry; the browser's later Range requests with the same token do not.
The claim is made in the database under a row lock, so parallel first requests
(browsers often open two) still register exactly once.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from access.choices import AccessAction
from access.models import AccessEntry
from access.services import register_access
from recordings.models import Recording

SESSION_KEY = "play_tokens"
MAX_TOKENS = 100


def client_label(request) -> str:
    return f"web {request.META.get('REMOTE_ADDR', '')}".strip()


def _token_tag(token: str) -> str:
    return "play:" + hashlib.sha256(token.encode()).hexdigest()[:16]


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
    tag = _token_tag(token)
    user = request.user
    with transaction.atomic():
        # Serialise claims on this record (SQLite: the IMMEDIATE transaction already does).
        Recording.objects.select_for_update().filter(pk=recording.pk).values_list(
            "pk", flat=True
        ).first()
        claimed = AccessEntry.objects.filter(
            recording=recording, person=user, action=AccessAction.PLAY, client__endswith=tag
        ).exists()
        if not claimed:
            register_access(
                recording,
                actor=user,
                action=AccessAction.PLAY,
                client=f"{client_label(request)} {tag}",
            )
    tokens = dict(request.session.get(SESSION_KEY, {}))
    if token in tokens:
        tokens[token] = {**tokens[token], "used": True}
        request.session[SESSION_KEY] = tokens
    return not claimed
