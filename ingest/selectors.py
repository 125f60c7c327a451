"""Restricted reads of uploads and ingest items (habit 6: default deny)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from access.rules import restrict
from ingest.choices import UploadStatus
from ingest.models import IngestItem, Upload
from orgs.choices import Role
from recordings.models import Recording


def _item_rules(user) -> Q | None:
    """Who sees which ingest items — through the access rules (access.rules), nothing beside:

    - everyone: the items they sent;
    - an item that became a recording: whoever may view that recording (so a confidential
      record's item, or one in a unit one may not see, is not listed — not even its filename);
    - an item not (yet) a recording: the custodian and unit head of the sender's unit, the
      department head of the sender's department (the people who will keep the record).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    rules = Q(created_by=user)
    visible = restrict(user, "view")
    if visible is not None:
        rules |= Q(recording_id__in=Recording.objects.filter(visible).values("pk"))
    keeper = None
    if user.unit_id and user.has_role(Role.CUSTODIAN, Role.UNIT_HEAD):
        keeper = Q(created_by__unit_id=user.unit_id)
    if user.department_id and user.has_role(Role.DEPARTMENT_HEAD):
        dept = Q(created_by__department_id=user.department_id) | Q(created_by__unit__department_id=user.department_id)
        keeper = dept if keeper is None else keeper | dept
    if keeper is not None:
        rules |= keeper & Q(recording__isnull=True)
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
