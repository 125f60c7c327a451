"""Two ingests of the same bytes at once end with one stored object (ING-6)."""

from __future__ import annotations

import io

import pytest

from storage.backends import get_vault
from storage.backends.base import Area
from storage.models import StoredObject
from storage.services import register_stored_object


@pytest.mark.django_db
@pytest.mark.req("ING-6")
def test_concurrent_registration_of_same_bytes_returns_the_one_object(monkeypatch):
    vault = get_vault()
    result = vault.write(io.BytesIO(b"same bytes from two docks" * 1000))
    real_verify = type(vault).verify
    competitor = {}

    def verify_while_another_ingest_registers(self, key, expected, **kwargs):
        # the other ingest wins the race between our existence check and our insert
        if "started" not in competitor:
            competitor["started"] = True
            competitor["obj"] = register_stored_object(result, area=Area.ORIGINAL, actor=None)
        return real_verify(self, key, expected, **kwargs)

    monkeypatch.setattr(type(vault), "verify", verify_while_another_ingest_registers)
    obj = register_stored_object(result, area=Area.ORIGINAL, actor=None)

    assert obj.pk == competitor["obj"].pk
    assert StoredObject.objects.filter(sha256=result.digests.sha256).count() == 1
