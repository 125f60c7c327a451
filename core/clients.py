"""Who is on the other end of a request, as the access register and custody events keep it."""

from __future__ import annotations

import ipaddress

from django.conf import settings

MAX_LABEL = 200


def client_ip(request) -> str:
    """The client's address. Behind the platform's own load balancer (``AVR_TRUSTED_PROXIES``:
    nginx in deploy/ and bin/cluster) the connection comes from the proxy, so the address is the
    nearest hop of X-Forwarded-For that is not one of those proxies; the header is ignored from
    anyone else, who could write anything in it."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXIES
    if not trusted or not _is_trusted(remote, trusted):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:64] if _is_ip(hop) else remote
    return remote


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_info(request) -> dict:
    """The client's address and user agent (for custody event details)."""
    return {
        "ip": client_ip(request),
        "user_agent": request.headers.get("User-Agent", "")[:MAX_LABEL],
    }


def client_label(request, channel: str) -> str:
    """One line for the access register: the channel (web / api), address and user agent."""
    info = client_info(request)
    return " ".join(p for p in (channel, info["ip"], info["user_agent"]) if p)[:MAX_LABEL]
