"""The vault contract (promise 1, ING-2): every backend passes these tests unchanged.

Use it by subclassing in a ``test_<backend>.py`` module::

    class TestMyVault(VaultContract):
        @pytest.fixture
        def backend(self, tmp_path):
            return MyBackend(...)

        def object_identity(self, backend, key): ...        # what changes if an object is rewritten
        def tamper(self, backend, key): ...                 # change one stored byte behind the backend's back
        def fill_disk_after(self, backend, monkeypatch, n): ...  # the store refuses writes after n more bytes

The three hooks are the only backend-specific parts; the assertions are shared.
This module is not collected by itself (its name does not start with ``test_``).
"""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from core.digests import CHUNK_SIZE, Digests, StreamingDigester
from storage.backends.base import (
    Area,
    DisposalRefusedError,
    ObjectMissingError,
    RetentionError,
    Staging,
    StoredResult,
    VaultBackend,
    VaultError,
    VaultFullError,
)


def expected_digests(data: bytes) -> Digests:
    return Digests(
        sha256=hashlib.sha256(data).hexdigest(),
        sm3=hashlib.new("sm3", data).hexdigest(),
        size=len(data),
    )


def read_all(backend, key: str) -> bytes:
    with backend.open(key) as handle:
        return handle.read()


def sibling_key(key: str, sha256: str) -> str:
    """The key the same backend would give bytes with ``sha256`` (keys end with the digest)."""
    assert key.endswith(key[-64:]) and len(sha256) == 64
    return key[:-64] + sha256


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-looking bytes (not zeros: zeros hide offset bugs)."""
    block = hashlib.sha256(f"vault-contract-{seed}".encode()).digest() * 2048  # 64 KiB
    reps = size // len(block) + 1
    data = bytearray(block * reps)[:size]
    for i in range(0, size, 4096):  # make every 4 KiB page different
        data[i : i + 4] = i.to_bytes(4, "big")
    return bytes(data)


@pytest.mark.req("ING-2")
class VaultContract:
    """Subclass and provide the ``backend`` fixture and the three hooks."""

    # ---- what a backend's test module must provide ------------------------------------------

    @pytest.fixture
    def backend(self) -> VaultBackend:  # pragma: no cover - overridden
        raise NotImplementedError("a backend test must override the `backend` fixture")

    def object_identity(self, backend, key: str):  # pragma: no cover - overridden
        """A value that changes if the stored object is rewritten or replaced."""
        raise NotImplementedError

    def tamper(self, backend, key: str) -> None:  # pragma: no cover - overridden
        """Change one byte of a stored object outside the backend (simulates decay or an attack)."""
        raise NotImplementedError

    def fill_disk_after(self, backend, monkeypatch, budget: int) -> None:  # pragma: no cover
        """From now on the store accepts ``budget`` more bytes, then fails with 'no space'."""
        raise NotImplementedError

    # ---- protocol ------------------------------------------------------------------------------

    def test_backend_implements_protocol(self, backend):
        assert isinstance(backend, VaultBackend)
        assert isinstance(backend.name, str) and backend.name
        assert isinstance(backend.staging("contract-probe"), Staging)

    def test_no_delete_or_overwrite_method_exists(self, backend):
        for name in (
            "delete",
            "remove",
            "unlink",
            "overwrite",
            "replace",
            "rename",
            "move",
            "purge",
            "update",
        ):
            assert not hasattr(VaultBackend, name), name
            assert not hasattr(backend, name), name

    def test_ping_is_quiet_while_the_store_answers(self, backend):
        assert backend.ping() is None

    def test_free_bytes_is_a_count_or_unknown(self, backend):
        free = backend.free_bytes()
        assert free is None or (isinstance(free, int) and free >= 0)

    # ---- write ---------------------------------------------------------------------------------

    def test_write_returns_digests_equal_to_hashlib(self, backend):
        data = payload(CHUNK_SIZE + 12_345)
        chunks = [data[:1000], data[1000:CHUNK_SIZE], data[CHUNK_SIZE:]]
        result = backend.write(chunks)
        assert isinstance(result, StoredResult)
        assert result.digests == expected_digests(data)
        assert result.created is True
        assert read_all(backend, result.key) == data

    def test_stored_result_names_the_backend_that_holds_it(self, backend):
        # the catalogue records this name, and every later read is sent by it (vault_for)
        result = backend.write([b"where do I live"])
        assert result.backend == backend.name and backend.name

    def test_write_from_file_object(self, backend):
        data = payload(300_000, seed=1)
        result = backend.write(io.BytesIO(data))
        assert result.digests == expected_digests(data)
        assert read_all(backend, result.key) == data

    def test_write_empty_object(self, backend):
        result = backend.write([])
        assert result.digests == expected_digests(b"")
        assert read_all(backend, result.key) == b""

    def test_key_is_content_addressed_and_areas_apart(self, backend):
        data = b"same bytes, two areas"
        sha = hashlib.sha256(data).hexdigest()
        original = backend.write([data])
        derivative = backend.write([data], area=Area.DERIVATIVE)
        assert original.key.startswith(Area.ORIGINAL.value + "/") and original.key.endswith(sha)
        assert derivative.key.startswith(Area.DERIVATIVE.value + "/") and derivative.key.endswith(
            sha
        )
        assert original.key != derivative.key
        assert derivative.created is True

    def test_same_bytes_twice_is_not_rewritten(self, backend):
        data = payload(50_000, seed=2)
        first = backend.write([data])
        before = self.object_identity(backend, first.key)
        second = backend.write([data[:10], data[10:]])
        assert second.key == first.key
        assert second.created is False
        assert second.digests == first.digests
        assert self.object_identity(backend, first.key) == before
        assert read_all(backend, first.key) == data

    def test_stored_object_is_read_only(self, backend):
        result = backend.write([b"write once"])
        stat = backend.stat(result.key)
        assert stat is not None
        assert stat.read_only is True
        assert stat.size == len(b"write once")
        assert stat.key == result.key

    # ---- read ----------------------------------------------------------------------------------

    def test_read_range_exact_bytes_at_edges(self, backend):
        data = payload(CHUNK_SIZE + 1000, seed=3)
        key = backend.write([data]).key
        last = len(data) - 1
        for start, end in [
            (0, 0),
            (0, 9),
            (last, last),
            (last - 9, last),
            (0, last),
            (CHUNK_SIZE - 1, CHUNK_SIZE),
            (CHUNK_SIZE - 5, CHUNK_SIZE + 5),
            (12_345, 12_345),
        ]:
            got = b"".join(backend.open_range(key, start, end - start + 1))
            assert got == data[start : end + 1], (start, end)

    def test_open_range_streams_to_the_end_and_from_the_start(self, backend):
        data = payload(CHUNK_SIZE * 2 + 77, seed=13)
        key = backend.write([data]).key
        assert b"".join(backend.open_range(key)) == data
        assert b"".join(backend.open_range(key, 1000)) == data[1000:]
        assert b"".join(backend.open_range(key, len(data) - 3, None)) == data[-3:]
        assert b"".join(backend.open_range(key, 5, 0)) == b""
        chunks = list(backend.open_range(key))
        assert len(chunks) > 1  # streamed in pieces, never the whole object at once

    def test_open_range_of_missing_object_raises_at_once(self, backend):
        key = backend.write([b"exists"]).key
        with pytest.raises(ObjectMissingError):
            backend.open_range(sibling_key(key, "1" * 64), 0, 10)

    def test_open_is_a_seekable_reader(self, backend):
        data = payload(300_000, seed=14)
        key = backend.write([data]).key
        with backend.open(key) as handle:
            assert handle.seekable()
            handle.seek(250_000)
            assert handle.read(10) == data[250_000:250_010]
            handle.seek(-5, os.SEEK_END)
            assert handle.read() == data[-5:]
            handle.seek(0)
            assert handle.read(3) == data[:3]
            assert handle.tell() == 3

    def test_missing_object_stat_none_open_raises(self, backend):
        key = backend.write([b"exists"]).key
        missing = sibling_key(key, "0" * 64)
        assert backend.stat(missing) is None
        with pytest.raises(ObjectMissingError):
            backend.open(missing)

    def test_malformed_key_is_refused(self, backend):
        for bad in ("../../etc/passwd", "originals/../../x", "staging/x", ""):
            with pytest.raises(ObjectMissingError):
                backend.open(bad)

    # ---- verify --------------------------------------------------------------------------------

    def test_verify_passes_for_intact_object(self, backend):
        data = payload(70_000, seed=4)
        result = backend.write([data])
        outcome = backend.verify(result.key, result.digests)
        assert outcome.status == "pass"
        assert outcome.actual == expected_digests(data)
        assert outcome.detail

    def test_verify_fails_against_other_digests(self, backend):
        result = backend.write([b"registered bytes"])
        wrong = Digests(
            sha256=hashlib.sha256(b"x").hexdigest(),
            sm3=result.digests.sm3,
            size=result.digests.size + 1,
        )
        outcome = backend.verify(result.key, wrong)
        assert outcome.status == "fail"
        assert outcome.actual == result.digests

    def test_verify_fails_after_tampering(self, backend):
        data = payload(20_000, seed=5)
        result = backend.write([data])
        self.tamper(backend, result.key)
        outcome = backend.verify(result.key, result.digests)
        assert outcome.status == "fail"
        assert outcome.actual is not None and outcome.actual.sha256 != result.digests.sha256

    def test_read_back_checks_sha256_and_size_only_and_still_catches_tampering(self, backend):
        data = payload(70_000, seed=16)
        result = backend.write([data])
        outcome = backend.verify(result.key, result.digests, read_back=True)
        assert outcome.status == "pass" and "SM3" not in outcome.detail
        assert outcome.actual.sha256 == result.digests.sha256 and outcome.actual.sm3 == ""
        self.tamper(backend, result.key)
        assert backend.verify(result.key, result.digests, read_back=True).status == "fail"

    def test_verify_fails_for_missing_object(self, backend):
        result = backend.write([b"here"])
        missing = sibling_key(result.key, "f" * 64)
        outcome = backend.verify(missing, result.digests)
        assert outcome.status == "fail"
        assert "缺失" in outcome.detail

    # ---- staging: resumable uploads ------------------------------------------------------------

    def test_staging_append_truncate_resume_commit(self, backend):
        data = payload(200_000, seed=6)
        staging = backend.staging("contract-resume")
        assert staging.size() == 0
        assert staging.append([data[:50_000], data[50_000:80_000]], offset=0) == 80_000
        assert staging.size() == 80_000
        staging.truncate(60_000)  # e.g. a rejected tus chunk
        assert staging.size() == 60_000
        assert b"".join(staging.read_prefix(60_000)) == data[:60_000]

        resumed = backend.staging("contract-resume")  # a later request, after a restart
        assert resumed.size() == 60_000
        digester = StreamingDigester()
        for chunk in resumed.read_prefix(60_000):
            digester.update(chunk)
        resumed.append([data[60_000:]], offset=60_000, on_written=digester.update)
        digests = digester.finish()
        result = backend.commit(resumed, digests)

        assert digests == expected_digests(data)
        assert result.digests == digests and result.created is True
        assert read_all(backend, result.key) == data
        assert backend.staging("contract-resume").size() == 0  # staging is gone once committed

    def test_append_at_wrong_offset_is_refused(self, backend):
        staging = backend.staging("contract-offset")
        staging.append([b"0123456789"], offset=0)
        with pytest.raises(VaultError):
            staging.append([b"abc"], offset=5)
        with pytest.raises(VaultError):
            staging.append([b"abc"], offset=11)
        assert staging.size() == 10
        assert b"".join(staging.read_prefix(10)) == b"0123456789"

    def test_commit_with_wrong_size_is_refused(self, backend):
        staging = backend.staging("contract-size")
        staging.append([b"twelve bytes"], offset=0)
        claimed = expected_digests(b"twelve bytes!")
        with pytest.raises(VaultError):
            backend.commit(staging, claimed)
        assert backend.stat(sibling_key(backend.write([b"probe"]).key, claimed.sha256)) is None
        assert staging.size() == 12

    def test_commit_of_existing_content_keeps_the_first(self, backend):
        data = b"already in the vault"
        first = backend.write([data])
        before = self.object_identity(backend, first.key)
        staging = backend.staging("contract-dupe")
        staging.append([data], offset=0)
        result = backend.commit(staging, expected_digests(data))
        assert result.key == first.key and result.created is False
        assert self.object_identity(backend, first.key) == before

    def test_discard_removes_staging(self, backend):
        staging = backend.staging("contract-discard")
        staging.append([b"abandoned"], offset=0)
        staging.discard()
        assert backend.staging("contract-discard").size() == 0
        staging.discard()  # idempotent

    def test_staged_bytes_that_changed_since_hashing_never_pass(self, backend):
        # the digests were computed as the upload arrived; a staged byte that changes before the
        # commit (decay, a bug, an intruder) is refused by the commit (S3 re-hashes as it streams)
        # or caught by the read-back that follows every commit (storage.services), never passed
        data = payload(30_000, seed=15)
        assert data[-1:] != b"\x00"
        staging = backend.staging("contract-drift")
        staging.append([data], offset=0)
        staging.truncate(29_999)
        staging.append([b"\x00"], offset=29_999)
        claimed = expected_digests(data)
        try:
            result = backend.commit(staging, claimed)
        except VaultError:
            assert backend.stat(backend.key_for(claimed.sha256, Area.ORIGINAL)) is None
        else:
            assert backend.verify(result.key, claimed).status == "fail"

    # ---- retention, holds, disposal (RET-1, RET-4, RET-6) -------------------------------------

    def test_original_is_retained_at_least_the_floor(self, backend, settings):
        before = timezone.now()
        key = backend.write([b"keep me two years"]).key
        retention = backend.retention(key)
        floor = before + timedelta(days=settings.RETENTION_FLOOR_DAYS)
        assert retention.until is not None and retention.until >= floor - timedelta(seconds=1)
        assert retention.legal_hold is False

    def test_commit_takes_the_given_retain_until(self, backend):
        until = (timezone.now() + timedelta(days=3000)).replace(microsecond=0)
        staging = backend.staging("contract-retain")
        staging.append([b"long-term"], offset=0)
        key = backend.commit(staging, expected_digests(b"long-term"), retain_until=until).key
        assert backend.retention(key).until == until

    def test_retention_extends_but_never_shortens(self, backend):
        key = backend.write([b"extend me"]).key
        current = backend.retention(key).until
        later = (current + timedelta(days=365)).replace(microsecond=0)
        assert backend.extend_retention(key, later).until == later
        assert backend.retention(key).until == later
        with pytest.raises(RetentionError):
            backend.extend_retention(key, later - timedelta(days=1))
        assert backend.retention(key).until == later

    def test_legal_hold_on_and_off(self, backend):
        key = backend.write([b"hold me"]).key
        assert backend.set_legal_hold(key, True).legal_hold is True
        assert backend.retention(key).legal_hold is True
        assert backend.set_legal_hold(key, False).legal_hold is False

    def test_retention_of_missing_object_raises(self, backend):
        key = backend.write([b"exists"]).key
        with pytest.raises(ObjectMissingError):
            backend.retention(sibling_key(key, "2" * 64))

    def test_disposal_is_refused_without_a_valid_authorization(self, backend):
        data = b"an original nobody may destroy"
        key = backend.write([data]).key
        for authorization in (None, "approved", object(), {"approved": True}):
            with pytest.raises(DisposalRefusedError) as caught:
                backend.dispose(key, authorization=authorization)
            assert caught.value.message
        assert read_all(backend, key) == data
        assert backend.verify(key, expected_digests(data)).status == "pass"

    def test_disposal_of_held_object_names_the_hold(self, backend):
        key = backend.write([b"held"]).key
        backend.set_legal_hold(key, True)
        with pytest.raises(DisposalRefusedError) as caught:
            backend.dispose(key, authorization=object())
        assert "保全" in caught.value.message or "冻结" in caught.value.message

    # ---- a full disk ---------------------------------------------------------------------------

    def test_disk_full_keeps_exactly_what_the_digests_saw(self, backend, monkeypatch):
        chunks = [payload(40_000, seed=7), payload(40_000, seed=8), payload(40_000, seed=9)]
        staging = backend.staging("contract-full")
        staging.append(chunks[:1], offset=0)  # an earlier request
        seen: list[bytes] = []
        self.fill_disk_after(backend, monkeypatch, budget=20_000)  # dies half-way through chunk 2
        with pytest.raises(VaultFullError) as caught:
            staging.append(chunks[1:], offset=40_000, on_written=seen.append)
        assert caught.value.message  # Chinese, for the uploader
        kept = staging.size()
        # what is staged is the earlier bytes plus whole chunks the digester was given, no more
        assert kept == 40_000 + sum(len(c) for c in seen)
        assert seen == chunks[1 : 1 + len(seen)]
        assert b"".join(staging.read_prefix(kept)) == b"".join(chunks)[:kept]

        monkeypatch.undo()  # space freed: the upload resumes where it stopped
        rest = b"".join(chunks)[kept:]
        staging.append([rest], offset=kept)
        data = b"".join(chunks)
        assert read_all(backend, backend.commit(staging, expected_digests(data)).key) == data

    def test_disk_full_during_write_stores_nothing(self, backend, monkeypatch):
        data = payload(100_000, seed=10)
        self.fill_disk_after(backend, monkeypatch, budget=30_000)
        with pytest.raises(VaultFullError):
            backend.write([data[:50_000], data[50_000:]])
        monkeypatch.undo()
        key = sibling_key(backend.write([b"probe"]).key, hashlib.sha256(data).hexdigest())
        assert backend.stat(key) is None


def filesystem_identity(path: str):
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size
