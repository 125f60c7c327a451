"""Restricted reads of uploads and ingest items (habit 6: default deny)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from ingest.models import IngestItem, Upload
from orgs.choices import Role


def _item_rules(user) -> Q | None:
    if user is None or not user.is_authenticated:
        return None
    rules = Q(created_by=user)
    if user.unit_id and user.has_role(Role.CUSTODIAN, Role.UNIT_HEAD):
        rules |= Q(created_by__unit_id=user.unit_id) | Q(recording__unit_id=user.unit_id)
    return rules


def list_ingest_items(user) -> QuerySet[IngestItem]:
    """Own items; custodians and unit heads also see their unit's. Newest first."""
    rules = _item_rules(user)
    if rules is None:
        return IngestItem.objects.none()
    return (
        IngestItem.objects.filter(rules)
        .select_related("created_by", "recording", "duplicate_of", "stored_object", "upload")
        .order_by("-created_at", "-pk")
    )


def get_ingest_item(user, item_id) -> IngestItem | None:
    return list_ingest_items(user).filter(pk=item_id).first()


def list_uploads(user, *, active_only: bool = True) -> QuerySet[Upload]:
    """The user's own uploads (tus sessions), e.g. to offer resuming unfinished ones."""
    if user is None or not user.is_authenticated:
        return Upload.objects.none()
    qs = Upload.objects.filter(created_by=user)
    if active_only:
        from ingest.choices import UploadStatus

        qs = qs.filter(status=UploadStatus.RECEIVING)
    return qs.order_by("-created_at")
