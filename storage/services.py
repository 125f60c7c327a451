"""Every write to the vault's catalogue of objects goes through here."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import CheckTrigger
from core.errors import DomainError
from custody.choices import EventCode
from custody.services import record_event
from storage.backends import get_vault, vault_for
from storage.backends.base import Area, StoredResult
from storage.choices import FixityStatus
from storage.models import FixityCheck, StoredObject

logger = logging.getLogger(__name__)


def register_stored_object(result: StoredResult, *, area: Area, actor) -> StoredObject:
    """Catalogue what a backend committed; re-read it once to prove the write (promise 1).

    The row records the backend that holds the bytes (``result.backend``), which every later
    read uses. Returns the existing row when the same bytes were stored before (dedupe).
    """
    existing = StoredObject.objects.filter(area=area.value, sha256=result.digests.sha256).first()
    if existing is not None:
        return existing
    vault = get_vault(result.backend)
    verified = vault.verify(result.key, result.digests).status == FixityStatus.PASS
    try:
        with transaction.atomic():
            return _create_stored_object(result, area=area, actor=actor, backend=vault.name, verified=verified)
    except IntegrityError:
        # The same bytes registered a moment ago by a concurrent ingest: one object, never two.
        existing = StoredObject.objects.filter(area=area.value, sha256=result.digests.sha256).first()
        if existing is None:
            raise
        return existing


def _create_stored_object(result: StoredResult, *, area: Area, actor, backend: str, verified: bool) -> StoredObject:
    now = timezone.now()
    obj = StoredObject.objects.create(
        area=area.value,
        backend=backend,
        key=result.key,
        sha256=result.digests.sha256,
        sm3=result.digests.sm3,
        size=result.digests.size,
        stored_at=now,
        write_verified=verified,
        last_fixity_status=FixityStatus.PASS if verified else FixityStatus.NOT_RUN,
        last_fixity_at=now if verified else None,
    )
    record_event(
        EventCode.STORED if area == Area.ORIGINAL else EventCode.DERIVATIVE_STORED,
        actor=actor,
        subject=obj,
        details={**result.digests.as_dict(), "key": result.key, "write_verified": verified},
    )
    return obj


_FIXITY_EVENT = {
    FixityStatus.PASS: EventCode.FIXITY_PASSED,
    FixityStatus.FAIL: EventCode.FIXITY_FAILED,
    FixityStatus.NOT_RUN: EventCode.FIXITY_NOT_RUN,
}


def run_fixity_check(obj: StoredObject, *, actor=None, trigger: str = CheckTrigger.SCHEDULED) -> FixityCheck:
    """Re-read one object, in the backend it lives in, and store the result.

    A failure is a finding, never a repair.
    """
    try:
        outcome = vault_for(obj).verify(obj.key, obj.digests)
        status, detail, actual = FixityStatus(outcome.status), outcome.detail, outcome.actual
    except Exception as exc:  # a check that could not run still leaves a result
        logger.exception("fixity check of %s could not run", obj.key)
        reason = exc.message if isinstance(exc, DomainError) and exc.message else _("读取文件库时出错，详见系统日志")
        status, detail, actual = FixityStatus.NOT_RUN, _("校验未能执行：%(reason)s") % {"reason": reason}, None
    now = timezone.now()
    with transaction.atomic():
        check = FixityCheck.objects.create(
            stored_object=obj,
            checked_at=now,
            status=status,
            detail=detail,
            actual_sha256=actual.sha256 if actual else "",
            actual_sm3=actual.sm3 if actual else "",
            actual_size=actual.size if actual else None,
            trigger=trigger,
        )
        StoredObject.objects.filter(pk=obj.pk).update(last_fixity_status=status, last_fixity_at=now)
        record_event(
            _FIXITY_EVENT[status],
            actor=actor,
            subject=obj,
            details={"status": status.value, "detail": detail, "trigger": trigger,
                     "expected": obj.digests.as_dict(), "actual": actual.as_dict() if actual else None},
        )
    return check

