"""Who sees which ingest items: own items; custodians and unit heads their unit's (default deny)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from core.testing import make_person, make_unit
from ingest.models import IngestItem
from ingest.selectors import get_ingest_item, list_ingest_items, list_uploads


def _item(person, name="a.mp4"):
    now = timezone.now()
    return IngestItem.objects.create(
        filename=name, size=1, created_by=person, created_at=now, updated_at=now
    )


@pytest.mark.req("ING-1")
def test_officer_sees_only_own_items(unit):
    me, colleague = make_person("officer", unit=unit), make_person("officer", unit=unit)
    mine, theirs = _item(me), _item(colleague)
    assert list(list_ingest_items(me)) == [mine]
    assert get_ingest_item(me, theirs.pk) is None


@pytest.mark.req("ING-1")
@pytest.mark.parametrize("role", ["custodian", "unit_head"])
def test_custodian_and_unit_head_see_their_units_items_only(unit, role):
    keeper = make_person(role, unit=unit)
    ours = _item(make_person("officer", unit=unit))
    _item(make_person("officer", unit=make_unit()))
    assert list(list_ingest_items(keeper)) == [ours]


def test_anonymous_sees_nothing(db, unit):
    _item(make_person("officer", unit=unit))
    assert not list_ingest_items(AnonymousUser()).exists()
    assert not list_uploads(AnonymousUser()).exists()


def test_administrator_without_unit_role_sees_nothing_of_others(unit):
    admin = make_person("system_admin", unit=unit)
    _item(make_person("officer", unit=unit))
    assert not list_ingest_items(admin).exists()
