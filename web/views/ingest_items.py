"""The uploader's recent ingest items, for the upload page and the home page."""

from __future__ import annotations


def recent_ingest_items(user, *, limit: int = 20) -> list:
    """The user's own most recent ingest items, newest first.

    Prefers ``ingest.selectors.list_ingest_items`` (owned by the ingest app); falls back
    to the model while that selector does not exist yet.
    """
    try:
        from ingest.selectors import list_ingest_items
    except ImportError:
        list_ingest_items = None
    if list_ingest_items is not None:
        qs = list_ingest_items(user)
    else:
        from ingest.models import IngestItem

        qs = IngestItem.objects.filter(created_by=user).order_by("-created_at")
    return list(qs.select_related("recording", "duplicate_of")[:limit])
