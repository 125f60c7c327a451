"""The access register of one's own scope (ACC-2): who viewed the recordings I may see."""

import pytest
from django.urls import reverse

from access.choices import AccessAction
from access.services import register_access
from core.testing import make_department, make_person, make_recording, make_unit
from orgs.choices import Role

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-2")]


@pytest.fixture
def world():
    city = make_department("甲市市场监督管理局", level="city")
    county = make_department("甲县市场监督管理局", level="county", parent=city)
    unit = make_unit(department=county)
    other_unit = make_unit(department=county)
    officer = make_person(Role.OFFICER, unit=unit, full_name="张伟")
    colleague = make_person(Role.OFFICER, unit=other_unit, full_name="李娜")
    mine = make_recording(officer)
    theirs = make_recording(colleague)
    county_head = make_person(Role.DEPARTMENT_HEAD, department=county, full_name="马超")
    city_head = make_person(Role.DEPARTMENT_HEAD, department=city, full_name="刘洋")
    register_access(mine, actor=county_head, action=AccessAction.VIEW, purpose="日常检查")
    register_access(mine, actor=city_head, action=AccessAction.PLAY, purpose="上级督查")
    register_access(theirs, actor=county_head, action=AccessAction.VIEW)
    return locals()


def _rows(client, person, **params):
    client.force_login(person)
    response = client.get(reverse("web:my_access"), params)
    assert response.status_code == 200
    return response.context["rows"]


def test_an_officer_sees_who_viewed_their_recordings_only(client, world):
    rows = _rows(client, world["officer"])
    assert {(r.person_name, r.recording_id) for r in rows} == {
        ("马超", world["mine"].pk), ("刘洋", world["mine"].pk)}
    assert "上级督查" in client.get(reverse("web:my_access")).content.decode()


def test_a_department_head_sees_the_department_and_filters_what_the_superior_viewed(client, world):
    assert len(_rows(client, world["county_head"])) == 3
    superior = _rows(client, world["county_head"], superior="1")
    assert [(r.person_name, r.action) for r in superior] == [("刘洋", AccessAction.PLAY)]
    page = client.get(reverse("web:my_access")).content.decode()
    assert "上级部门的查阅" in page


def test_the_superior_filter_is_not_offered_at_the_top_nor_to_officers(client, world):
    client.force_login(world["city_head"])  # no department above
    assert "上级部门的查阅" not in client.get(reverse("web:my_access")).content.decode()
    assert len(_rows(client, world["officer"], superior="1")) == 2  # ignored for an officer


def test_administrators_do_not_reach_it(client, world):
    client.force_login(make_person(Role.SYSTEM_ADMIN, department=world["city"]))
    assert client.get(reverse("web:my_access")).status_code == 403


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999999999999", "201"])
def test_odd_page_numbers_never_fail(client, world, page):
    client.force_login(world["officer"])
    assert client.get(reverse("web:my_access"), {"page": page}).status_code == 200
