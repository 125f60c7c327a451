"""Filesystem vault: content-addressed, fsynced, atomically renamed, read-only.

Layout under the root::

    staging/<name>                     uploads in progress, same filesystem
    originals/ab/cd/<sha256>           write-once originals (mode 0444)
    derivatives/ab/cd/<sha256>         posters, proxies (mode 0444)
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

from core.digests import CHUNK_SIZE, BufferPool, Digests, StreamingDigester, digest_file
from storage.backends.base import (
    Area,
    ObjectMissingError,
    ObjectStat,
    StoredResult,
    VaultError,
    VaultFullError,
    VerifyOutcome,
)

_STAGING_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_KEY = re.compile(r"^(originals|derivatives)/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")


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


def _read_pooled(source: BinaryIO, pool: BufferPool) -> Iterator[memoryview]:
    """Chunks of ``source`` read into pooled buffers, lent to the digester by ``write()``."""
    while True:
        buffer = pool.acquire()
        n = source.readinto(buffer)
        if not n:
            pool.release(buffer)
            return
        yield memoryview(buffer)[:n]


def _read_at_most(handle: BinaryIO, remaining: int) -> Iterator[bytes]:
    """Up to ``remaining`` bytes from ``handle``'s position, in chunks; fewer at end of file."""
    while remaining > 0:
        chunk = handle.read(min(CHUNK_SIZE, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _iter_chunks(source: Iterable[bytes] | BinaryIO) -> Iterator[bytes]:
    if hasattr(source, "read"):
        while True:
            chunk = source.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk
    else:
        yield from source


class FilesystemStaging:
    def __init__(self, backend: FilesystemBackend, name: str):
        if not _STAGING_NAME.match(name):
            raise VaultError(_("非法的暂存文件名。"))
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

    def commit(self, digests: Digests, *, area: Area = Area.ORIGINAL) -> StoredResult:
        """fsync, then atomically rename to the content address and make read-only.

        If the address already holds an object, the staging copy is discarded
        and the existing object wins: nothing is ever overwritten.
        """
        if not self.path.exists():
            self.path.touch(0o600)
        size = self.size()
        if size != digests.size:
            raise VaultError(_("暂存文件大小与摘要不符：%(size)s ≠ %(expected)s。") % {"size": size, "expected": digests.size})
        key = self.backend.key_for(digests.sha256, area)
        final = self.backend.root / key
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(self.path, 0o444)
            try:
                # link() refuses an existing target, unlike rename(): never overwrite.
                os.link(self.path, final)
                created = True
            except FileExistsError:
                created = False
            os.unlink(self.path)
            _fsync_dir(final.parent)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            _raise_os_error(exc)
        return StoredResult(key=key, digests=digests, created=created, backend=self.backend.name)

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

    @staticmethod
    def key_for(sha256: str, area: Area) -> str:
        return f"{area.value}/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ObjectMissingError(_("非法的对象键。"))
        return self.root / key

    def staging(self, name: str) -> FilesystemStaging:
        return FilesystemStaging(self, name)

    def write(self, chunks: Iterable[bytes] | BinaryIO, *, area: Area = Area.ORIGINAL) -> StoredResult:
        """Stream to staging while hashing in parallel threads, then commit."""
        staging = self.staging(f"w-{os.urandom(12).hex()}")
        try:
            with StreamingDigester() as digester:
                if hasattr(chunks, "readinto"):
                    pool = BufferPool()

                    def lend(view: memoryview) -> None:
                        # written to disk: hash the same buffer, back to the pool when hashed
                        digester.update(view, release=functools.partial(pool.release, view.obj))

                    staging.append(_read_pooled(chunks, pool), offset=0, on_written=lend)
                else:
                    staging.append(_iter_chunks(chunks), offset=0, on_written=digester.update)
                digests = digester.finish()
            return staging.commit(digests, area=area)
        except BaseException:
            staging.discard()
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError as exc:
            raise ObjectMissingError(_("文件库中找不到该对象。")) from exc

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` inclusive."""
        with self.open(key) as handle:
            handle.seek(start)
            yield from _read_at_most(handle, end - start + 1)

    def stat(self, key: str) -> ObjectStat | None:
        try:
            st = self._path(key).stat()
        except FileNotFoundError:
            return None
        return ObjectStat(key=key, size=st.st_size, read_only=not (st.st_mode & 0o222))

    def verify(self, key: str, expected: Digests) -> VerifyOutcome:
        path = self._path(key)
        if not path.exists():
            return VerifyOutcome("fail", _("文件缺失：文件库中找不到该对象。"))
        try:
            actual = digest_file(path)
        except OSError as exc:
            return VerifyOutcome("not_run", _("无法读取对象：%(error)s") % {"error": exc.strerror or exc})
        if actual != expected:
            parts = []
            if actual.size != expected.size:
                parts.append(_("大小 %(a)s ≠ 登记的 %(e)s") % {"a": actual.size, "e": expected.size})
            if actual.sha256 != expected.sha256:
                parts.append(_("SHA-256 不符"))
            if actual.sm3 != expected.sm3:
                parts.append(_("SM3 不符"))
            return VerifyOutcome("fail", _("内容已改变：") + "；".join(parts), actual)
        return VerifyOutcome("pass", _("SHA-256、SM3 与大小均与入库时一致。"), actual)

    def local_path(self, key: str) -> str | None:
        return str(self._path(key))

    def free_bytes(self) -> int | None:
        return shutil.disk_usage(self.root).free
