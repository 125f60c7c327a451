"""A confidential record is never named in a duplicate message (issue 9, ACC-3)."""

from __future__ import annotations

import pytest

from access.confidentiality import mark_confidential
from core.testing import make_person, make_recording, make_video
from ingest.selectors import list_ingest_items
from ingest.tests.conftest import TusClient

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-3")]


def test_the_custodian_uploading_a_confidential_records_bytes_learns_nothing_of_it(
        client, unit, officer, django_capture_on_commit_callbacks):
    data = make_video(1.0, variant=7)
    record = make_recording(officer, data=data, filename="DSJ-CONF_0001.MP4")
    head = make_person("department_head", department=unit.department)
    mark_confidential(record, actor=head, category="commercial_secret", reason="含配方工艺")
    custodian = make_person("custodian", unit=unit)
    client.force_login(custodian)
    item = TusClient(client, django_capture_on_commit_callbacks).upload(data, filename="again.mp4")
    assert item.duplicate_of_id == record.pk  # linked, for the auditors
    listed = list_ingest_items(custodian).get(pk=item.pk)
    assert listed.duplicate_visible is False
    body = client.get(f"/api/v1/ingest-items/{item.pk}").json()
    assert body["duplicate_of_id"] is None and "DSJ-CONF" not in str(body)
    page = client.get("/ingest/").content.decode()
    assert "DSJ-CONF" not in page and f"/recordings/{record.pk}/" not in page
    # the department head, on the department-head path, is shown the link
    client.force_login(head)
    assert client.get(f"/api/v1/ingest-items/{item.pk}").json()["duplicate_of_id"] == record.pk
