"""入库情况: every role sees what its scope allows — officers what they sent (and items of
recordings they appear on), custodians their unit's, department heads their department's."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from core.testing import make_person, make_unit
from ingest.local import ingest_stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    unit = make_unit(name="城区市场监管所")
    sister_unit = make_unit(unit.department, name="开发区市场监管所")
    other_unit = make_unit(name="食品安全监管科")
    officer = make_person("officer", unit=unit, full_name="王芳")
    colleague = make_person("officer", unit=unit, full_name="赵强")
    custodian = make_person("custodian", unit=unit, full_name="周敏")
    outsider = make_person("officer", unit=other_unit, full_name="孙磊")
    sister = make_person("officer", unit=sister_unit, full_name="钱明")
    head = make_person("department_head", department=unit.department, full_name="马超")
    mine = ingest_stream(io.BytesIO(b"%PDF-1.4 not a video"), actor=officer, filename="wangfang.mp4", metadata={})
    theirs = ingest_stream(io.BytesIO(b"notes from the site"), actor=colleague, filename="zhaoqiang.txt", metadata={})
    elsewhere = ingest_stream(io.BytesIO(b"other unit"), actor=outsider, filename="sunlei.bin", metadata={})
    next_door = ingest_stream(io.BytesIO(b"sister unit"), actor=sister, filename="qianming.bin", metadata={})
    return locals()


def _get(client, person, **params):
    client.force_login(person)
    return client.get(reverse("web:ingest_list"), params)


@pytest.mark.req("ING-1", "ING-6")
def test_officer_sees_only_own_items(client, world):
    body = _get(client, world["officer"]).content.decode()
    assert "wangfang.mp4" in body
    assert "zhaoqiang.txt" not in body
    assert "sunlei.bin" not in body


@pytest.mark.req("ING-1")
def test_custodian_sees_every_arrival_of_the_unit_and_no_other(client, world):
    body = _get(client, world["custodian"]).content.decode()
    assert "wangfang.mp4" in body and "zhaoqiang.txt" in body
    assert "sunlei.bin" not in body


@pytest.mark.req("ING-1")
def test_department_head_sees_every_arrival_of_the_department_and_no_other(client, world):
    response = _get(client, world["head"])
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("wangfang.mp4", "zhaoqiang.txt", "qianming.bin"):
        assert name in body
    assert "sunlei.bin" not in body
    assert "没有符合条件的入库项" not in body
    assert [s["count"] for s in response.context["summary"] if s["status"] == "flagged"] == [3]
    assert "本部门全部" in body


@pytest.mark.req("ING-1")
def test_department_head_can_narrow_to_own_uploads(client, world):
    body = _get(client, world["head"], scope="mine").content.decode()
    assert "wangfang.mp4" not in body and "没有符合条件的入库项" in body


@pytest.mark.req("ING-6")
def test_flagged_items_show_their_reason_and_filter_by_status(client, world):
    response = _get(client, world["custodian"], status="flagged")
    body = response.content.decode()
    assert response.status_code == 200
    # a PDF named .mp4 is kept and flagged; the page shows it with its reason
    listed = {item.filename: item for item in response.context["page_obj"].object_list}
    assert set(listed) == {"wangfang.mp4", "zhaoqiang.txt"}
    assert all(item.status == "flagged" for item in listed.values())
    assert listed["wangfang.mp4"].status_message and listed["wangfang.mp4"].status_message in body


@pytest.mark.req("ING-6")
@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"q": "录" * 3000},
        {"status": "lazy"},
    ],
)
def test_unusable_filter_says_so_and_lists_nothing(client, world, params):
    response = _get(client, world["custodian"], **params)
    assert response.status_code == 200
    body = response.content.decode()
    assert "筛选条件有误" in body
    assert "wangfang.mp4" not in body


def test_bad_date_range_is_a_form_error_not_a_500(client, world):
    response = _get(client, world["custodian"], date_from="2026-11-20", date_to="2026-11-01")
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_administrator_sees_no_items(client, world):
    admin = make_person("system_admin", full_name="系统管理员")
    response = _get(client, admin)
    body = response.content.decode()
    assert response.status_code == 403  # not a page for administrators (ACC-6)
    for name in ("wangfang.mp4", "zhaoqiang.txt", "sunlei.bin", "qianming.bin"):
        assert name not in body
