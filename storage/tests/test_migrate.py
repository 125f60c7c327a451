"""Objects move between backends only with a proven copy and a custody event each (INT-2)."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.testing import stored_digests, tamper_stored
from custody.models import Event
from storage.backends import BACKENDS, get_vault, vault_for
from storage.backends.base import Area
from storage.backends.filesystem import FilesystemBackend
from storage.models import StoredObject
from storage.services import MigrationRefused, migrate_stored_object, register_stored_object

pytestmark = [pytest.mark.django_db, pytest.mark.req("INT-2")]


class TargetVault(FilesystemBackend):
    name = "target"


@pytest.fixture
def target(tmp_path, monkeypatch):
    monkeypatch.setitem(BACKENDS, "target", lambda: TargetVault(tmp_path / "target-vault"))
    return get_vault("target")


def _store(data: bytes, area=Area.ORIGINAL) -> StoredObject:
    return register_stored_object(get_vault().write(io.BytesIO(data), area=area), area=area, actor=None)


def test_migrated_object_is_read_from_its_new_home_with_an_event(target):
    data = b"moving house" * 1000
    obj = _store(data)
    source_name, source_key = obj.backend, obj.key
    get_vault().set_legal_hold(obj.key, True)
    migrate_stored_object(obj, to="target")
    obj = StoredObject.objects.get(pk=obj.pk)
    assert obj.backend == "target" and vault_for(obj) is target
    assert stored_digests(obj) == obj.digests
    assert target.retention(obj.key).legal_hold is True  # the hold moved with it
    event = Event.objects.get(action="storage.migrated", subject_id=str(obj.pk))
    assert event.details["from"] == {"backend": source_name, "key": source_key}
    assert event.details["to"]["backend"] == "target" and event.details["sha256"] == obj.sha256
    assert get_vault(source_name).stat(source_key) is not None  # the source copy is not deleted


def test_a_source_that_no_longer_matches_is_not_migrated(target):
    obj = _store(b"decayed before the move" * 100)
    tamper_stored(obj, 3)
    with pytest.raises(MigrationRefused) as caught:
        migrate_stored_object(obj, to="target")
    assert "不一致" in caught.value.message
    assert StoredObject.objects.get(pk=obj.pk).backend == obj.backend
    assert not Event.objects.filter(action="storage.migrated").exists()
    assert target.stat(obj.key) is None


def test_command_migrates_every_object_once(target):
    objs = [_store(f"object {i}".encode() * 50) for i in range(3)]
    _store(b"a poster", area=Area.DERIVATIVE)
    out = StringIO()
    call_command("migrate_vault", "--to", "target", "--dry-run", stdout=out)
    assert out.getvalue().count("[将迁移]") == 4 and not Event.objects.filter(action="storage.migrated").exists()
    call_command("migrate_vault", "--to", "target", "--limit", "2", stdout=StringIO())
    assert StoredObject.objects.filter(backend="target").count() == 2
    out = StringIO()
    call_command("migrate_vault", "--to", "target", stdout=out)
    assert "成功 2，失败 0" in out.getvalue()
    assert StoredObject.objects.exclude(backend="target").count() == 0
    assert Event.objects.filter(action="storage.migrated").count() == 4
    for obj in objs:
        obj.refresh_from_db()
        assert stored_digests(obj) == obj.digests


def test_command_refuses_an_unknown_backend():
    with pytest.raises(CommandError, match="未知的存储后端"):
        call_command("migrate_vault", "--to", "nowhere", stdout=StringIO())


@pytest.mark.s3
@pytest.mark.filesystem_vault
def test_filesystem_objects_move_to_the_s3_object_lock_vault(settings):
    from storage.backends import reset_vault_cache
    from storage.tests.s3_testing import needs_s3, s3_config

    if needs_s3.args[0]:
        pytest.skip(needs_s3.kwargs["reason"])
    settings.S3_VAULT = s3_config()
    reset_vault_cache()
    obj = _store(b"from the county's disk to the province's object store" * 100)
    assert obj.backend == "filesystem"
    until = get_vault().retention(obj.key).until
    call_command("migrate_vault", "--to", "s3", stdout=StringIO())
    obj.refresh_from_db()
    assert obj.backend == "s3" and stored_digests(obj) == obj.digests
    retention = vault_for(obj).retention(obj.key)
    assert retention.enforced_by_store and retention.mode == "COMPLIANCE"
    assert abs((retention.until - until).total_seconds()) < 1  # the same lawful date, now enforced
