"""Per-page-view tokens (ACC-2): what a page view reads is registered once, every byte counted.

The detail page registers its view (查看) and mints a play token, kept in the session as
``token -> {recording, view entry, playing, pass}``, which goes into the media URL.

- Before playback starts the browser may preload metadata: those requests are served in
  short ranges (``PRELOAD_CHUNK``) and their bytes are counted on the page's view entry.
- Playback starting is a play: the page posts the token when the player fires ``play``
  (``start_play``), and one 播放 entry is registered for this page view. A client that keeps
  fetching without saying so is playing all the same: once the bytes counted on the view
  pass ``PRELOAD_BUDGET``, the play is registered by that request.
- While playing, ranged answers are at most ``PLAY_CHUNK`` long and every response's bytes are
  counted on the play entry (``access.services.serve_play``). Reading the file a second time
  under one token (a whole-body response, or ranges adding up to more than the file) is a new
  play entry, the token's next pass.
- Posters and other derivatives shown on a page carry the page's token (the detail page's
  play token, or a list page's token from ``mint_list_token``): one 查看衍生资料 entry per
  derivative per page view, however often the image is loaded.

A unique constraint on (recording, play_ref) in the access register makes parallel first
requests register exactly once. No byte is ever served outside a registered entry.
"""

from __future__ import annotations

import secrets

from access.choices import AccessAction
from access.services import Span, record_served, ref_of, serve_play, serve_under_ref, served_so_far
from core.clients import client_label
from recordings.models import Recording

SESSION_KEY = "play_tokens"
MAX_TOKENS = 100
PRELOAD_CHUNK = 1024 * 1024  # longest response before playback starts
PRELOAD_BUDGET = 8 * 1024 * 1024  # bytes a page view may preload before it counts as a play
PLAY_CHUNK = 4 * 1024 * 1024  # longest ranged response while playing (keeps the byte count honest)


def _play_ref(token: str, pass_no: int = 0) -> str:
    """What the access register keeps of a play token's pass: a hash, never the token itself."""
    return ref_of(token) if pass_no == 0 else ref_of(token, pass_no)


def _store(request, token: str, state: dict) -> None:
    tokens = dict(request.session.get(SESSION_KEY, {}))
    while len(tokens) >= MAX_TOKENS:
        tokens.pop(next(iter(tokens)))
    tokens[token] = state
    request.session[SESSION_KEY] = tokens


def mint_play_token(request, recording_id: int, *, view_entry_id: int | None = None) -> str:
    token = secrets.token_urlsafe(18)
    _store(request, token, {"r": recording_id, "view": view_entry_id, "playing": False, "pass": 0})
    return token


def mint_list_token(request, recording_ids) -> str:
    """A list page's token: its posters are registered once per page view (``?t=`` on each)."""
    token = secrets.token_urlsafe(18)
    _store(request, token, {"rs": [int(pk) for pk in recording_ids]})
    return token


def _state(request, token: str) -> dict | None:
    return request.session.get(SESSION_KEY, {}).get(token or "")


def _update(request, token: str, **changes) -> None:
    tokens = dict(request.session.get(SESSION_KEY, {}))
    if token in tokens:
        tokens[token] = {**tokens[token], **changes}
        request.session[SESSION_KEY] = tokens


def valid_token(request, token: str, recording_id: int) -> bool:
    """A detail page's play token for this recording."""
    entry = _state(request, token)
    return bool(entry and entry.get("r") == recording_id)


def shows_recording(request, token: str, recording_id: int) -> bool:
    """A page token under which this recording's derivatives are shown (detail or list page)."""
    entry = _state(request, token)
    return bool(entry and (entry.get("r") == recording_id or recording_id in entry.get("rs", ())))


def is_playing(request, token: str) -> bool:
    entry = _state(request, token)
    return bool(entry and entry.get("playing"))


def _client(request) -> str:
    return client_label(request, "web")


def start_play(request, recording: Recording, token: str, *, span: Span | None = None, size: int = 0,
               derivative_kind: str = ""):
    """Register this page view's play (its current pass, once) and count ``span`` on it; the
    play entry's id."""
    pass_no = int((_state(request, token) or {}).get("pass", 0))
    entry_id, pass_no = serve_play(recording, actor=request.user, ref_for=lambda n: _play_ref(token, n),
                                pass_no=pass_no, span=span, size=size, client=_client(request),
                                derivative_kind=derivative_kind)
    _update(request, token, playing=True, **{"pass": pass_no})
    return entry_id


def preload(request, recording: Recording, token: str, span: Span) -> bool:
    """Count ``span`` on the page's view entry when it fits the preload allowance (True); False
    when it does not, and the request must be registered as the play."""
    view_id = (_state(request, token) or {}).get("view")
    served = served_so_far(view_id) if view_id else 0
    if not view_id or served + span.length > PRELOAD_BUDGET:
        return False
    record_served(view_id, span, served_before=served)
    return True


def derivative_view(request, recording: Recording, token: str, kind: str, span: Span | None):
    """One 查看衍生资料 entry per derivative per page view; ``span`` counted on it."""
    return serve_under_ref(recording, actor=request.user, action=AccessAction.DERIVATIVE_VIEW,
                           play_ref=ref_of(token, "derivative", kind), span=span, client=_client(request),
                           derivative_kind=kind)
