"""The vault backend protocol (promise 1: originals never change and never move).

Every backend — the filesystem one here, S3 with object lock later — must pass
``storage/tests/contract.py`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO, Protocol, runtime_checkable

from core.digests import Digests
from core.errors import DomainError


class Area(StrEnum):
    """Originals and derivatives live apart (ING-7)."""

    ORIGINAL = "originals"
    DERIVATIVE = "derivatives"


class VaultError(DomainError):
    code = "vault_error"
    status = 500


class VaultFullError(VaultError):
    code = "vault_full"
    status = 507


class ObjectMissingError(VaultError):
    code = "object_missing"
    status = 404


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


@runtime_checkable
class Staging(Protocol):
    """An upload in progress: appended to across requests and restarts."""

    name: str

    def size(self) -> int: ...
    def append(self, chunks: Iterable[bytes], *, offset: int, on_written=None) -> int: ...
    def truncate(self, size: int) -> None: ...
    def read_prefix(self, size: int) -> Iterator[bytes]: ...
    def commit(self, digests: Digests, *, area: Area = Area.ORIGINAL) -> StoredResult: ...
    def discard(self) -> None: ...


@runtime_checkable
class VaultBackend(Protocol):
    name: str

    def write(self, chunks: Iterable[bytes] | BinaryIO, *, area: Area = Area.ORIGINAL) -> StoredResult: ...
    def staging(self, name: str) -> Staging: ...
    def open(self, key: str) -> BinaryIO: ...
    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]: ...
    def stat(self, key: str) -> ObjectStat | None: ...
    def verify(self, key: str, expected: Digests) -> VerifyOutcome: ...
    def local_path(self, key: str) -> str | None: ...
    def free_bytes(self) -> int | None: ...
