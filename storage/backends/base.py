"""The vault backend protocol (promise 1: originals never change and never move; INT-2).

Every backend — the filesystem one for the embedded default, S3 with object lock for the
distributed mode — passes ``storage/tests/contract.py`` unchanged.

The life of an object:

1. **stage** — ``backend.staging(name)`` is an upload in progress, appended to across requests,
   restarts and (on a shared store) web nodes; its bytes live where the backend keeps them
   (a local staging folder, or segment objects in the bucket);
2. **commit** — ``backend.commit(staged, digests, area=, retain_until=)`` places the bytes under
   their content address (never overwriting: the same bytes already stored win) with the store's
   own retention where it has one;
3. **read** — ``open_range(key, start, length)`` streams, ``open(key)`` is a seekable reader for
   media libraries, ``stat``, ``verify`` (a streaming re-hash);
4. **keep** — ``retention(key)``, ``extend_retention(key, until)`` (never shortens),
   ``set_legal_hold(key, on)``;
5. **dispose** — the gated capability the retention issue will use: it refuses without a valid
   disposal authorization (``storage.disposal``), and until then there is none.

No backend has a method that deletes, overwrites or moves a stored object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import BinaryIO, Protocol, runtime_checkable

from django.utils.translation import gettext as _

from core.digests import CHUNK_SIZE, Digests
from core.errors import DomainError


class Area(StrEnum):
    """Originals and derivatives live apart (ING-7)."""

    ORIGINAL = "originals"
    DERIVATIVE = "derivatives"


class VaultError(DomainError):
    code = "vault_error"
    status = 500


class VaultUnavailableError(VaultError):
    """The store cannot be reached or refuses us (down, wrong key): try again later."""

    code = "vault_unavailable"
    status = 503


class VaultFullError(VaultError):
    code = "vault_full"
    status = 507


class ObjectMissingError(VaultError):
    code = "object_missing"
    status = 404


class CommitChecksumError(VaultError):
    """The store computed other checksums than ours for what we sent: nothing was committed."""

    code = "vault_checksum_mismatch"
    status = 502


class RetentionError(VaultError):
    """A retention change the store (or the law) does not allow, such as shortening a lock."""

    code = "retention_refused"
    status = 409


class DisposalRefusedError(VaultError):
    code = "disposal_refused"
    status = 403


# The layout every backend shares: one content address per area, and what a staging name may be.
KEY_PATTERN = re.compile(r"^(originals|derivatives)/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")
STAGING_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def content_key(sha256: str, area: Area) -> str:
    """The content address of bytes with ``sha256`` in ``area`` (``originals/ab/cd/<sha256>``)."""
    return f"{area.value}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def is_valid_key(key) -> bool:
    return isinstance(key, str) and KEY_PATTERN.match(key) is not None


def check_staging_name(name: str) -> None:
    if not isinstance(name, str) or not STAGING_NAME_PATTERN.match(name):
        raise VaultError(_("非法的暂存文件名。"))


def iter_chunks(source: Iterable[bytes] | BinaryIO) -> Iterator[bytes]:
    """Chunks of a file object (read in CHUNK_SIZE pieces) or of an iterable of bytes."""
    if hasattr(source, "read"):
        while chunk := source.read(CHUNK_SIZE):
            yield chunk
    else:
        yield from source


@dataclass(frozen=True)
class StoredResult:
    key: str  # backend-relative, content-addressed, fixed at write
    digests: Digests
    created: bool  # False: the same bytes were already there (dedupe)
    backend: str | None = None  # the backend's name; None: the configured one


@dataclass(frozen=True)
class ObjectStat:
    key: str
    size: int
    read_only: bool


@dataclass(frozen=True)
class VerifyOutcome:
    status: str  # "pass" | "fail" | "not_run"  (habit 4)
    detail: str  # Chinese, for people
    actual: Digests | None = None


@dataclass(frozen=True)
class Retention:
    """How long the store keeps an object, and who enforces it.

    ``enforced_by_store``: the storage itself refuses an early delete (S3 object lock in
    COMPLIANCE or GOVERNANCE mode), not only this platform's code.
    """

    until: datetime | None
    legal_hold: bool = False
    mode: str = ""  # "COMPLIANCE" | "GOVERNANCE" on S3; "" where the store has no lock
    enforced_by_store: bool = False


@runtime_checkable
class Staging(Protocol):
    """An upload in progress: appended to across requests, restarts and nodes."""

    name: str

    def size(self) -> int: ...

    def append(self, chunks: Iterable[bytes], *, offset: int, on_written=None) -> int:
        """Write ``chunks`` at ``offset`` (the current size); durable when it returns.

        ``on_written(chunk)`` is called for each chunk once it is durable (feed the digester
        there); on a store error the staging is left at a size whose bytes were all passed to
        ``on_written``, so the stored prefix and the digests always agree."""
        ...

    def truncate(self, size: int) -> None: ...
    def read_prefix(self, size: int) -> Iterator[bytes]: ...
    def discard(self) -> None: ...


@runtime_checkable
class VaultBackend(Protocol):
    name: str

    def check(self) -> None:
        """At start: the store is reachable and fit for originals, or a clear VaultError."""
        ...

    def ping(self) -> None:
        """Cheap and read-only, for the health endpoint: the store answers now, or a VaultError."""
        ...

    def key_for(self, sha256: str, area: Area) -> str: ...
    def staging(self, name: str) -> Staging: ...

    def commit(self, staged: Staging, digests: Digests, *, area: Area = Area.ORIGINAL,
               retain_until: datetime | None = None) -> StoredResult:
        """Put the staged bytes under their content address; the staging is gone afterwards."""
        ...

    def write(self, chunks: Iterable[bytes] | BinaryIO, *, area: Area = Area.ORIGINAL,
              retain_until: datetime | None = None) -> StoredResult:
        """Stage and commit in one go, hashing as it streams (derivatives, tests)."""
        ...

    def open_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """``length`` bytes from ``start`` (to the end when None), streamed in chunks."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A seekable, read-only file object (media probing, posters, transcoding)."""
        ...

    def stat(self, key: str) -> ObjectStat | None: ...
    def verify(self, key: str, expected: Digests, *, read_back: bool = False) -> VerifyOutcome:
        """A streaming re-hash against ``expected``. ``read_back``: the check right after a
        write, which proves the bytes landed with SHA-256 and size only (SM3 was computed over
        the same bytes as they arrived; the scheduled fixity checks re-read both)."""
        ...

    def retention(self, key: str) -> Retention: ...
    def extend_retention(self, key: str, until: datetime) -> Retention: ...
    def set_legal_hold(self, key: str, on: bool) -> Retention: ...
    def dispose(self, key: str, *, authorization) -> None: ...
    def local_path(self, key: str) -> str | None: ...
    def free_bytes(self) -> int | None: ...


READ_BACK_ALGORITHMS = ("sha256",)


def compare_digests(actual: Digests, expected: Digests) -> VerifyOutcome:
    """The outcome of a re-hash: pass, or fail naming what differs (shared by every backend).
    An algorithm that was not run (an empty digest, the read-back's SM3) is not compared."""
    sm3_run = bool(actual.sm3)
    if actual.size == expected.size and actual.sha256 == expected.sha256 and (
        not sm3_run or actual.sm3 == expected.sm3
    ):
        if not sm3_run:
            return VerifyOutcome("pass", _("SHA-256 与大小均与入库时一致。"), actual)
        return VerifyOutcome("pass", _("SHA-256、SM3 与大小均与入库时一致。"), actual)
    parts = []
    if actual.size != expected.size:
        parts.append(_("大小 %(a)s ≠ 登记的 %(e)s") % {"a": actual.size, "e": expected.size})
    if actual.sha256 != expected.sha256:
        parts.append(_("SHA-256 不符"))
    if sm3_run and actual.sm3 != expected.sm3:
        parts.append(_("SM3 不符"))
    return VerifyOutcome("fail", _("内容已改变：") + "；".join(parts), actual)
