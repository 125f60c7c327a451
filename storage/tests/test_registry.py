"""The backend registry is real: new objects go to the configured backend, and every read of an
existing object goes to the backend its row names (issue 6), whatever is configured now."""

from __future__ import annotations

import io

import pytest

from custody.models import Event
from storage.backends import (
    BACKENDS,
    UnknownBackendError,
    get_vault,
    vault_for,
)
from storage.backends.base import Area
from storage.backends.filesystem import FilesystemBackend
from storage.choices import FixityStatus
from storage.models import StoredObject
from storage.services import register_stored_object, run_fixity_check

pytestmark = [pytest.mark.django_db, pytest.mark.req("ING-2")]


class SecondVault(FilesystemBackend):
    """Another store, with its own root: stands in for S3 with object lock."""

    name = "second"


@pytest.fixture
def second(tmp_path, monkeypatch):
    monkeypatch.setitem(BACKENDS, "second", lambda: SecondVault(tmp_path / "second-vault"))
    return get_vault("second")


@pytest.mark.filesystem_vault
def test_get_vault_default_is_the_configured_backend(settings, second):
    assert get_vault() is get_vault("filesystem")
    assert get_vault().root == settings.VAULT_DIR
    settings.VAULT_BACKEND = "second"
    assert get_vault() is second
    assert second.root != settings.VAULT_DIR


def test_unknown_backend_is_a_chinese_vault_error():
    with pytest.raises(UnknownBackendError, match="未知的存储后端“nowhere”"):
        get_vault("nowhere")


def test_new_objects_go_to_the_configured_backend_and_record_it(settings, second):
    settings.VAULT_BACKEND = "second"
    result = get_vault().write(io.BytesIO(b"lives in the second vault"))
    obj = register_stored_object(result, area=Area.ORIGINAL, actor=None)
    assert (result.backend, obj.backend, obj.write_verified) == ("second", "second", True)
    assert get_vault("filesystem").stat(obj.key) is None
    assert vault_for(obj) is second


def test_fixity_reads_the_objects_own_backend_after_the_default_changes(settings, second):
    settings.VAULT_BACKEND = "second"
    obj = register_stored_object(
        get_vault().write([b"moved default, same home"]), area=Area.ORIGINAL, actor=None
    )
    settings.VAULT_BACKEND = "filesystem"  # new objects go elsewhere from now on

    check = run_fixity_check(obj)

    assert check.status == FixityStatus.PASS, check.detail
    assert vault_for(obj) is second and get_vault() is not second


def test_fixity_of_object_in_unconfigured_backend_is_not_run():
    obj = register_stored_object(get_vault().write([b"orphaned"]), area=Area.ORIGINAL, actor=None)
    StoredObject.objects.filter(pk=obj.pk).update(backend="retired-s3")
    obj.refresh_from_db()

    check = run_fixity_check(obj, trigger="manual")

    assert check.status == FixityStatus.NOT_RUN
    assert "未知的存储后端“retired-s3”" in check.detail
    assert Event.objects.filter(action="storage.fixity_not_run", subject_id=str(obj.pk)).exists()
