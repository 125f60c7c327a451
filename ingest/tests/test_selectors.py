"""Who sees which ingest items (default deny): own items; officers also those of recordings they
appear on; custodians and unit heads their unit's; department heads their department's; the
legal office what the catalogue lets it see; administrators nothing of others."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from core.testing import make_department, make_person, make_recording, make_unit
from ingest.models import IngestItem, Upload
from ingest.selectors import (
    get_ingest_item,
    list_batch_items,
    list_ingest_items,
    list_uploads,
)
from recordings.models import Recording


def _item(person, name="a.mp4", recording=None, **fields):
    now = timezone.now()
    return IngestItem.objects.create(
        filename=name,
        size=1,
        created_by=person,
        created_at=now,
        updated_at=now,
        recording=recording,
        **fields,
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
    officer = make_person("officer", unit=unit)
    item = _item(officer)
    now = timezone.now()
    upload = Upload.objects.create(
        created_by=officer, created_at=now, updated_at=now, expires_at=now, length=10
    )
    # the rows exist and their owner sees them; an anonymous visitor does not
    assert list(list_ingest_items(officer)) == [item] and list(list_uploads(officer)) == [upload]
    assert not list_ingest_items(AnonymousUser()).exists()
    assert not list_uploads(AnonymousUser()).exists()


def test_administrator_without_unit_role_sees_nothing_of_others(unit):
    admin = make_person("system_admin", unit=unit)
    custodian = make_person("custodian", unit=unit)
    officer = make_person("officer", unit=unit)
    item = _item(officer, recording=make_recording(officer))
    assert list(list_ingest_items(custodian)) == [item]  # visible to the unit, not to the admin
    assert not list_ingest_items(admin).exists()


@pytest.mark.req("ING-1")
def test_officer_also_sees_items_of_recordings_they_appear_on(unit):
    me, colleague = make_person("officer", unit=unit), make_person("officer", unit=unit)
    with_me = make_recording(colleague, officer_ids=[me.pk])
    mine_as_primary = make_recording(me, actor=colleague)
    without_me = make_recording(colleague)
    appears = _item(colleague, "with-me.mp4", recording=with_me)
    primary = _item(colleague, "primary.mp4", recording=mine_as_primary)
    _item(colleague, "without-me.mp4", recording=without_me)
    _item(colleague, "no-recording.mp4")
    assert set(list_ingest_items(me)) == {appears, primary}


@pytest.mark.req("ING-1")
def test_department_head_sees_the_departments_items_and_no_others(db):
    department = make_department()
    unit_a, unit_b = make_unit(department), make_unit(department)
    elsewhere = make_unit()
    head = make_person("department_head", department=department)
    sent_in_a = _item(make_person("officer", unit=unit_a), "a.mp4")
    sent_in_b = _item(make_person("officer", unit=unit_b), "b.mp4")
    # sent by someone outside, but catalogued into the department
    outsider = make_person("officer", unit=elsewhere)
    into_department = make_recording(outsider, unit=unit_a)
    arrived = _item(outsider, "into.mp4", recording=into_department)
    _item(outsider, "outside.mp4", recording=make_recording(outsider))
    assert set(list_ingest_items(head)) == {sent_in_a, sent_in_b, arrived}


@pytest.mark.req("ING-1")
def test_department_head_sees_what_the_home_page_counts(unit):
    """The home page counts the department's recordings: their items are on 入库情况 too."""
    head = make_person("department_head", department=unit.department)
    officer = make_person("officer", unit=unit)
    recordings = [make_recording(officer) for _ in range(3)]
    for recording in recordings:
        _item(officer, recording=recording)
    visible = Recording.objects.restrict(head, "view")
    assert visible.count() == 3
    assert {i.recording_id for i in list_ingest_items(head)} == set(visible.values_list("pk", flat=True))


@pytest.mark.req("ING-1")
def test_legal_office_sees_the_items_of_exactly_the_recordings_it_may_view(unit):
    legal = make_person("legal_office", department=unit.department)
    officer = make_person("officer", unit=unit)
    for _ in range(2):
        _item(officer, recording=make_recording(officer))
    own = _item(legal, "legal.mp4")
    viewable = set(Recording.objects.restrict(legal, "view").values_list("pk", flat=True))
    expected = {own} | {i for i in IngestItem.objects.all() if i.recording_id in viewable}
    assert set(list_ingest_items(legal)) == expected


@pytest.mark.req("ING-1")
def test_batch_items_are_the_users_own_items_of_that_batch_only(unit):
    me, custodian = make_person("officer", unit=unit), make_person("custodian", unit=unit)
    this_batch = _item(me, "now.mp4", metadata={"batch": "b1"})
    _item(me, "before.mp4", metadata={"batch": "b0"})
    _item(me, "api.mp4")
    assert list(list_batch_items(me, "b1")) == [this_batch]
    assert not list_batch_items(me, "").exists()
    assert not list_batch_items(custodian, "b1").exists()  # their unit's, but not sent by them
