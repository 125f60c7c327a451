"""tus uploads: create, append while hashing (ING-2), complete, terminate, expire.

A PATCH that completes an upload returns the new ingest item (``AppendResult.completed``);
the caller at the edge (the tus view) enqueues the pipeline for it after commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from core.digests import Digests
from core.errors import ConflictError
from core.locks import LockBusy, exclusive
from custody.choices import EventCode
from custody.services import record_event
from ingest import digesters
from ingest.choices import IngestSource, UploadEndReason, UploadStatus
from ingest.errors import (
    ChecksumMismatchError,
    InsufficientSpaceError,
    OffsetMismatchError,
    UploadBusyError,
    UploadGoneError,
    UploadNotFoundError,
    UploadTooLargeError,
)
from ingest.filenames import raw_filename_text, sanitize_filename
from ingest.limits import check_length
from ingest.metadata import clean_metadata, client_metadata
from ingest.models import IngestItem, Upload
from ingest.services.items import receive_item
from storage.backends import get_vault
from storage.backends.base import VaultError

logger = logging.getLogger(__name__)

OFFSET_PERSIST_EVERY = 64 * 1024 * 1024  # keep Upload.offset close to the truth during long PATCHes
UPLOAD_TTL = timedelta(days=3)  # an unfinished upload is kept this long after its last PATCH



# --- locking -----------------------------------------------------------------


@contextlib.contextmanager
def upload_write_lock(upload_id: uuid.UUID) -> Iterator[None]:
    """One writer per upload across threads, processes and nodes (core.locks: released the
    moment its holder dies, so a client retrying through another node is not locked out)."""
    try:
        with exclusive(f"upload-{upload_id.hex}"):
            yield
    except LockBusy:
        raise UploadBusyError(_("该上传正在由另一个请求写入，请稍后重试。")) from None


# --- uploads -------------------------------------------------------------------


def _check_space(length: int) -> None:
    free = get_vault().free_bytes()
    if free is None:
        return
    reserved = (
        Upload.objects.filter(
            status=UploadStatus.RECEIVING, expires_at__gt=timezone.now()
        ).aggregate(total=Sum(F("length") - F("offset")))["total"]
        or 0
    )
    if length + reserved > free:
        raise InsufficientSpaceError(
            _(
                "文件库剩余空间不足：本文件需要 %(need)s，当前可用 %(free)s。请联系管理员释放空间后再上传。"
            )
            % {"need": filesizeformat(length), "free": filesizeformat(max(free - reserved, 0))}
        )


def create_upload(
    *,
    actor,
    length: int,
    metadata: dict,
    source: str = IngestSource.WEB,
    metadata_header: str = "",
) -> Upload:
    """tus creation: check size, space and metadata before accepting any byte.

    ``metadata_header`` is the client's Upload-Metadata header exactly as sent (HEAD
    answers it back); keys the platform does not know are kept as client metadata.
    """
    check_length(length)
    raw_name = metadata.get("filename") or b""
    cleaned = clean_metadata(metadata, actor=actor)
    extra = client_metadata(metadata)
    _check_space(length)
    now = timezone.now()
    with transaction.atomic():
        upload = Upload.objects.create(
            created_by=actor,
            created_at=now,
            updated_at=now,
            expires_at=now + UPLOAD_TTL,
            length=length,
            filename=sanitize_filename(raw_name),
            raw_filename=raw_filename_text(raw_name),
            metadata=cleaned,
            metadata_header=metadata_header,
            client_metadata=extra,
            source=source,
        )
        details = {
            "filename": upload.filename,
            "raw_filename": upload.raw_filename,
            "length": length,
            "source": source,
            "metadata": cleaned,
        }
        if extra:
            details["client_metadata"] = extra
        record_event(EventCode.UPLOAD_STARTED, actor=actor, subject=upload, details=details)
    return upload


def get_upload_for(actor, upload_id) -> Upload:
    """The actor's own upload, or 404 (another person's upload does not exist for them)."""
    upload = Upload.objects.filter(pk=upload_id, created_by=actor).first()
    if upload is None:
        raise UploadNotFoundError(_("找不到该上传，可能已被删除或不属于您。"))
    return upload


def _raise_if_gone(upload: Upload) -> None:
    if upload.status == UploadStatus.TERMINATED:
        raise UploadGoneError(_("该上传已取消，请重新开始上传。"))
    if upload.status == UploadStatus.EXPIRED or (
        upload.status == UploadStatus.RECEIVING and upload.expires_at <= timezone.now()
    ):
        raise UploadGoneError(_("该上传已过期，已接收的部分已清理，请重新开始上传。"))
    if upload.status == UploadStatus.REJECTED:
        raise UploadGoneError(_("该上传因完整性校验失败已被拒绝，请重新开始上传。"))


def _save_offset(upload: Upload, offset: int, *, extend: bool = False) -> None:
    now = timezone.now()
    upload.offset, upload.updated_at = offset, now
    fields = {"offset": offset, "updated_at": now}
    if extend:
        upload.expires_at = fields["expires_at"] = now + UPLOAD_TTL
    Upload.objects.filter(pk=upload.pk).update(**fields)


def current_upload_state(upload: Upload) -> Upload:
    """HEAD: the offset is whatever the staging file holds (reconciled after a crash)."""
    _raise_if_gone(upload)
    if upload.status == UploadStatus.RECEIVING:
        size = get_vault().staging(upload.staging_name).size()
        if size != upload.offset and size <= upload.length:
            _save_offset(upload, size)
    return upload


@dataclass
class AppendResult:
    upload: Upload
    item: IngestItem | None = None  # the item the complete upload became
    completed: bool = False  # this PATCH completed it: the caller enqueues the pipeline


class _Overflow(Exception):
    pass


def append_to_upload(
    upload: Upload,
    *,
    actor,
    offset: int,
    chunks: Iterable[bytes],
    checksum: tuple[str, bytes] | None = None,
    content_length: int | None = None,
) -> AppendResult:
    """tus PATCH: append at ``offset`` while hashing; verify, roll back or complete.

    Safe to retry: a PATCH at the current offset appends; a repeat of the final
    PATCH after completion answers with the finished state; anything else is a
    409 telling the client to HEAD first.
    """
    with upload_write_lock(upload.pk):
        upload = Upload.objects.get(pk=upload.pk)
        if upload.status == UploadStatus.COMPLETE:
            if offset == upload.length:
                return AppendResult(upload, IngestItem.objects.filter(upload=upload).first())
            raise OffsetMismatchError(_("该上传已完成，无需继续发送数据。"))
        _raise_if_gone(upload)
        staging = get_vault().staging(upload.staging_name)
        current = staging.size()
        if current > upload.length:
            staging.truncate(upload.length)
            current = upload.length
        if current != upload.offset:
            _save_offset(upload, current)
        if offset != current:
            raise OffsetMismatchError(
                _(
                    "上传进度不一致：服务器已接收 %(current)s 字节，本次请求从第 %(offset)s 字节开始。请先查询进度再续传。"
                )
                % {"current": current, "offset": offset}
            )
        remaining = upload.length - offset
        if content_length is not None and content_length > remaining:
            raise UploadTooLargeError(
                _(
                    "本次发送的数据（%(sent)s 字节）超出声明的文件大小，剩余应为 %(remaining)s 字节，已拒绝。"
                )
                % {"sent": content_length, "remaining": remaining}
            )
        key = upload.pk.hex
        digester = digesters.acquire(key, staging)
        try:
            return _append_locked(
                upload,
                staging,
                digester,
                actor=actor,
                offset=offset,
                chunks=chunks,
                checksum=checksum,
                content_length=content_length,
            )
        finally:
            if upload.status == UploadStatus.RECEIVING:
                digesters.release(key, digester)
            else:
                digester.close()


def _append_locked(
    upload, staging, digester, *, actor, offset, chunks, checksum, content_length
) -> AppendResult:
    remaining = upload.length - offset
    point = digester.checkpoint()
    body_hash = hashlib.new(checksum[0]) if checksum else None
    state = {"written": 0, "persisted": offset, "received": 0}
    # chunks from pooled buffers (core.request_body) are lent to the digests, not copied
    lend = getattr(chunks, "lend", lambda chunk: None)

    def on_written(chunk: bytes) -> None:
        digester.update(chunk, release=lend(chunk))
        if body_hash is not None:
            body_hash.update(chunk)
        state["written"] += len(chunk)
        position = offset + state["written"]
        if position - state["persisted"] >= OFFSET_PERSIST_EVERY:
            _save_offset(upload, position)
            state["persisted"] = position

    def limited() -> Iterator[bytes]:
        iterator = iter(chunks)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            except OSError:  # the client went away mid-body: keep what arrived
                logger.info("upload %s: body ended early", upload.pk)
                return
            state["received"] += len(chunk)
            if state["received"] > remaining:
                raise _Overflow
            yield chunk

    def roll_back() -> None:
        staging.truncate(offset)
        digester.restore(point)
        _save_offset(upload, offset)

    try:
        staging.append(limited(), offset=offset, on_written=on_written)
    except _Overflow:
        roll_back()
        raise UploadTooLargeError(
            _("发送的数据超出声明的文件大小（%(length)s 字节），本次发送的内容已丢弃。")
            % {"length": upload.length}
        ) from None
    except VaultError:
        # The store failed (full, unreachable): what it holds is exactly what the digester saw
        # (append() keeps only whole, durable chunks), so the upload resumes from there later.
        _save_offset(upload, offset + state["written"], extend=True)
        raise
    except BaseException:
        roll_back()
        raise
    complete_body = content_length is None or state["written"] == content_length
    if body_hash is not None and (not complete_body or body_hash.digest() != checksum[1]):
        roll_back()
        raise ChecksumMismatchError(
            _(
                "本次上传的数据校验值（%(alg)s）与请求头 Upload-Checksum 不一致，本次数据已丢弃，请从第 %(offset)s 字节重新发送。"
            )
            % {"alg": checksum[0], "offset": offset}
        )
    new_offset = offset + state["written"]
    _save_offset(upload, new_offset, extend=True)
    if new_offset < upload.length:
        return AppendResult(upload)
    digests = digester.finish()
    item = _complete_upload(upload, staging, actor=actor, digests=digests)
    return AppendResult(upload, item, completed=True)


def _complete_upload(upload: Upload, staging, *, actor, digests: Digests) -> IngestItem:
    """All bytes are in: record the digests (before the client hears back) in the new item."""
    declared = upload.metadata.get("sha256", "")
    now = timezone.now()
    if declared and declared != digests.sha256:
        staging.discard()
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.REJECTED, updated_at=now)
            upload.status = UploadStatus.REJECTED
            record_event(
                EventCode.UPLOAD_REJECTED,
                actor=actor,
                subject=upload,
                details={
                    "reason": UploadEndReason.DECLARED_SHA256_MISMATCH,
                    "declared_sha256": declared,
                    **digests.as_dict(),
                },
            )
        raise ChecksumMismatchError(
            _(
                "文件完整性校验失败：收到内容的 SHA-256 与上传前声明的不一致，已整体拒绝，请重新上传。"
            )
        )
    with transaction.atomic():
        Upload.objects.filter(pk=upload.pk).update(
            status=UploadStatus.COMPLETE, completed_at=now, updated_at=now
        )
        upload.status, upload.completed_at = UploadStatus.COMPLETE, now
        item = receive_item(
            actor=actor,
            source=upload.source,
            filename=upload.filename,
            raw_filename=upload.raw_filename,
            metadata=upload.metadata,
            digests=digests,
            staging_name=upload.staging_name,
            upload=upload,
            client_metadata=upload.client_metadata,
        )
    return item


def terminate_upload(upload: Upload, *, actor) -> Upload:
    """tus termination: discard the staging bytes. Repeating it is harmless."""
    with upload_write_lock(upload.pk):
        upload = Upload.objects.get(pk=upload.pk)
        if upload.status == UploadStatus.COMPLETE:
            raise ConflictError(
                _("该上传已完成并进入入库流程，原始文件不能删除。"), code="upload_complete"
            )
        if upload.status != UploadStatus.RECEIVING:
            return upload
        get_vault().staging(upload.staging_name).discard()
        digesters.forget(upload.pk.hex)
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).update(
                status=UploadStatus.TERMINATED, updated_at=timezone.now()
            )
            upload.status = UploadStatus.TERMINATED
            record_event(
                EventCode.UPLOAD_TERMINATED,
                actor=actor,
                subject=upload,
                details={
                    "reason": UploadEndReason.CLIENT,
                    "offset": upload.offset,
                    "length": upload.length,
                    "filename": upload.filename,
                },
            )
    return upload


def expire_stale_uploads(*, now=None) -> int:
    """Discard staging files of uploads nobody resumed in time; one custody event each."""
    now = now or timezone.now()
    expired = 0
    for upload_id in Upload.objects.filter(
        status=UploadStatus.RECEIVING, expires_at__lte=now
    ).values_list("pk", flat=True):
        try:
            with upload_write_lock(upload_id):
                upload = Upload.objects.get(pk=upload_id)
                if upload.status != UploadStatus.RECEIVING or upload.expires_at > now:
                    continue
                staging = get_vault().staging(upload.staging_name)
                received = staging.size()
                staging.discard()
                digesters.forget(upload.pk.hex)
                with transaction.atomic():
                    Upload.objects.filter(pk=upload.pk).update(
                        status=UploadStatus.EXPIRED, updated_at=now
                    )
                    record_event(
                        EventCode.UPLOAD_TERMINATED,
                        actor=None,
                        subject=upload,
                        details={
                            "reason": UploadEndReason.EXPIRED,
                            "offset": received,
                            "length": upload.length,
                            "expires_at": upload.expires_at,
                            "filename": upload.filename,
                        },
                    )
                expired += 1
        except UploadBusyError:
            continue
    return expired


