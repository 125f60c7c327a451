"""Filesystem vault: content-addressed, fsynced, atomically renamed, read-only.

Layout under the root::

    staging/<name>                     uploads in progress, same filesystem
    originals/ab/cd/<sha256>           write-once originals (mode 0444)
    derivatives/ab/cd/<sha256>         posters, proxies (mode 0444)
    retention/<key>.json               retain-until and legal hold (enforced by this platform only)
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, NoReturn

from django.utils.translation import gettext as _

from core.digests import CHUNK_SIZE, Digests, PooledReader, StreamingDigester, digest_file
from storage.backends.base import (
    READ_BACK_ALGORITHMS,
    Area,
    ObjectMissingError,
    ObjectStat,
    Retention,
    RetentionError,
    StoredResult,
    VaultError,
    VaultFullError,
    VerifyOutcome,
    check_staging_name,
    compare_digests,
    content_key,
    is_valid_key,
    iter_chunks,
)
from storage.disposal import check_disposal
from storage.retention import retention_floor


def _raise_os_error(exc: OSError) -> None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise VaultFullError(_("文件库存储空间不足，已保存的部分不受影响，请联系管理员释放空间后继续上传。")) from exc
    raise VaultError(_("文件库写入失败：%(error)s") % {"error": exc.strerror or exc}) from exc


# Large writes are flushed as they go: every _WRITEBACK_EVERY bytes, writeback
# of the new range starts, and the range before it is waited for and dropped
# from the page cache. The fsync at commit then only waits for the tail, and
# the page cache never holds gigabytes of dirty pages (on the 2-core reference
# VM that halves the kernel time of a 2 GiB write, leaving the CPU to SM3).
# Linux only; elsewhere it is skipped. A hint, never an error.
_WRITEBACK_EVERY = 16 * 1024 * 1024
_SYNC_FILE_RANGE_WAIT_BEFORE, _SYNC_FILE_RANGE_WRITE, _SYNC_FILE_RANGE_WAIT_AFTER = 1, 2, 4
try:
    _sync_file_range = ctypes.CDLL(None, use_errno=True).sync_file_range
    _sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    _sync_file_range.restype = ctypes.c_int
except (OSError, AttributeError):  # not Linux / not glibc
    _sync_file_range = None


def _start_writeback(fd: int, offset: int, length: int) -> None:
    if _sync_file_range is not None and length > 0:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def _settle(fd: int, offset: int, length: int) -> None:
    """Wait until a range written earlier is on disk, then drop it from the page cache."""
    if _sync_file_range is not None and length > 0:
        flags = _SYNC_FILE_RANGE_WAIT_BEFORE | _SYNC_FILE_RANGE_WRITE | _SYNC_FILE_RANGE_WAIT_AFTER
        if _sync_file_range(fd, offset, length, flags) == 0:
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_at_most(handle: BinaryIO, remaining: int) -> Iterator[bytes]:
    """Up to ``remaining`` bytes from ``handle``'s position, in chunks; fewer at end of file."""
    while remaining > 0:
        chunk = handle.read(min(CHUNK_SIZE, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _stream_range(handle: BinaryIO, start: int, length: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        if length is None:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk
        else:
            yield from _read_at_most(handle, length)


class FilesystemStaging:
    def __init__(self, backend: FilesystemBackend, name: str):
        check_staging_name(name)
        self.backend = backend
        self.name = name
        self.path = backend.root / "staging" / name

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, chunks: Iterable[bytes], *, offset: int, on_written=None) -> int:
        """Write ``chunks`` at ``offset`` (must equal the current size); return bytes written.

        ``on_written(chunk)`` is called after each chunk is fully on disk (feed
        the digester there). On a write error the file is cut back to the last
        whole chunk, so the stored prefix and the digests always agree. If the
        chunk source itself fails (a dropped connection), what was written stays.
        """
        written = 0
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            current = os.fstat(fd).st_size
            if current != offset:
                raise VaultError(
                    _("暂存文件偏移不一致：期望 %(expected)s，实际 %(actual)s。")
                    % {"expected": offset, "actual": current}
                )
            os.lseek(fd, offset, os.SEEK_SET)
            flushed, previous = 0, None
            for chunk in chunks:
                view = memoryview(chunk)
                try:
                    while view:
                        view = view[self.backend.os_write(fd, view):]
                except OSError as exc:
                    os.ftruncate(fd, offset + written)
                    _raise_os_error(exc)
                written += len(chunk)
                if on_written is not None:
                    on_written(chunk)
                if written - flushed >= _WRITEBACK_EVERY:
                    _start_writeback(fd, offset + flushed, written - flushed)
                    if previous is not None:
                        _settle(fd, *previous)
                    previous, flushed = (offset + flushed, written - flushed), written
            return written
        finally:
            os.close(fd)

    def truncate(self, size: int) -> None:
        with open(self.path, "r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())

    def read_prefix(self, size: int) -> Iterator[bytes]:
        with open(self.path, "rb", buffering=0) as handle:
            yield from _read_at_most(handle, size)

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


class FilesystemBackend:
    name = "filesystem"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        for sub in ("staging", Area.ORIGINAL.value, Area.DERIVATIVE.value):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # A seam for tests that simulate a full disk (ING-6).
    os_write = staticmethod(os.write)

    key_for = staticmethod(content_key)

    def _path(self, key: str) -> Path:
        if not is_valid_key(key):
            raise ObjectMissingError(_("非法的对象键。"))
        return self.root / key

    def staging(self, name: str) -> FilesystemStaging:
        return FilesystemStaging(self, name)

    def write(self, chunks: Iterable[bytes] | BinaryIO, *, area: Area = Area.ORIGINAL,
              retain_until: datetime | None = None) -> StoredResult:
        """Stream to staging while hashing in parallel threads, then commit."""
        staging = self.staging(f"w-{os.urandom(12).hex()}")
        try:
            with StreamingDigester() as digester:
                if hasattr(chunks, "readinto"):
                    # read into pooled buffers; each is written, then hashed in place (lent)
                    reader = PooledReader(chunks.readinto, count=6, size=CHUNK_SIZE)
                    staging.append(reader, offset=0,
                                   on_written=lambda view: digester.update(view, release=reader.lend(view)))
                else:
                    staging.append(iter_chunks(chunks), offset=0, on_written=digester.update)
                digests = digester.finish()
            return self.commit(staging, digests, area=area, retain_until=retain_until)
        except BaseException:
            staging.discard()
            raise

    def commit(self, staged: FilesystemStaging, digests: Digests, *, area: Area = Area.ORIGINAL,
               retain_until: datetime | None = None) -> StoredResult:
        """fsync, then atomically link to the content address and make read-only.

        If the address already holds an object, the staging copy is discarded and the existing
        object wins: nothing is ever overwritten. ``retain_until`` is recorded beside the object
        (the filesystem itself enforces nothing; this platform's disposal gate reads it).
        """
        if not isinstance(staged, FilesystemStaging) or staged.backend is not self:
            raise VaultError(_("暂存文件不属于该文件库。"))
        path = staged.path
        if not path.exists():
            path.touch(0o600)
        size = staged.size()
        if size != digests.size:
            raise VaultError(_("暂存文件大小与摘要不符：%(size)s ≠ %(expected)s。") % {"size": size, "expected": digests.size})
        key = self.key_for(digests.sha256, area)
        final = self.root / key
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(path, 0o444)
            try:
                # link() refuses an existing target, unlike rename(): never overwrite.
                os.link(path, final)
                created = True
            except FileExistsError:
                created = False
            os.unlink(path)
            _fsync_dir(final.parent)
            _fsync_dir(path.parent)
            if created and area == Area.ORIGINAL:
                self._write_retention(key, Retention(until=retain_until or retention_floor()))
        except OSError as exc:
            _raise_os_error(exc)
        return StoredResult(key=key, digests=digests, created=created, backend=self.name)

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError as exc:
            raise ObjectMissingError(_("文件库中找不到该对象。")) from exc

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """``length`` bytes from ``start`` (to the end when None)."""
        handle = self.open(key)  # raises before the first chunk is asked for
        return _stream_range(handle, start, length)

    def stat(self, key: str) -> ObjectStat | None:
        try:
            st = self._path(key).stat()
        except FileNotFoundError:
            return None
        return ObjectStat(key=key, size=st.st_size, read_only=not (st.st_mode & 0o222))

    def verify(self, key: str, expected: Digests, *, read_back: bool = False) -> VerifyOutcome:
        path = self._path(key)
        if not path.exists():
            return VerifyOutcome("fail", _("文件缺失：文件库中找不到该对象。"))
        try:
            actual = digest_file(path, algorithms=READ_BACK_ALGORITHMS) if read_back else digest_file(path)
        except OSError as exc:
            return VerifyOutcome("not_run", _("无法读取对象：%(error)s") % {"error": exc.strerror or exc})
        return compare_digests(actual, expected)

    # ---- retention: recorded beside the object; the filesystem enforces none of it ------------

    def _retention_path(self, key: str) -> Path:
        self._path(key)  # validates the key
        return self.root / "retention" / f"{key}.json"

    def _write_retention(self, key: str, retention: Retention) -> None:
        path = self._retention_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"until": retention.until.isoformat() if retention.until else None,
                "legal_hold": retention.legal_hold}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, path)

    def _require(self, key: str) -> None:
        if self.stat(key) is None:
            raise ObjectMissingError(_("文件库中找不到该对象。"))

    def retention(self, key: str) -> Retention:
        self._require(key)
        try:
            body = json.loads(self._retention_path(key).read_text())
        except FileNotFoundError:
            return Retention(until=None)
        until = datetime.fromisoformat(body["until"]) if body.get("until") else None
        return Retention(until=until, legal_hold=bool(body.get("legal_hold")))

    def extend_retention(self, key: str, until: datetime) -> Retention:
        current = self.retention(key)
        if current.until is not None and until < current.until:
            raise RetentionError(_("保存期限只能延长，不能缩短。"))
        updated = Retention(until=until, legal_hold=current.legal_hold)
        self._write_retention(key, updated)
        return updated

    def set_legal_hold(self, key: str, on: bool) -> Retention:
        current = self.retention(key)
        updated = Retention(until=current.until, legal_hold=on)
        self._write_retention(key, updated)
        return updated

    def dispose(self, key: str, *, authorization) -> NoReturn:
        check_disposal(key, self.retention(key), authorization)

    def check(self) -> None:
        for sub in ("staging", Area.ORIGINAL.value, Area.DERIVATIVE.value):
            if not os.access(self.root / sub, os.W_OK | os.X_OK):
                raise VaultError(_("文件库目录不可写：%(path)s") % {"path": self.root / sub})

    def ping(self) -> None:
        self.check()

    def local_path(self, key: str) -> str | None:
        return str(self._path(key))

    def free_bytes(self) -> int | None:
        return shutil.disk_usage(self.root).free
