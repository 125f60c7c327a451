"""The read-back right after a vault write is a check like any other (ING-2, promises 1 and 4):
bytes read back that differ from what was written are a ``fail`` with its fixity row and a
``storage.fixity_failed`` event, never "not run"; a read-back that could not run is ``not_run``."""

from __future__ import annotations

import os

import pytest

from core.testing import refuse_vault_reads
from custody.checks import check_custody_chain
from custody.models import Event
from storage.backends import BACKENDS, get_vault
from storage.backends.base import Area
from storage.backends.filesystem import FilesystemBackend
from storage.choices import FixityStatus
from storage.models import FixityCheck, StoredObject
from storage.services import READ_BACK_TRIGGER, register_stored_object, run_fixity_check

pytestmark = [pytest.mark.django_db, pytest.mark.req("ING-2")]


class BadDiskVault(FilesystemBackend):
    """A store that acknowledges a write but keeps other bytes: one bit flipped on its way to disk."""

    name = "bad-disk"

    def write(self, chunks, *, area=Area.ORIGINAL, retain_until=None):
        result = super().write(chunks, area=area, retain_until=retain_until)
        path = self.local_path(result.key)
        mode = os.stat(path).st_mode
        os.chmod(path, 0o644)
        try:
            with open(path, "r+b") as handle:
                first = handle.read(1)
                handle.seek(0)
                handle.write(bytes([first[0] ^ 0x01]))
        finally:
            os.chmod(path, mode & 0o7777)
        return result


@pytest.fixture
def bad_disk(tmp_path, monkeypatch, settings):
    monkeypatch.setitem(BACKENDS, "bad-disk", lambda: BadDiskVault(tmp_path / "bad-disk"))
    settings.VAULT_BACKEND = "bad-disk"
    return get_vault()


def _events(obj: StoredObject, action: str):
    return Event.objects.filter(subject_type="storedobject", subject_id=str(obj.pk), action=action)


def test_read_back_with_different_bytes_is_a_fail_with_row_and_event(bad_disk):
    data = b"what the officer's camera recorded " * 100
    result = bad_disk.write([data])

    obj = register_stored_object(result, area=Area.ORIGINAL, actor=None)

    assert obj.write_verified is False
    assert obj.last_fixity_status == FixityStatus.FAIL and obj.last_fixity_at is not None
    check = FixityCheck.objects.get(stored_object=obj)
    assert check.status == FixityStatus.FAIL
    assert check.trigger == READ_BACK_TRIGGER
    assert "写入后复核未通过" in check.detail and "SHA-256 不符" in check.detail
    assert check.actual_size == len(data) and check.actual_sha256 not in ("", obj.sha256)
    event = _events(obj, "storage.fixity_failed").get()
    assert event.details["status"] == "fail"
    assert event.details["expected"]["sha256"] == obj.sha256 == result.digests.sha256
    assert event.details["actual"]["sha256"] == check.actual_sha256
    assert _events(obj, "storage.stored").get().details["write_verified"] is False
    assert not _events(obj, "storage.fixity_not_run").exists()
    assert check_custody_chain() == []


def test_derivative_read_back_mismatch_is_a_fail_too(bad_disk):
    result = bad_disk.write([b"poster bytes" * 50], area=Area.DERIVATIVE)
    obj = register_stored_object(result, area=Area.DERIVATIVE, actor=None)
    assert FixityCheck.objects.get(stored_object=obj).status == FixityStatus.FAIL
    assert _events(obj, "storage.fixity_failed").count() == 1


def test_later_fixity_check_agrees_with_the_read_back(bad_disk):
    obj = register_stored_object(bad_disk.write([b"x" * 1000]), area=Area.ORIGINAL, actor=None)
    assert run_fixity_check(obj).status == FixityStatus.FAIL


def test_read_back_that_cannot_read_is_not_run(monkeypatch):
    result = get_vault().write([b"written, but cannot be read back now"])
    refuse_vault_reads(monkeypatch)

    obj = register_stored_object(result, area=Area.ORIGINAL, actor=None)

    assert obj.write_verified is False
    assert obj.last_fixity_status == FixityStatus.NOT_RUN and obj.last_fixity_at is None
    check = FixityCheck.objects.get(stored_object=obj)
    assert check.status == FixityStatus.NOT_RUN and "写入后复核未能执行" in check.detail
    assert _events(obj, "storage.fixity_not_run").count() == 1
    assert not _events(obj, "storage.fixity_failed").exists()


def test_read_back_backend_crash_is_not_run_and_the_object_is_still_catalogued(monkeypatch):
    result = get_vault().write([b"backend trouble during read-back"])

    def crash(self, key, expected, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(get_vault()), "verify", crash)
    obj = register_stored_object(result, area=Area.ORIGINAL, actor=None)

    assert obj.pk and obj.last_fixity_status == FixityStatus.NOT_RUN
    check = FixityCheck.objects.get(stored_object=obj)
    assert check.status == FixityStatus.NOT_RUN and "读取文件库时出错" in check.detail
    assert "boom" not in check.detail


def test_good_write_passes_without_an_extra_row():
    obj = register_stored_object(get_vault().write([b"all good"]), area=Area.ORIGINAL, actor=None)
    assert obj.write_verified is True and obj.last_fixity_status == FixityStatus.PASS
    assert not FixityCheck.objects.exists()
    assert not Event.objects.filter(action__startswith="storage.fixity").exists()
