"""S3 vault with Object Lock: the storage itself refuses to delete an original early (INT-2).

Layout::

    <bucket>             versioning + Object Lock; originals only
        <prefix>originals/ab/cd/<sha256>          one locked version (COMPLIANCE by default)
    <derivative bucket>  no lock
        <prefix>derivatives/ab/cd/<sha256>        posters, proxies
        <prefix>staging/<name>/<offset:020d>      an upload in progress, one object per segment

Uploads in progress live in the store, not on a web node's disk: each ``append`` buffers at
most one segment (``SEGMENT_SIZE``) in memory and PUTs it with a signed payload (SigV4: the
server checks the body against the SHA-256 in the signature), so any node can HEAD and resume
an upload another node began. ``commit`` assembles the segments into a multipart upload on the
content address: segments of 5 MiB and more become parts by server-side copy (no byte passes
through the platform), shorter tails are sent with Content-MD5 and x-amz-checksum-sha256; a
part the server received other than we sent is refused (BadDigest) and the multipart upload is
aborted — nothing is locked and nothing catalogued. The full read-back after commit
(``storage.services``) proves the assembled object's SHA-256 before it is catalogued.

Reads are pinned to the *first* version of a key (the one committed and locked): a later PUT to
the same key, or a delete marker an administrator adds, never changes what the platform reads.

Ceph RGW 16 (Debian 12) verifies Content-MD5 but ignores the newer x-amz-checksum-* headers and
``If-None-Match``; both are sent anyway for servers that honour them. SHA-256 and SM3 of every
original are checked by our own read-back after commit (``storage.services``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import BinaryIO, NoReturn

from django.utils.translation import gettext as _

from core.digests import ALGORITHMS, CHUNK_SIZE, Digests, StreamingDigester
from storage.backends.base import (
    READ_BACK_ALGORITHMS,
    Area,
    CommitChecksumError,
    ObjectMissingError,
    ObjectStat,
    Retention,
    RetentionError,
    StoredResult,
    VaultError,
    VaultFullError,
    VaultUnavailableError,
    VerifyOutcome,
    check_staging_name,
    compare_digests,
    content_key,
    is_valid_key,
    iter_chunks,
)
from storage.disposal import check_disposal
from storage.retention import retention_floor

logger = logging.getLogger(__name__)

SEGMENT_SIZE = 8 * 1024 * 1024  # staging objects; each becomes one part of the committed upload
MIN_PART = 5 * 1024 * 1024  # S3: every part of a multipart upload but the last is at least this
LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")

_SEGMENT = re.compile(r"^(\d{20})$")


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class S3Backend:
    name = "s3"

    def __init__(self, *, endpoint: str, region: str, access_key: str, secret_key: str, bucket: str,
                 derivative_bucket: str, prefix: str = "", addressing: str = "path",
                 lock_mode: str = "COMPLIANCE", create_buckets: bool = True,
                 default_retention_days: int = 730, client=None):
        if lock_mode not in LOCK_MODES:
            raise VaultError(_("对象锁定模式须为 COMPLIANCE 或 GOVERNANCE，而不是“%(mode)s”。") % {"mode": lock_mode})
        if not bucket:
            raise VaultError(_("未配置原始文件存储桶（AVR_S3_BUCKET）。"))
        if derivative_bucket == bucket:
            raise VaultError(_("衍生资料存储桶不能与原始文件存储桶相同（原始文件桶加锁，衍生资料不加锁）。"))
        self.bucket, self.derivative_bucket = bucket, derivative_bucket
        self.prefix, self.lock_mode, self.create_buckets = prefix, lock_mode, create_buckets
        self.endpoint = endpoint
        self.default_retention_days = default_retention_days
        self.client = client or _make_client(endpoint=endpoint, region=region, access_key=access_key,
                                             secret_key=secret_key, addressing=addressing)
        self._versions: OrderedDict[str, str] = OrderedDict()
        self._stats: dict[str, ObjectStat] = {}  # locked originals only (serving asks every request)
        self._versions_lock = threading.Lock()

    # ---- start-up ---------------------------------------------------------------------------

    def ping(self) -> None:
        for bucket in (self.bucket, self.derivative_bucket):
            try:
                self.client.head_bucket(Bucket=bucket)
            except Exception as exc:
                raise _translate(exc) from exc

    def check(self) -> None:
        """Both buckets exist (created if allowed); the originals bucket has versioning and Object
        Lock. Anything else is a VaultError that stops the platform from starting in S3 mode."""
        self._ensure_bucket(self.bucket, locked=True)
        self._ensure_bucket(self.derivative_bucket, locked=False)
        try:
            versioning = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status")
            lock = self.client.get_object_lock_configuration(Bucket=self.bucket)
            enabled = lock.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        except Exception as exc:
            if _code(exc) == "ObjectLockConfigurationNotFoundError":
                enabled = None
            else:
                raise _translate(exc) from exc
        if enabled != "Enabled":
            raise VaultError(
                _("存储桶“%(bucket)s”未开启对象锁定（Object Lock）：原始文件不能存入可被删除的存储，平台拒绝启动。请新建开启对象锁定的存储桶。")
                % {"bucket": self.bucket}
            )
        if versioning != "Enabled":
            raise VaultError(_("存储桶“%(bucket)s”未开启版本控制，平台拒绝启动。") % {"bucket": self.bucket})
        if not lock["ObjectLockConfiguration"].get("Rule"):
            # A default rule locks every object from the moment it exists, whatever the request
            # carried (Ceph RGW 16 ignores lock headers on multipart uploads): no unlocked window.
            try:
                self.client.put_object_lock_configuration(Bucket=self.bucket, ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": self.lock_mode, "Days": self.default_retention_days}},
                })
            except Exception as exc:
                raise _translate(exc) from exc

    def _ensure_bucket(self, bucket: str, *, locked: bool) -> None:
        try:
            self.client.head_bucket(Bucket=bucket)
            return
        except Exception as exc:
            if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise _translate(exc) from exc
        if not self.create_buckets:
            raise VaultError(_("存储桶“%(bucket)s”不存在（AVR_S3_CREATE_BUCKETS=0，不自动创建）。") % {"bucket": bucket})
        try:
            if locked:
                self.client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
            else:
                self.client.create_bucket(Bucket=bucket)
        except Exception as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise _translate(exc) from exc

    # ---- keys ---------------------------------------------------------------------------------

    key_for = staticmethod(content_key)

    def _locate(self, key: str) -> tuple[str, str]:
        """(bucket, object key) of a vault key; a malformed key does not exist."""
        if not is_valid_key(key):
            raise ObjectMissingError(_("非法的对象键。"))
        bucket = self.bucket if key.startswith(Area.ORIGINAL.value + "/") else self.derivative_bucket
        return bucket, self.prefix + key

    def _version(self, key: str) -> str | None:
        """The first (committed) version of ``key``, or None when there is none."""
        with self._versions_lock:
            if key in self._versions:
                self._versions.move_to_end(key)
                return self._versions[key]
        bucket, name = self._locate(key)
        try:
            listing = self.client.list_object_versions(Bucket=bucket, Prefix=name)
        except Exception as exc:
            raise _translate(exc) from exc
        versions = [v for v in listing.get("Versions", []) if v["Key"] == name]
        if not versions:
            return None
        first = min(versions, key=lambda v: v["LastModified"])["VersionId"]
        if first in (None, "null") and bucket != self.bucket:
            first = None  # an unversioned bucket: the object itself
        with self._versions_lock:
            self._versions[key] = first or ""
            while len(self._versions) > 100_000:
                self._versions.popitem(last=False)
        return first or ""

    def _object_args(self, key: str) -> dict:
        bucket, name = self._locate(key)
        version = self._version(key)
        if version is None:
            raise ObjectMissingError(_("文件库中找不到该对象。"))
        args = {"Bucket": bucket, "Key": name}
        if version:
            args["VersionId"] = version
        return args

    # ---- stage and commit ---------------------------------------------------------------------

    def staging(self, name: str) -> S3Staging:
        return S3Staging(self, name)

    def commit(self, staged: S3Staging, digests: Digests, *, area: Area = Area.ORIGINAL,
               retain_until: datetime | None = None) -> StoredResult:
        if not isinstance(staged, S3Staging) or staged.backend is not self:
            raise VaultError(_("暂存文件不属于该文件库。"))
        segments = staged.segments()
        size = sum(length for _offset, length in segments)
        if size != digests.size:
            raise VaultError(_("暂存文件大小与摘要不符：%(size)s ≠ %(expected)s。") % {"size": size, "expected": digests.size})
        key = self.key_for(digests.sha256, area)
        until = (retain_until or retention_floor()) if area == Area.ORIGINAL else None
        if self.stat(key) is not None:  # the same bytes are stored already: never overwrite
            if until is not None:
                self._ensure_locked(key, until)  # a retried commit that stopped before the lock
            staged.discard()
            return StoredResult(key=key, digests=digests, created=False, backend=self.name)
        bucket, name = self._locate(key)
        extra = {}
        if until is not None:  # every original is locked, at least until the floor
            extra = {"ObjectLockMode": self.lock_mode, "ObjectLockRetainUntilDate": until}
        version = self._upload_multipart(bucket, name, staged, segments, digests, extra)
        with self._versions_lock:
            self._versions[key] = version or ""
        if until is not None:
            self._ensure_locked(key, until)
        staged.discard()
        return StoredResult(key=key, digests=digests, created=True, backend=self.name)

    def _ensure_locked(self, key: str, until: datetime) -> None:
        """The committed version carries a lock until at least ``until`` (servers that ignore the
        lock headers of a multipart upload get the bucket's default rule, extended here)."""
        current = self.retention(key)
        if current.mode and current.until is not None and current.until >= until:
            return
        try:
            self.client.put_object_retention(
                **self._object_args(key),
                Retention={"Mode": current.mode or self.lock_mode, "RetainUntilDate": until},
            )
        except Exception as exc:
            raise _translate(exc) from exc
        if not self.retention(key).mode:
            raise VaultError(_("对象存储未对原始文件加锁（对象锁定未生效），请检查存储桶设置。"))

    def _upload_multipart(self, bucket: str, name: str, staged: S3Staging, segments, digests: Digests,
                          extra: dict) -> str | None:
        """Assemble the staged segments into a multipart upload; returns the new version id.

        A segment of at least 5 MiB becomes a part by server-side copy (no byte passes through
        this process: the full read-back that follows every commit proves the result); shorter
        ones (the tail of a PATCH) are read, joined and sent with Content-MD5 and
        x-amz-checksum-sha256. When every part was sent, the bytes sent are re-hashed on the way
        and must equal ``digests`` before the upload is completed."""
        try:
            upload_id = self.client.create_multipart_upload(
                Bucket=bucket, Key=name, ChecksumAlgorithm="SHA256", **extra
            )["UploadId"]
        except Exception as exc:
            raise _translate(exc) from exc
        try:
            parts = []
            plan = _plan_parts(segments)
            copies = any(kind == "copy" for kind, _pieces in plan)
            with StreamingDigester() as rehash:
                for number, (kind, pieces) in enumerate(plan, start=1):
                    if kind == "copy":
                        parts.append(self._copy_part(bucket, name, upload_id, number, staged, pieces[0][0]))
                        continue
                    part = b"".join(chunk for offset, length in pieces
                                    for chunk in staged._read_segment(offset, length))
                    if not copies:
                        rehash.update(part)
                    parts.append(self._upload_part(bucket, name, upload_id, number, part))
                actual = rehash.finish()
            if not copies and actual != digests:
                raise CommitChecksumError(
                    _("提交时重新计算的摘要与上传时不一致（暂存数据已改变），未入库。")
                )
            if not parts:  # an empty object is one empty part
                parts.append(self._upload_part(bucket, name, upload_id, 1, b""))
            done = self.client.complete_multipart_upload(
                Bucket=bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException as exc:
            try:
                self.client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)
            except Exception:
                logger.warning("could not abort multipart upload %s of %s", upload_id, name)
            if isinstance(exc, VaultError):
                raise
            if isinstance(exc, Exception):
                raise _translate(exc) from exc
            raise
        return done.get("VersionId")

    def _copy_part(self, bucket, name, upload_id, number, staged: S3Staging, offset: int) -> dict:
        answer = self.client.upload_part_copy(
            Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=number,
            CopySource={"Bucket": staged.bucket, "Key": staged._segment_key(offset)},
        )
        return {"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]}

    def _upload_part(self, bucket, name, upload_id, number, part) -> dict:
        sha = hashlib.sha256(part).digest()
        try:
            answer = self.client.upload_part(
                Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=part,
                ContentMD5=_b64(hashlib.md5(part).digest()), ChecksumSHA256=_b64(sha),
            )
        except Exception as exc:
            if _code(exc) in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
                raise CommitChecksumError(
                    _("存储服务器收到的数据与发送的不一致（第 %(n)s 段校验失败），未入库。") % {"n": number}
                ) from exc
            raise
        returned = answer.get("ChecksumSHA256")
        if returned and returned != _b64(sha):
            raise CommitChecksumError(
                _("存储服务器计算的 SHA-256 与发送的不一致（第 %(n)s 段），未入库。") % {"n": number}
            )
        entry = {"PartNumber": number, "ETag": answer["ETag"]}
        if returned:
            entry["ChecksumSHA256"] = returned
        return entry

    def write(self, chunks: Iterable[bytes] | BinaryIO, *, area: Area = Area.ORIGINAL,
              retain_until: datetime | None = None) -> StoredResult:
        staging = self.staging(f"w-{os.urandom(12).hex()}")
        try:
            with StreamingDigester() as digester:
                staging.append(iter_chunks(chunks), offset=0, on_written=digester.update)
                digests = digester.finish()
            return self.commit(staging, digests, area=area, retain_until=retain_until)
        except BaseException:
            try:
                staging.discard()
            except Exception:
                logger.warning("could not discard staging %s", staging.name)
            raise

    # ---- read ---------------------------------------------------------------------------------

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        args = self._object_args(key)  # raises before the first chunk is asked for
        if length == 0:
            return iter(())
        end = "" if length is None else str(start + length - 1)
        if start == 0 and length is None:
            return self._stream(args)
        return self._stream({**args, "Range": f"bytes={start}-{end}"})

    def _stream(self, args: dict) -> Iterator[bytes]:
        try:
            body = self.client.get_object(**args)["Body"]
        except Exception as exc:
            if _code(exc) == "InvalidRange":  # an empty object
                return
            raise _translate(exc) from exc
        try:
            yield from body.iter_chunks(CHUNK_SIZE // 16)
        finally:
            body.close()

    def open(self, key: str) -> BinaryIO:
        args = self._object_args(key)
        stat = self.stat(key)
        if stat is None:
            raise ObjectMissingError(_("文件库中找不到该对象。"))
        return io.BufferedReader(_RangeReader(self, args, stat.size), buffer_size=1024 * 1024)

    def stat(self, key: str) -> ObjectStat | None:
        cached = self._stats.get(key)
        if cached is not None:  # a locked original's first version cannot change or go away
            return cached
        try:
            args = self._object_args(key)
        except ObjectMissingError:
            if not is_valid_key(key):
                raise
            return None
        try:
            head = self.client.head_object(**args)
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NoSuchVersion", "NotFound"):
                return None
            raise _translate(exc) from exc
        # A version is immutable: S3 has no call that changes its bytes.
        stat = ObjectStat(key=key, size=head["ContentLength"], read_only=True)
        if key.startswith(Area.ORIGINAL.value + "/") and head.get("ObjectLockMode"):
            with self._versions_lock:
                self._stats[key] = stat
                while len(self._stats) > 100_000:
                    self._stats.pop(next(iter(self._stats)))
        return stat

    def verify(self, key: str, expected: Digests, *, read_back: bool = False) -> VerifyOutcome:
        try:
            args = self._object_args(key)
        except ObjectMissingError:
            return VerifyOutcome("fail", _("文件缺失：文件库中找不到该对象。"))
        except VaultError as exc:
            return VerifyOutcome("not_run", _("无法读取对象：%(error)s") % {"error": exc.message})
        try:
            algorithms = READ_BACK_ALGORITHMS if read_back else ALGORITHMS
            with StreamingDigester(algorithms=algorithms) as digester:
                for chunk in self._stream(args):
                    digester.update(chunk)
                actual = digester.finish()
        except VaultError as exc:
            return VerifyOutcome("not_run", _("无法读取对象：%(error)s") % {"error": exc.message})
        except Exception as exc:  # a dropped connection mid-read
            return VerifyOutcome("not_run", _("无法读取对象：%(error)s") % {"error": _translate(exc).message})
        return compare_digests(actual, expected)

    # ---- retention ------------------------------------------------------------------------------

    def retention(self, key: str) -> Retention:
        args = self._object_args(key)
        try:
            head = self.client.head_object(**args)
        except Exception as exc:
            raise _translate(exc) from exc
        mode = head.get("ObjectLockMode", "") or ""
        return Retention(
            until=head.get("ObjectLockRetainUntilDate"),
            legal_hold=head.get("ObjectLockLegalHoldStatus") == "ON",
            mode=mode,
            enforced_by_store=bool(mode),
        )

    def extend_retention(self, key: str, until: datetime) -> Retention:
        if not key.startswith(Area.ORIGINAL.value + "/"):
            raise RetentionError(_("衍生资料不加锁，没有保存期限。"))
        current = self.retention(key)
        if current.until is not None and until < current.until:
            raise RetentionError(_("保存期限只能延长，不能缩短。"))
        try:
            self.client.put_object_retention(
                **self._object_args(key),
                Retention={"Mode": current.mode or self.lock_mode, "RetainUntilDate": until},
            )
        except Exception as exc:
            raise _translate(exc) from exc
        return self.retention(key)

    def set_legal_hold(self, key: str, on: bool) -> Retention:
        if not key.startswith(Area.ORIGINAL.value + "/"):
            raise RetentionError(_("衍生资料不加锁，不能冻结。"))
        try:
            self.client.put_object_legal_hold(**self._object_args(key), LegalHold={"Status": "ON" if on else "OFF"})
        except Exception as exc:
            raise _translate(exc) from exc
        return self.retention(key)

    def dispose(self, key: str, *, authorization) -> NoReturn:
        check_disposal(key, self.retention(key), authorization)

    def local_path(self, key: str) -> str | None:
        return None

    def free_bytes(self) -> int | None:
        return None  # object stores do not say; capacity is the operator's (deploy/README)


class S3Staging:
    """An upload in progress as segment objects ``staging/<name>/<offset>`` in the unlocked bucket."""

    def __init__(self, backend: S3Backend, name: str):
        check_staging_name(name)
        self.backend = backend
        self.name = name
        self.bucket = backend.derivative_bucket
        self.prefix = f"{backend.prefix}staging/{name}/"

    def segments(self) -> list[tuple[int, int]]:
        """(offset, length) of the contiguous segments from 0, in order."""
        found: dict[int, int] = {}
        token = None
        while True:
            args = {"Bucket": self.bucket, "Prefix": self.prefix}
            if token:
                args["ContinuationToken"] = token
            try:
                page = self.backend.client.list_objects_v2(**args)
            except Exception as exc:
                raise _translate(exc) from exc
            for item in page.get("Contents", []):
                match = _SEGMENT.match(item["Key"][len(self.prefix):])
                if match:
                    found[int(match.group(1))] = item["Size"]
            if not page.get("IsTruncated"):
                break
            token = page.get("NextContinuationToken")
        result, position = [], 0
        while position in found:
            length = found[position]
            if length == 0:
                break
            result.append((position, length))
            position += length
        return result

    def _segment_key(self, offset: int) -> str:
        return f"{self.prefix}{offset:020d}"

    def size(self) -> int:
        segments = self.segments()
        return segments[-1][0] + segments[-1][1] if segments else 0

    def append(self, chunks: Iterable[bytes], *, offset: int, on_written=None) -> int:
        current = self.size()
        if current != offset:
            raise VaultError(
                _("暂存文件偏移不一致：期望 %(expected)s，实际 %(actual)s。")
                % {"expected": offset, "actual": current}
            )
        # One segment is PUT in the background while the next one arrives: reading the request
        # and writing the store overlap. At most two segments are in memory per upload.
        written = 0  # bytes durable and passed to on_written
        queued = 0  # bytes handed to a PUT
        buffer: list[bytes] = []
        buffered = 0
        in_flight: tuple[Future, bytes] | None = None

        def settle() -> None:
            """Wait for the PUT in flight; once durable, its bytes go to on_written."""
            nonlocal in_flight, written
            if in_flight is None:
                return
            future, data = in_flight
            in_flight = None
            future.result()  # raises the store's error
            if on_written is not None:
                on_written(data)
            written += len(data)

        def flush() -> None:
            nonlocal buffered, queued, in_flight
            if not buffered:
                return
            data = buffer[0] if len(buffer) == 1 else b"".join(buffer)
            buffer.clear()
            buffered = 0
            future = pool.submit(self._put, offset + queued, data)
            queued += len(data)
            settle()  # the previous segment; this one stays in flight
            in_flight = (future, data)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-staging") as pool:
            try:
                for chunk in chunks:
                    if not chunk:
                        continue
                    buffer.append(bytes(chunk))
                    buffered += len(chunk)
                    if buffered >= SEGMENT_SIZE:
                        flush()
            except VaultError:
                _discard_result(in_flight)
                raise  # the store failed: only what was settled is durable (and was passed on)
            except BaseException:
                try:  # the source stopped (a dropped connection): keep what arrived
                    flush()
                    settle()
                finally:
                    _discard_result(in_flight)
                raise
            try:
                flush()
                settle()
            except VaultError:
                _discard_result(in_flight)
                raise
        return written

    def _put(self, offset: int, data: bytes) -> None:
        # The signed payload guards the transfer: SigV4 puts the body's SHA-256 in the signature
        # (payload signing is on for every request, HTTP and HTTPS alike, _make_client) and the
        # server refuses a body that differs (XAmzContentSHA256Mismatch; tested against RGW).
        # No Content-MD5 besides: MD5 is slower than SHA-256 here (SHA extensions) and guarded
        # nothing more — perf put it at 1.4 ms/MB in the web node. The whole upload's SHA-256
        # and SM3 are computed as it arrives and checked again by the read-back after commit.
        try:
            self.backend.client.put_object(Bucket=self.bucket, Key=self._segment_key(offset), Body=data)
        except Exception as exc:
            raise _translate(exc) from exc

    def truncate(self, size: int) -> None:
        for offset, length in reversed(self.segments()):
            if offset >= size:
                self._delete([self._segment_key(offset)])
            elif offset + length > size:
                keep = b"".join(self._read_segment(offset, size - offset))
                self._put(offset, keep)
                break
            else:
                break

    def _read_segment(self, offset: int, length: int) -> Iterator[bytes]:
        if length <= 0:
            return
        try:
            body = self.backend.client.get_object(
                Bucket=self.bucket, Key=self._segment_key(offset), Range=f"bytes=0-{length - 1}"
            )["Body"]
        except Exception as exc:
            raise _translate(exc) from exc
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def read_prefix(self, size: int) -> Iterator[bytes]:
        remaining = size
        for offset, length in self.segments():
            if remaining <= 0:
                return
            take = min(length, remaining)
            yield from self._read_segment(offset, take)
            remaining -= take

    def discard(self) -> None:
        keys = [self._segment_key(offset) for offset, _length in self.segments()]
        # segments past a gap too (an interrupted truncate): everything under the prefix
        try:
            listing = self.backend.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix)
        except Exception as exc:
            raise _translate(exc) from exc
        keys = sorted({*keys, *(item["Key"] for item in listing.get("Contents", []))})
        for start in range(0, len(keys), 1000):
            self._delete(keys[start : start + 1000])

    def _delete(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            self.backend.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
            )
        except Exception as exc:
            raise _translate(exc) from exc


class _RangeReader(io.RawIOBase):
    """A seekable file over ranged GETs: sequential reads share one streaming GET."""

    def __init__(self, backend: S3Backend, args: dict, size: int):
        self._backend, self._args, self._size = backend, args, size
        self._pos = 0
        self._body = None
        self._body_pos = -1

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self._pos = offset
        elif whence == io.SEEK_CUR:
            self._pos += offset
        else:
            self._pos = self._size + offset
        self._pos = max(0, self._pos)
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None or self._body_pos != self._pos:
            self._close_body()
            try:
                self._body = self._backend.client.get_object(
                    **self._args, Range=f"bytes={self._pos}-"
                )["Body"]
            except Exception as exc:
                raise OSError(_translate(exc).message) from exc
            self._body_pos = self._pos
        view = memoryview(buffer)
        data = self._body.read(len(view))
        n = len(data)
        view[:n] = data
        self._pos += n
        self._body_pos = self._pos
        return n

    def _close_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_body()
        super().close()


# ---- helpers ----------------------------------------------------------------------------------


def _make_client(*, endpoint, region, access_key, secret_key, addressing):
    import boto3
    from botocore.config import Config

    config = Config(
        # payload signing: the body's SHA-256 is signed and checked by the server, also over
        # HTTPS (where botocore would otherwise skip it for a body sent with a checksum header)
        s3={"addressing_style": addressing or "path", "payload_signing_enabled": True},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=32,
        # we send Content-MD5 and x-amz-checksum-sha256 ourselves; botocore's default CRC with
        # aws-chunked bodies is not understood by many S3 servers (Ceph RGW 16 among them)
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3", endpoint_url=endpoint or None, region_name=region or "us-east-1",
        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None, config=config,
    )


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _translate(exc: BaseException) -> VaultError:
    """A boto/botocore error as a VaultError people can act on (Chinese, no stack trace)."""
    if isinstance(exc, VaultError):
        return exc
    from botocore.exceptions import (
        ConnectionClosedError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    code = _code(exc)
    if isinstance(exc, (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError)) or code in (
        "ServiceUnavailable", "SlowDown", "503", "RequestTimeout",
    ):
        return VaultUnavailableError(_("对象存储暂时无法连接，已保存的部分不受影响，请稍后重试。"))
    if code == "RequestTimeTooSkewed":
        return VaultUnavailableError(
            _("本节点的时钟与对象存储相差过大（RequestTimeTooSkewed），请求被拒绝：请用 chrony/NTP 校准各节点时间。")
        )
    if isinstance(exc, NoCredentialsError):
        return VaultUnavailableError(_("未配置对象存储的访问密钥，请设置 AVR_S3_ACCESS_KEY 与 AVR_S3_SECRET_KEY。"))
    if code in (
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403",
    ):
        return VaultUnavailableError(_("对象存储拒绝了访问密钥（%(code)s），请检查 AVR_S3_ACCESS_KEY 与 AVR_S3_SECRET_KEY。") % {"code": code or "credentials"})
    if code in ("QuotaExceeded", "InsufficientStorage", "InsufficientCapacity"):
        return VaultFullError(_("对象存储空间不足（%(code)s），已保存的部分不受影响，请联系管理员扩容后继续上传。") % {"code": code})
    if code in ("404", "NoSuchKey", "NoSuchVersion", "NotFound"):
        return ObjectMissingError(_("文件库中找不到该对象。"))
    if code in ("NoSuchBucket",):
        return VaultUnavailableError(_("对象存储中找不到存储桶。"))
    logger.warning("S3 error: %s", exc)
    return VaultError(_("对象存储出错：%(code)s") % {"code": code or type(exc).__name__})


def _plan_parts(segments: list[tuple[int, int]]) -> list[tuple[str, list[tuple[int, int]]]]:
    """The parts of a commit: ("copy", [segment]) for a segment S3 can copy as a part (≥ 5 MiB),
    ("send", [segments...]) for short ones joined until they are big enough (or are the last)."""
    plan: list[tuple[str, list[tuple[int, int]]]] = []
    run: list[tuple[int, int]] = []
    for segment in segments:
        if not run and segment[1] >= MIN_PART:
            plan.append(("copy", [segment]))
            continue
        run.append(segment)
        if sum(length for _offset, length in run) >= MIN_PART:
            plan.append(("send", run))
            run = []
    if run:
        plan.append(("send", run))
    return plan


def _discard_result(in_flight) -> None:
    """Wait for a PUT we no longer count (after an error), so its thread is idle again."""
    if in_flight is not None:
        try:
            in_flight[0].result()
        except Exception:  # noqa: S110 - the first error is the one reported
            pass


def build_from_settings() -> S3Backend:
    from django.conf import settings

    return S3Backend(**settings.S3_VAULT, default_retention_days=settings.RETENTION_FLOOR_DAYS)
