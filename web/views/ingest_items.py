"""The uploader's ingest items, for the upload page ("本次上传") and the home page."""

from __future__ import annotations

from ingest.selectors import list_batch_items, list_ingest_items


def recent_ingest_items(user, *, limit: int = 20) -> list:
    """The user's own most recent ingest items, newest first (the home page's short list)."""
    return list(list_ingest_items(user).filter(created_by=user)[:limit])


def batch_ingest_items(user, batch: str, *, limit: int = 100) -> list:
    """The files sent from one view of the upload page (its batch id), newest first."""
    return list(list_batch_items(user, batch)[:limit])
