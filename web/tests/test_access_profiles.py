"""调阅审批规则 page (ACC-1): the security administrator sets a department's profile; record
holders, the audit and system administrators read it; bad input is a Chinese 4xx, never a 500."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from access.choices import AccessProfile
from access.models import DepartmentProfile
from access.profiles import DL_22, SAMR_17_5, SQ_EQUIP_12
from core.testing import make_department, make_person, make_unit
from custody.choices import EventCode
from custody.models import Event
from orgs.models import Department
from web.tests.english import english_words

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]

URL = "/access/profiles/"


@pytest.fixture
def tree():
    province = make_department(name="某省市场监督管理局", level="province")
    city = make_department(name="大连片区综合监管执法局", parent=province)
    county = make_department(name="某县市场监督管理局", level="county", parent=city)
    return {"province": province, "city": city, "county": county, "unit": make_unit(city)}


def _visible(body: str) -> str:
    main = body.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


def test_url_name():
    assert reverse("web:access_profiles") == URL


@pytest.mark.parametrize("role", ["officer", "custodian", "unit_head", "department_head", "legal_office",
                                  "audit_admin", "system_admin"])
def test_readers_see_every_department_and_every_profile_without_a_form(client, tree, role):
    person = make_person(role, unit=tree["unit"]) if role in ("officer", "custodian", "unit_head") else \
        make_person(role, department=tree["city"])
    client.force_login(person)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    text = _visible(body)
    # tree order: the province, then the city, then the county below it
    assert text.index(tree["province"].name) < text.index(tree["city"].name) < text.index(tree["county"].name)
    for label in AccessProfile.labels:
        assert str(label) in text
    for article in (SAMR_17_5, DL_22, SQ_EQUIP_12):
        assert str(article) in text
    for relation in ("本采集机构", "本部门其他机构", "下级部门（上级调阅）", "其他部门"):
        assert relation in text
    assert "采集机构负责人、记录仪管理员无需审批可：查看目录信息" in text
    assert "采集机构负责人、记录仪管理员无需审批可：全部" in text
    assert "本页只读" in text
    assert 'name="profile"' not in body
    assert english_words(text) == []
    assert "style=" not in body and "onclick" not in body


def test_someone_without_a_role_is_refused(client, tree):
    person = make_person("officer", unit=tree["unit"])
    person.role_assignments.all().delete()
    client.force_login(person)
    response = client.get(URL)
    assert response.status_code == 403
    assert "不能查看调阅审批规则" in response.content.decode()


def test_security_admin_changes_a_profile_and_it_is_a_custody_event(client, tree):
    security = make_person("security_admin", department=tree["province"])
    client.force_login(security)
    page = client.get(URL)
    assert page.status_code == 200 and 'name="profile"' in page.content.decode()
    response = client.post(URL, {"department": tree["city"].pk, "profile": AccessProfile.DALIAN, "page": "1"})
    assert response.status_code == 302 and response["Location"] == URL + "?page=1"
    assert DepartmentProfile.objects.get(department=tree["city"]).profile == AccessProfile.DALIAN
    event = Event.objects.get(action=EventCode.PROFILE_ASSIGNED)
    assert event.actor_id == security.pk
    text = _visible(client.get(response["Location"]).content.decode())
    assert "已将" in text and security.display_name in text


@pytest.mark.parametrize("role", ["system_admin", "audit_admin", "department_head"])
def test_only_the_security_admin_may_change(client, tree, role):
    client.force_login(make_person(role, department=tree["city"]))
    response = client.post(URL, {"department": tree["city"].pk, "profile": AccessProfile.DALIAN})
    assert response.status_code == 403
    assert "只有安全管理员可以设置调阅审批规则" in response.content.decode()
    assert not DepartmentProfile.objects.exists()


@pytest.mark.parametrize("data, message", [
    ({"profile": "beijing"}, "审批规则无效"),
    ({"profile": ""}, "审批规则无效"),
    ({"profile": "x" * 10_000}, "审批规则无效"),
    ({"department": "9" * 30}, "所选部门不存在"),
    ({"department": str(2**63)}, "所选部门不存在"),
    ({"department": "-1"}, "所选部门不存在"),
    ({"department": "abc"}, "所选部门不存在"),
    ({"department": "999999"}, "所选部门不存在"),
    ({"page": "9" * 40}, None),
])
def test_bad_input_is_a_chinese_4xx(client, tree, data, message):
    client.force_login(make_person("security_admin", department=tree["province"]))
    post = {"department": str(tree["city"].pk), "profile": AccessProfile.SHUANGQIAO, **data}
    response = client.post(URL, post)
    if message is None:  # a silly page number is ignored
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert message in _visible(response.content.decode())
    assert not DepartmentProfile.objects.exists()


def test_more_than_a_hundred_departments_are_paginated(client, tree):
    for _ in range(105):
        make_department(parent=tree["county"], level="county")
    client.force_login(make_person("audit_admin", department=tree["province"]))
    first = client.get(URL)
    assert len(first.context["rows"]) == 100 and first.context["paginated"]
    second = client.get(URL + "?page=2")
    assert len(second.context["rows"]) == Department.objects.count() - 100
    assert client.get(URL + "?page=" + "9" * 30).status_code == 200
