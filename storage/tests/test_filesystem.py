"""The filesystem vault passes the shared contract, plus its on-disk specifics."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from storage.backends.base import Area, VaultError
from storage.backends.filesystem import FilesystemBackend
from storage.tests.contract import VaultContract, filesystem_identity, payload


def _flip_one_byte(path: str) -> None:
    mode = os.stat(path).st_mode & 0o7777
    os.chmod(path, 0o644)
    try:
        with open(path, "r+b") as handle:
            handle.seek(7)
            byte = handle.read(1)
            handle.seek(7)
            handle.write(bytes([byte[0] ^ 0xFF]))
    finally:
        os.chmod(path, mode)


class TestFilesystemVault(VaultContract):
    @pytest.fixture
    def backend(self, tmp_path):
        return FilesystemBackend(tmp_path / "fs-vault")

    def object_identity(self, backend, key):
        return filesystem_identity(backend.local_path(key))

    def tamper(self, backend, key):
        _flip_one_byte(backend.local_path(key))

    def fill_disk_after(self, backend, monkeypatch, budget):
        remaining = [budget]
        real_write = os.write

        def write(fd, data):
            if remaining[0] <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            n = real_write(fd, bytes(data[: remaining[0]]))
            remaining[0] -= n
            return n

        monkeypatch.setattr(backend, "os_write", write)


@pytest.mark.req("ING-2")
class TestFilesystemSpecifics:
    @pytest.fixture
    def backend(self, tmp_path):
        return FilesystemBackend(tmp_path / "fs-vault")

    def test_original_is_mode_0444_at_content_address(self, backend):
        result = backend.write([b"on disk"])
        path = backend.root / result.key
        sha = result.digests.sha256
        assert result.key == f"originals/{sha[:2]}/{sha[2:4]}/{sha}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        assert backend.local_path(result.key) == str(path)

    def test_derivatives_live_in_their_own_tree(self, backend):
        result = backend.write([b"poster"], area=Area.DERIVATIVE)
        assert (backend.root / "derivatives").is_dir()
        assert (backend.root / result.key).is_file()
        assert list((backend.root / "originals").rglob(result.digests.sha256)) == []

    def test_failed_write_leaves_no_staging_file(self, backend, monkeypatch):
        def full(fd, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(backend, "os_write", full)
        with pytest.raises(VaultError):
            backend.write([payload(10_000)])
        assert list((backend.root / "staging").iterdir()) == []

    def test_other_write_error_is_a_vault_error_not_full(self, backend, monkeypatch):
        def broken(fd, data):
            raise OSError(errno.EIO, "Input/output error")

        monkeypatch.setattr(backend, "os_write", broken)
        staging = backend.staging("io-error")
        with pytest.raises(VaultError) as caught:
            staging.append([b"abc"], offset=0)
        assert caught.value.code == "vault_error"
        assert staging.size() == 0

    def test_staging_name_must_be_plain(self, backend):
        for bad in ("../escape", "a/b", "", "x" * 101):
            with pytest.raises(VaultError):
                backend.staging(bad)

    def test_duplicate_commit_removes_staging_copy(self, backend):
        backend.write([b"twice"])
        backend.write([b"twice"])
        assert list((backend.root / "staging").iterdir()) == []
        assert len([p for p in (backend.root / "originals").rglob("*") if p.is_file()]) == 1


@pytest.mark.req("ING-2")
def test_file_source_larger_than_buffer_pool_is_exact(tmp_path):
    """write(open(...)) reuses a few read buffers; digests and bytes must still be exact."""
    import hashlib

    from core.digests import CHUNK_SIZE

    data = payload(7 * CHUNK_SIZE + 5, seed=42)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    backend = FilesystemBackend(tmp_path / "fs-vault")
    with open(source, "rb") as handle:
        result = backend.write(handle)
    assert result.digests.sha256 == hashlib.sha256(data).hexdigest()
    assert result.digests.sm3 == hashlib.new("sm3", data).hexdigest()
    assert (backend.root / result.key).read_bytes() == data
