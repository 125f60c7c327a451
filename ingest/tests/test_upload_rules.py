"""Who may file a recording into which unit, and whom they may name on it (access.rules, ACC-1).

Findings of issue 9, each refused the same way on the upload page, the tus API and local ingest:
an uploader naming anyone as an officer (and thereby giving them the record), administrators
and the legal office uploading through the API, an officer filing into another unit.
"""

import pytest

from access.rules import decide_officers, decide_upload, nameable_officers, upload_units
from core.testing import make_person, make_unit
from ingest.models import Upload
from ingest.tests.conftest import TusClient
from orgs.choices import Role

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]


@pytest.fixture
def org(unit):
    other_unit = make_unit(department=unit.department)
    elsewhere = make_unit()
    return {
        "unit": unit,
        "sibling": other_unit,
        "elsewhere": elsewhere,
        "colleague": make_person(Role.OFFICER, unit=unit),
        "sibling_officer": make_person(Role.OFFICER, unit=other_unit),
        "stranger": make_person(Role.OFFICER, unit=elsewhere),
        "admin": make_person(Role.SYSTEM_ADMIN),
        "head": make_person(Role.DEPARTMENT_HEAD, department=unit.department),
    }


def _create(tus, **metadata):
    return tus.create(10, {"filename": "DSJ-0001.MP4", **metadata})


@pytest.mark.parametrize("who", ["sibling_officer", "stranger", "admin"])
def test_only_officers_of_the_recordings_unit_can_be_named(tus, org, who):
    response = _create(tus, officer_ids=str(org[who].pk))
    assert response.status_code == 400
    assert response.json()["message"] == "只能关联本采集机构的执法人员。"
    assert not Upload.objects.exists()


def test_an_officer_of_the_unit_can_be_named(tus, org):
    response = _create(tus, officer_ids=f"{org['colleague'].pk}")
    assert response.status_code == 201
    assert Upload.objects.get().metadata["officer_ids"] == [org["colleague"].pk]


def test_an_officer_cannot_file_into_another_unit_of_the_department(tus, org):
    response = _create(tus, unit_id=str(org["sibling"].pk))
    assert response.status_code == 403
    assert response.json()["message"] == "无权为该采集机构上传记录。"
    assert not Upload.objects.exists()


@pytest.mark.parametrize("roles", [(Role.SYSTEM_ADMIN,), (Role.SECURITY_ADMIN,), (Role.AUDIT_ADMIN,),
                                   (Role.LEGAL_OFFICE,), (Role.LEGAL_OFFICE, Role.OFFICER)])
def test_administrators_and_the_legal_office_do_not_upload(client, unit, roles, django_capture_on_commit_callbacks):
    client.force_login(make_person(*roles, unit=unit))
    response = _create(TusClient(client, django_capture_on_commit_callbacks))
    assert response.status_code == 403
    assert response.json()["message"] == "您的角色不能上传执法音像记录。"
    assert not Upload.objects.exists()


def test_a_department_head_files_into_any_unit_of_the_department_only(org):
    head = org["head"]
    assert set(upload_units(head)) == {org["unit"], org["sibling"]}
    assert decide_upload(head, org["sibling"]).allowed
    assert not decide_upload(head, org["elsewhere"]).allowed
    # and names the officers of the unit chosen, not those of its other units
    assert decide_officers(org["sibling"], [org["sibling_officer"].pk]).allowed
    assert not decide_officers(org["sibling"], [org["colleague"].pk]).allowed


def test_the_upload_page_offers_what_the_api_accepts(client, org):
    client.force_login(org["colleague"])
    page = client.get("/upload/").content.decode()
    assert org["unit"].name in page and org["sibling"].name not in page
    assert set(nameable_officers([org["unit"]])) >= {org["colleague"]}
    assert org["sibling_officer"] not in set(nameable_officers([org["unit"]]))


@pytest.mark.req("ACC-1", "ING-6")
def test_a_duplicate_of_a_record_outside_ones_scope_reveals_nothing_of_it(client, org, django_capture_on_commit_callbacks):
    data = b"the same bytes, recorded once " * 1000
    client.force_login(org["stranger"])  # another department's officer stored them first
    first = TusClient(client, django_capture_on_commit_callbacks).upload(data, "DSJ-SECRET-0001.MP4")
    first.refresh_from_db()
    assert first.recording_id

    officer = make_person(Role.OFFICER, unit=org["unit"])
    client.force_login(officer)
    second = TusClient(client, django_capture_on_commit_callbacks).upload(data, "DSJ-MINE-0002.MP4")
    second.refresh_from_db()
    assert second.duplicate_of_id == first.recording_id  # linked, for the auditors
    for shown in (second.status_message,
                  client.get("/ingest/").content.decode(),
                  client.get(f"/api/v1/ingest-items/{second.pk}").content.decode()):
        assert "DSJ-SECRET" not in shown
        assert f"/recordings/{first.recording_id}" not in shown
    assert client.get(f"/api/v1/ingest-items/{second.pk}").json()["duplicate_of_id"] is None
    assert "重复文件" in second.status_message

    client.force_login(org["stranger"])  # who may see the record gets its id and link
    again = TusClient(client, django_capture_on_commit_callbacks).upload(data, "DSJ-SECRET-0003.MP4")
    assert client.get(f"/api/v1/ingest-items/{again.pk}").json()["duplicate_of_id"] == first.recording_id
    assert f"/recordings/{first.recording_id}" in client.get("/ingest/").content.decode()
