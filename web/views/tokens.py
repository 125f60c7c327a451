"""Per-page-view play tokens (ACC-2): a play is registered when playback starts.

The detail page registers its view (查看) and mints a token, kept in the session as
``token -> {recording, view entry, playing, preloaded bytes}``, which goes into the media URL.

- Before playback starts the browser may preload metadata: those requests are served in
  short ranges (``PRELOAD_CHUNK``) and belong to the page's view entry.
- Playback starting is a play: the page posts the token when the player fires ``play``
  (``start_play``), and one 播放 entry is registered for this page view.
- A client that keeps fetching without saying so is playing all the same: once the bytes
  served before a play pass ``PRELOAD_BUDGET``, the play is registered then. So no byte is
  ever served outside a view entry's preload allowance or a play entry.

A unique constraint on (recording, play_ref) in the access register makes parallel first
requests register exactly once.
"""

from __future__ import annotations

import hashlib
import secrets

from access.choices import AccessAction
from access.services import AlreadyRegistered, register_access
from core.clients import client_label
from recordings.models import Recording

SESSION_KEY = "play_tokens"
MAX_TOKENS = 100
PRELOAD_CHUNK = 1024 * 1024  # longest response before playback starts
PRELOAD_BUDGET = 8 * 1024 * 1024  # bytes a page view may preload before it counts as a play


def _play_ref(token: str) -> str:
    """What the access register keeps of a play token: a hash, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def mint_play_token(request, recording_id: int, *, view_entry_id: int | None = None) -> str:
    token = secrets.token_urlsafe(18)
    tokens = dict(request.session.get(SESSION_KEY, {}))
    while len(tokens) >= MAX_TOKENS:
        tokens.pop(next(iter(tokens)))
    tokens[token] = {"r": recording_id, "view": view_entry_id, "playing": False, "preloaded": 0}
    request.session[SESSION_KEY] = tokens
    return token


def _state(request, token: str) -> dict | None:
    return request.session.get(SESSION_KEY, {}).get(token or "")


def _update(request, token: str, **changes) -> None:
    tokens = dict(request.session.get(SESSION_KEY, {}))
    if token in tokens:
        tokens[token] = {**tokens[token], **changes}
        request.session[SESSION_KEY] = tokens


def valid_token(request, token: str, recording_id: int) -> bool:
    entry = _state(request, token)
    return bool(entry and entry.get("r") == recording_id)


def is_playing(request, token: str) -> bool:
    entry = _state(request, token)
    return bool(entry and entry.get("playing"))


def start_play(request, recording: Recording, token: str) -> bool:
    """Register this page view's play (once); False when it was registered before."""
    try:
        register_access(
            recording,
            actor=request.user,
            action=AccessAction.PLAY,
            client=client_label(request, "web"),
            play_ref=_play_ref(token),
        )
        registered = True
    except AlreadyRegistered:
        registered = False
    _update(request, token, playing=True)
    return registered


def preload(request, recording: Recording, token: str, length: int) -> bool:
    """Account for ``length`` bytes served before playback started; True when this request
    pushed the page view past its allowance and was registered as the play."""
    entry = _state(request, token) or {}
    total = int(entry.get("preloaded", 0)) + length
    _update(request, token, preloaded=total)
    if total > PRELOAD_BUDGET:
        start_play(request, recording, token)
        return True
    return False
