"""Who is on the other end of a request, as the access register and custody events keep it."""

from __future__ import annotations

MAX_LABEL = 200


def client_info(request) -> dict:
    """The client's address and user agent (for custody event details)."""
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.headers.get("User-Agent", "")[:MAX_LABEL],
    }


def client_label(request, channel: str) -> str:
    """One line for the access register: the channel (web / api), address and user agent."""
    info = client_info(request)
    return " ".join(p for p in (channel, info["ip"], info["user_agent"]) if p)[:MAX_LABEL]
