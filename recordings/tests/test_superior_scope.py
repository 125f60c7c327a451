"""A superior department views its subordinates' records (SAMR art. 17, ACC-1; issue 9).

A department head sees the recordings of their department and of every department below it,
never those of a parent or a sibling; each view is registered like any other; heads edit none.
"""

import pytest
from django.urls import reverse

from access.models import AccessEntry
from core.testing import make_department, make_person, make_recording, make_unit
from orgs.choices import Role
from recordings.models import Recording

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]


@pytest.fixture
def tree():
    province = make_department("某省市场监督管理局", level="province")
    city = make_department("甲市市场监督管理局", level="city", parent=province)
    county = make_department("甲县市场监督管理局", level="county", parent=city)
    other_city = make_department("乙市市场监督管理局", level="city", parent=province)
    units = {name: make_unit(department=d) for name, d in
             (("province", province), ("city", city), ("county", county), ("other_city", other_city))}
    recordings = {name: make_recording(make_person(Role.OFFICER, unit=u)) for name, u in units.items()}
    heads = {name: make_person(Role.DEPARTMENT_HEAD, department=d) for name, d in
             (("province", province), ("city", city), ("county", county), ("other_city", other_city))}
    return {"units": units, "recordings": recordings, "heads": heads}


@pytest.mark.parametrize("head, sees", [
    ("province", {"province", "city", "county", "other_city"}),
    ("city", {"city", "county"}),
    ("county", {"county"}),
    ("other_city", {"other_city"}),
])
def test_a_head_sees_their_department_and_everything_below(tree, head, sees):
    visible = set(Recording.objects.restrict(tree["heads"][head], "view").values_list("pk", flat=True))
    assert visible == {tree["recordings"][name].pk for name in sees}
    for action in ("play", "download"):
        assert set(Recording.objects.restrict(tree["heads"][head], action).values_list("pk", flat=True)) == visible
    assert not Recording.objects.restrict(tree["heads"][head], "edit").exists()


def test_the_superiors_view_is_registered_and_the_page_offers_the_subordinate_units(client, tree):
    client.force_login(tree["heads"]["city"])
    county_record = tree["recordings"]["county"]
    url = reverse("web:recording_detail", args=[county_record.pk])
    # a superior's view needs no approval but says why first (the register keeps 事由)
    first = client.get(url)
    assert first.status_code == 200 and "填写查阅事由" in first.content.decode()
    assert county_record.original_filename not in first.content.decode()
    assert not AccessEntry.objects.filter(person=tree["heads"]["city"], recording=county_record).exists()
    content = reverse("web:recording_content", args=[county_record.pk])
    assert client.get(content, HTTP_RANGE="bytes=0-9").status_code == 403  # not before the purpose
    refused = client.post(reverse("web:recording_purpose", args=[county_record.pk]),
                          {"purpose_code": "supervision", "purpose_text": ""})
    assert refused.status_code == 400 and "具体事由" in refused.content.decode()
    client.post(reverse("web:recording_purpose", args=[county_record.pk]),
                {"purpose_code": "supervision", "purpose_text": "年度执法监督抽查"})
    assert client.get(url).status_code == 200
    entry = AccessEntry.objects.get(person=tree["heads"]["city"], recording=county_record)
    assert (entry.basis, entry.purpose) == ("superior", "执法监督检查：年度执法监督抽查")
    assert client.get(content, HTTP_RANGE="bytes=0-9").status_code == 206
    assert client.get(reverse("web:recording_detail", args=[tree["recordings"]["province"].pk])).status_code == 404
    page = client.get(reverse("web:recording_list")).content.decode()
    assert "甲县市场监督管理局" in page and tree["units"]["county"].name in page
    assert "乙市市场监督管理局" not in page
    listed = client.get(reverse("web:recording_list"), {"unit": tree["units"]["county"].pk})
    assert listed.status_code == 200 and county_record.original_filename in listed.content.decode()


def test_the_api_lists_the_same(client, tree):
    from api.tests.base import bearer

    body = client.get("/api/v1/recordings", **bearer(tree["heads"]["city"])).json()
    assert {item["id"] for item in body["items"]} == {
        tree["recordings"]["city"].pk, tree["recordings"]["county"].pk}
