"""The uploader's recent ingest items, for the upload page and the home page."""

from __future__ import annotations

from ingest.selectors import list_ingest_items


def recent_ingest_items(user, *, limit: int = 20) -> list:
    """The user's own most recent ingest items, newest first (the selector's rules, then
    narrowed to items this user sent: the upload page shows "本次上传", not the unit's)."""
    return list(list_ingest_items(user).filter(created_by=user)[:limit])
