"""Written records (文书) of a case stage or an activity (REC-9): registered through one service,
``add_document``, whoever sends them — an officer on the case's or the activity's page, or a
case-handling system pushing their particulars (activities.api, INT-1).

A document's file is an original like a recording: written into the write-once vault, hashed
as it streams (SHA-256, SM3, size), re-read after the write and catalogued in the stored-object
register (storage.services.register_stored_object) in the document's transaction. What can be
refused without storing is checked before the bytes are written; when the transaction still
rolls back, the bytes stay in the vault uncatalogued (nothing there is ever deleted) and the same
bytes sent again are catalogued then (the vault is content-addressed).

Read back only by who may see the document's case or its activity (activities.rules); anything
else is not found.
"""

from __future__ import annotations

import os
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.choices import CaseStage, DocumentType
from activities.findings import recompute_activities
from activities.models import Activity, Case, CaseDocument
from activities.rules import activity_q, can_edit_activity, can_keep_cases, case_q
from activities.services import ActivityError
from core.errors import ConflictError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event

MAX_FILENAME = 255


class DocumentError(ActivityError):
    pass


def _text(value, limit: int, message: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise DocumentError(message)
    return value


def _filename(name: str) -> str:
    """The name the file was sent under, without any folder, at most MAX_FILENAME characters
    (its extension kept)."""
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    if len(name) <= MAX_FILENAME:
        return name
    stem, ext = os.path.splitext(name)
    ext = ext[:16]
    return stem[: MAX_FILENAME - len(ext)] + ext


# ---------------------------------------------------------------------------- reads


def visible_documents(user) -> QuerySet[CaseDocument]:
    """The documents of the cases and the activities ``user`` may see (default deny)."""
    cases, activities = case_q(user), activity_q(user)
    rules = None
    if cases is not None:
        rules = Q(case__in=Case.objects.filter(cases).values("pk"))
    if activities is not None:
        q = Q(activity__in=Activity.objects.filter(activities).values("pk"))
        rules = q if rules is None else rules | q
    if rules is None:
        return CaseDocument.objects.none()
    return (CaseDocument.objects.filter(rules).select_related("case", "activity", "stored_object")
            .order_by("doc_date", "created_at", "pk"))


def get_document(user, pk: int) -> CaseDocument | None:
    return visible_documents(user).filter(pk=pk).first()


# ---------------------------------------------------------------------------- the write


def _target(actor, case_id: int | None, activity_id: int | None) -> tuple[Case | None, Activity | None]:
    """The case and the activity a document is of, as ``actor`` may see and keep them: the
    activity's case when only the activity is named."""
    from activities.selectors import get_activity, list_cases

    case = activity = None
    if activity_id is not None:
        activity = get_activity(actor, activity_id)
        if activity is None:
            raise NotFoundError(_("执法活动不存在或您无权查看。"))
        if not can_edit_activity(actor, activity):
            raise PermissionDeniedError(_("您不能为该执法活动登记文书。"))
    if case_id is not None:
        case = list_cases(actor).filter(pk=case_id).first()
        if case is None:
            raise NotFoundError(_("案件不存在或您无权查看。"))
    elif activity is not None and activity.case_id is not None:
        case = activity.case
    if case is None and activity is None:
        raise DocumentError(_("请指明文书所属的案件或执法活动。"))
    if case is not None and activity is not None and activity.case_id != case.pk:
        raise DocumentError(_("该执法活动不属于该案件。"))
    if case is not None and not can_keep_cases(actor, case.department):
        raise PermissionDeniedError(_("您不能为该案件登记文书。"))
    return case, activity


def _write(upload):
    """The file into the vault as an original (like a party's application:
    web.views.access_requests); catalogued later, in the document's transaction."""
    from storage.backends import get_vault
    from storage.backends.base import Area

    if hasattr(upload, "seek"):
        upload.seek(0)
    chunks = upload.chunks() if hasattr(upload, "chunks") else upload
    return get_vault().write(chunks, area=Area.ORIGINAL)


def add_document(
    *,
    actor,
    doc_type: str,
    case_id: int | None = None,
    activity_id: int | None = None,
    stage: str = "",
    number: str = "",
    doc_date: date | None = None,
    stated_start: datetime | None = None,
    stated_end: datetime | None = None,
    upload=None,
    filename: str = "",
    external_system: str = "",
    external_id: str = "",
) -> CaseDocument:
    """A document (文书) of a case (stage) and/or an activity: its type, number, date and the
    start and end times it states (REC-7 compares them with the recordings), and, when
    ``upload`` is given (an uploaded file, or any file object; the caller bounds its size), the
    document itself, stored as an original. Sent by another system (``external_system`` +
    ``external_id``), the same document sent again is the one returned (INT-1).

    The findings of the document's activity are checked again in the same transaction."""
    if doc_type not in DocumentType.values:
        raise DocumentError(_("请选择文书类型。"))
    if stage not in ("", *CaseStage.values):
        raise DocumentError(_("办案阶段无效。"))
    number = _text(number, 100, _("文书编号最多 100 字。"))
    if doc_date is not None and not isinstance(doc_date, date):
        raise DocumentError(_("文书日期无效。"))
    for instant in (stated_start, stated_end):
        if instant is not None and (not isinstance(instant, datetime) or timezone.is_naive(instant)):
            raise DocumentError(_("文书记载的时间无效。"))
    if stated_start and stated_end and stated_end < stated_start:
        raise DocumentError(_("文书记载的结束时间不能早于开始时间。"))
    system = _text(external_system, 64, _("来源系统最多 64 字。"))
    external_id = _text(external_id, 100, _("来源系统编号最多 100 字。"))
    if bool(system) != bool(external_id):
        raise DocumentError(_("来源系统与来源系统编号须同时填写。"))
    name = _filename(filename or getattr(upload, "name", "") or "") if upload is not None else ""
    case, activity = _target(actor, case_id, activity_id)  # refused before anything is stored
    department_id = case.department_id if case is not None else activity.department_id
    if case is not None and case.archived_on is not None and not (
            external_id and CaseDocument.objects.filter(external_system=system, external_id=external_id).exists()):
        raise ConflictError(_("案卷已于 %(day)s 归档，不能再登记文书。") % {"day": case.archived_on.isoformat()})
    written = _write(upload) if upload is not None else None
    try:
        with transaction.atomic():
            if external_id:
                existing = CaseDocument.objects.filter(external_system=system, external_id=external_id).first()
                if existing is not None:
                    if existing.department_id != department_id:
                        raise ConflictError(_("该来源系统编号已用于其他部门的文书。"))
                    return existing
            stored = None
            if written is not None:
                from storage.backends.base import Area
                from storage.services import register_stored_object

                stored = register_stored_object(written, area=Area.ORIGINAL, actor=actor)
            document = CaseDocument.objects.create(
                case=case, activity=activity, department_id=department_id, stage=stage, doc_type=doc_type,
                number=number, doc_date=doc_date, stated_start=stated_start, stated_end=stated_end,
                stored_object=stored, filename=name, external_system=system, external_id=external_id,
                created_at=timezone.now(), created_by=actor,
            )
            record_event(EventCode.DOCUMENT_ADDED, actor=actor, subject=document,
                         also=[x for x in (case, activity, stored) if x is not None],
                         details={"doc_type": doc_type, "doc_number": number,
                                  "case_number": case.number if case is not None else "",
                                  "external_system": system})
            if activity is not None:
                recompute_activities([activity.pk])
    except IntegrityError as exc:  # the same external id, registered concurrently
        raise ConflictError(_("该来源系统编号已用于其他文书。")) from exc
    return document
