"""Pages a role cannot use are neither linked nor reachable for it (ACC-6, default deny)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import make_person, make_unit

pytestmark = pytest.mark.django_db

MEDIA_PAGES = ("web:upload", "web:upload_items", "web:ingest_list", "web:recording_list")


@pytest.mark.req("ACC-6")
@pytest.mark.parametrize("role", ["system_admin", "security_admin", "audit_admin"])
def test_administrators_neither_see_nor_reach_record_pages(client, role):
    admin = make_person(role, department=make_unit().department)
    client.force_login(admin)
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    links = {item["name"] for item in home.context["nav_items"]}
    audit_pages = {"audit_events", "audit_checkpoints", "audit_verifications", "audit_access",
                   "access_request_list"}  # the audit administrator reads every request too
    # every administrator reads which approval rule each department follows (ACC-1)
    assert links == ({"home", "access_profiles"} | audit_pages if role == "audit_admin"
                     else {"home", "access_profiles"})
    for name in MEDIA_PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert "管理员账号不能上传、查看或检索执法音像记录" in response.content.decode()


@pytest.mark.req("ACC-6")
@pytest.mark.parametrize("role", ["officer", "custodian", "unit_head"])
def test_record_holders_see_and_reach_their_pages(client, role):
    person = make_person(role, unit=make_unit())
    client.force_login(person)
    links = {item["name"] for item in client.get(reverse("web:home")).context["nav_items"]}
    assert {"upload", "ingest_list", "recording_list"} <= links
    for name in MEDIA_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
