"""入库情况: officers see what they sent; custodians see everything that reached their unit."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from core.testing import make_person, make_unit
from ingest.services import ingest_stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    unit = make_unit(name="城区市场监管所")
    other_unit = make_unit(name="食品安全监管科")
    officer = make_person("officer", unit=unit, full_name="王芳")
    colleague = make_person("officer", unit=unit, full_name="赵强")
    custodian = make_person("custodian", unit=unit, full_name="周敏")
    outsider = make_person("officer", unit=other_unit, full_name="孙磊")
    mine = ingest_stream(io.BytesIO(b"%PDF-1.4 not a video"), actor=officer, filename="wangfang.mp4", metadata={})
    theirs = ingest_stream(io.BytesIO(b"notes from the site"), actor=colleague, filename="zhaoqiang.txt", metadata={})
    elsewhere = ingest_stream(io.BytesIO(b"other unit"), actor=outsider, filename="sunlei.bin", metadata={})
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


@pytest.mark.req("ING-6")
def test_flagged_items_show_their_reason_and_filter_by_status(client, world):
    response = _get(client, world["custodian"], status="flagged")
    body = response.content.decode()
    assert response.status_code == 200
    assert "wangfang.mp4" in body  # a PDF named .mp4 is kept and flagged, with its reason
    assert world["mine"].status == "flagged" and world["mine"].status_message in body


def test_bad_date_range_is_a_form_error_not_a_500(client, world):
    response = _get(client, world["custodian"], date_from="2026-11-20", date_to="2026-11-01")
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_administrator_sees_no_items(client, world):
    admin = make_person("system_admin", full_name="系统管理员")
    body = _get(client, admin).content.decode()
    assert "没有符合条件的入库项" in body
