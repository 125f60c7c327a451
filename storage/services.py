"""Every write to the vault's catalogue of objects goes through here."""

from __future__ import annotations

import logging
import os

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import CheckTrigger
from core.digests import StreamingDigester
from core.errors import DomainError
from custody.choices import EventCode
from custody.services import record_event
from storage.backends import get_vault, vault_for
from storage.backends.base import Area, StoredResult, VerifyOutcome
from storage.choices import FixityStatus
from storage.models import FixityCheck, StoredObject

logger = logging.getLogger(__name__)


# ``FixityCheck.trigger`` of the read-back made right after a write (promise 1, ING-2).
# TODO(lead): make this ``CheckTrigger.WRITE`` (core/choices.py) so the event page can label it.
READ_BACK_TRIGGER = CheckTrigger.WRITE


def register_stored_object(result: StoredResult, *, area: Area, actor) -> StoredObject:
    """Catalogue what a backend committed; re-read it once to prove the write (promise 1).

    The row records the backend that holds the bytes (``result.backend``), which every later
    read uses. Returns the existing row when the same bytes were stored before (dedupe).

    The read-back is a check like any other (promise 4): a pass marks the object write-verified;
    bytes that differ from what was written are a ``fail`` with its fixity row and a
    ``storage.fixity_failed`` event; a read-back that could not run at all is ``not_run``, with
    its row and a ``storage.fixity_not_run`` event.
    """
    existing = StoredObject.objects.filter(area=area.value, sha256=result.digests.sha256).first()
    if existing is not None:
        return existing
    vault = get_vault(result.backend)
    read_back = _read_back(vault, result)
    try:
        with transaction.atomic():
            return _create_stored_object(result, area=area, actor=actor, backend=vault.name, read_back=read_back)
    except IntegrityError:
        # The same bytes registered a moment ago by a concurrent ingest: one object, never two.
        existing = StoredObject.objects.filter(area=area.value, sha256=result.digests.sha256).first()
        if existing is None:
            raise
        return existing


def _read_back(vault, result: StoredResult) -> VerifyOutcome:
    """Re-read what was just written. Never raises: an error is a read-back that could not run."""
    try:
        outcome = vault.verify(result.key, result.digests, read_back=True)
        status = FixityStatus(outcome.status)
    except Exception as exc:
        logger.exception("read-back of %s after the write could not run", result.key)
        reason = exc.message if isinstance(exc, DomainError) and exc.message else _("读取文件库时出错，详见系统日志")
        return VerifyOutcome(FixityStatus.NOT_RUN, _("写入后复核未能执行：%(reason)s") % {"reason": reason})
    if status == FixityStatus.PASS:
        return outcome
    if status == FixityStatus.FAIL:
        detail = _("写入后复核未通过：%(detail)s")
    else:
        detail = _("写入后复核未能执行：%(detail)s")
    return VerifyOutcome(status, detail % {"detail": outcome.detail}, outcome.actual)


def _create_stored_object(result: StoredResult, *, area: Area, actor, backend: str,
                          read_back: VerifyOutcome) -> StoredObject:
    now = timezone.now()
    status = FixityStatus(read_back.status)
    verified = status == FixityStatus.PASS
    obj = StoredObject.objects.create(
        area=area.value,
        backend=backend,
        key=result.key,
        sha256=result.digests.sha256,
        sm3=result.digests.sm3,
        size=result.digests.size,
        stored_at=now,
        write_verified=verified,
        last_fixity_status=status,
        last_fixity_at=now if status != FixityStatus.NOT_RUN else None,
    )
    record_event(
        EventCode.STORED if area == Area.ORIGINAL else EventCode.DERIVATIVE_STORED,
        actor=actor,
        subject=obj,
        details={**result.digests.as_dict(), "key": result.key, "write_verified": verified},
    )
    if not verified:
        # A pass is recorded by ``write_verified`` on the row and the stored event; a read-back
        # that failed or could not run leaves its own result, as every later check does.
        actual = read_back.actual
        FixityCheck.objects.create(
            stored_object=obj,
            checked_at=now,
            status=status,
            detail=read_back.detail,
            actual_sha256=actual.sha256 if actual else "",
            actual_sm3=actual.sm3 if actual else "",
            actual_size=actual.size if actual else None,
            trigger=READ_BACK_TRIGGER,
        )
        record_event(
            _FIXITY_EVENT[status],
            actor=actor,
            subject=obj,
            details={"status": status.value, "detail": read_back.detail, "trigger": READ_BACK_TRIGGER,
                     "expected": result.digests.as_dict(), "actual": actual.as_dict() if actual else None},
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



class MigrationRefused(DomainError):
    code = "vault_migration_refused"
    status = 409


def migrate_stored_object(obj: StoredObject, *, to: str, actor=None) -> StoredObject:
    """Copy one object to the backend ``to``, prove the copy, then point the catalogue at it.

    The bytes are streamed from the backend the object lives in and re-hashed on the way; the
    copy is committed with the source's retain-until (and legal hold), verified by a full re-read
    in the target, and only then does ``StoredObject.backend`` change, with a ``storage.migrated``
    custody event naming both backends and the digests. The source copy is left where it was:
    removing it is a disposal, which needs its own authorization (storage.disposal).
    """
    if obj.backend == to:
        return obj
    source, target = vault_for(obj), get_vault(to)
    area = Area(obj.area)
    retention = source.retention(obj.key) if area == Area.ORIGINAL else None
    staging = target.staging(f"mig-{obj.pk}-{os.urandom(6).hex()}")
    try:
        with StreamingDigester() as digester:
            staging.append(source.open_range(obj.key), offset=0, on_written=digester.update)
            copied = digester.finish()
        if copied != obj.digests:
            raise MigrationRefused(
                _("源对象的内容与登记的摘要不一致，未迁移（请先查看完整性校验结果）：%(key)s") % {"key": obj.key}
            )
        result = target.commit(staging, copied, area=area,
                               retain_until=retention.until if retention else None)
    except BaseException:
        staging.discard()
        raise
    outcome = target.verify(result.key, obj.digests)
    if outcome.status != FixityStatus.PASS:
        raise MigrationRefused(_("目标存储中的副本复核未通过，未迁移：%(detail)s") % {"detail": outcome.detail})
    if retention is not None and retention.legal_hold:
        target.set_legal_hold(result.key, True)
    previous = {"backend": obj.backend, "key": obj.key}
    with transaction.atomic():
        moved = StoredObject.objects.filter(pk=obj.pk, backend=obj.backend).update(
            backend=target.name, key=result.key
        )
        if not moved:
            raise MigrationRefused(_("该对象刚刚被其他进程迁移。"))
        record_event(
            EventCode.MIGRATED,
            actor=actor,
            subject=obj,
            details={"from": previous, "to": {"backend": target.name, "key": result.key},
                     **obj.digests.as_dict(), "verified": True,
                     "retain_until": retention.until if retention else None,
                     "legal_hold": bool(retention and retention.legal_hold)},
        )
    obj.backend, obj.key = target.name, result.key
    return obj
