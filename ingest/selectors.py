"""Restricted reads of uploads and ingest items (habit 6: default deny)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from ingest.choices import UploadStatus
from ingest.models import IngestItem, Upload
from orgs.choices import Role
from recordings.models import Recording


def _item_rules(user) -> Q | None:
    """Who sees which ingest items, mirroring who sees which recordings (recordings.querysets):

    - everyone: the items they sent;
    - anyone: the items that became a recording they may view (officers: recordings they
      made or appear on; custodian and unit head: their unit's; department head: their
      department's; legal office and administrators: none, as for recordings today);
    - custodian and unit head: items sent by people of their unit;
    - department head: items sent by people of their department.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    rules = Q(created_by=user)
    # A subquery over the recordings the user may view: the same rule as the catalogue.
    rules |= Q(recording_id__in=Recording.objects.restrict(user, "view").values("pk"))
    if user.unit_id and user.has_role(Role.CUSTODIAN, Role.UNIT_HEAD):
        rules |= Q(created_by__unit_id=user.unit_id)
    if user.department_id and user.has_role(Role.DEPARTMENT_HEAD):
        rules |= Q(created_by__department_id=user.department_id) | Q(
            created_by__unit__department_id=user.department_id
        )
    return rules


def list_ingest_items(user) -> QuerySet[IngestItem]:
    """The items the user's scope allows (see ``_item_rules``). Newest first.

    ``duplicate_visible``: the user may view the recording a duplicate was linked to. Only then
    may its id be shown (a link, the API's ``duplicate_of_id``): uploading the same bytes as a
    record outside one's scope must not reveal that record (ACC-1)."""
    rules = _item_rules(user)
    if rules is None:
        return IngestItem.objects.none()
    visible = Recording.objects.restrict(user, "view").filter(pk=OuterRef("duplicate_of_id"))
    return (
        IngestItem.objects.filter(rules)
        .annotate(duplicate_visible=Exists(visible))
        .select_related("created_by", "recording", "stored_object", "upload")
        .order_by("-created_at", "-pk")
    )


def get_ingest_item(user, item_id) -> IngestItem | None:
    return list_ingest_items(user).filter(pk=item_id).first()


def list_batch_items(user, batch: str) -> QuerySet[IngestItem]:
    """The items one upload-page view sent ("本次上传"): the user's own, tagged with its batch."""
    if not batch:
        return IngestItem.objects.none()
    return list_ingest_items(user).filter(created_by=user, metadata__batch=batch)


def list_uploads(user, *, active_only: bool = True) -> QuerySet[Upload]:
    """The user's own uploads (tus sessions), e.g. to offer resuming unfinished ones."""
    if user is None or not user.is_authenticated:
        return Upload.objects.none()
    qs = Upload.objects.filter(created_by=user)
    if active_only:
        qs = qs.filter(status=UploadStatus.RECEIVING)
    return qs.order_by("-created_at")
