"""Reads of the vault catalogue (no user scope: these serve operators and scheduled checks)."""

from __future__ import annotations

from django.db.models import F, QuerySet

from storage.models import StoredObject


def list_objects_due_for_fixity(limit: int) -> QuerySet[StoredObject]:
    """The ``limit`` objects checked least recently (never-checked ones before all others)."""
    return StoredObject.objects.order_by(F("last_fixity_at").asc(nulls_first=True), "id")[:limit]
