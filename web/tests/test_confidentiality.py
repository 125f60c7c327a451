"""保密标记 on the record page (ACC-3): the unit's custodian marks, only the department head clears,
bad input is a Chinese 400, and a record one cannot see is a 404."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from access.models import ConfidentialityMark
from core.testing import make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event
from web.tests.english import english_words
from web.views.confidentiality import confidentiality_context

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-3")]


@pytest.fixture
def org():
    unit = make_unit()
    o = {
        "unit": unit,
        "officer": make_person("officer", unit=unit, full_name="张三"),
        "custodian": make_person("custodian", unit=unit, full_name="记录仪管理员甲"),
        "head": make_person("department_head", department=unit.department, full_name="部门负责人乙"),
        "stranger": make_person("custodian", unit=make_unit(), full_name="外单位管理员"),
    }
    o["rec"] = make_recording(o["officer"])
    return o


def _mark(client, rec, **data):
    return client.post(reverse("web:recording_mark_confidential", args=[rec.pk]), data)


def _clear(client, rec, **data):
    return client.post(reverse("web:recording_clear_confidential", args=[rec.pk]), data)


def test_custodian_marks_and_is_sent_on_when_the_record_leaves_their_sight(client, org):
    client.force_login(org["custodian"])
    response = _mark(client, org["rec"], category="commercial_secret", reason="含企业配方工艺")
    assert response.status_code == 302
    mark = ConfidentialityMark.objects.get(recording=org["rec"])
    assert (mark.category, mark.reason, mark.marked_by_id) == ("commercial_secret", "含企业配方工艺",
                                                               org["custodian"].pk)
    event = Event.objects.get(action=EventCode.CONFIDENTIALITY_MARKED)
    assert event.actor_id == org["custodian"].pk and event.subject_id == str(org["rec"].pk)
    # a confidential record is on the department-head path only: the custodian no longer sees it
    assert response["Location"] == reverse("web:recording_list")
    page = client.get(response["Location"]).content.decode()
    assert "已标记为商业秘密" in page and "您此后不能再查看" in page


def test_custodian_may_not_clear_the_department_head_may(client, org):
    client.force_login(org["custodian"])
    _mark(client, org["rec"], category="personal_privacy", reason="含当事人身份证件画面")
    client.force_login(org["officer"])  # the recorder still sees it, but does not clear
    response = _clear(client, org["rec"], reason="不涉密")
    assert response.status_code == 403 and "只有本部门负责人可以取消保密标记" in response.content.decode()
    client.force_login(org["head"])
    response = _clear(client, org["rec"], reason="经核实画面已打码")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:recording_detail", args=[org["rec"].pk])
    assert not ConfidentialityMark.objects.exists()
    event = Event.objects.get(action=EventCode.CONFIDENTIALITY_CLEARED)
    assert event.actor_id == org["head"].pk
    assert "已取消保密标记" in client.get(response["Location"]).content.decode()


def test_clear_refused_for_the_custodian_before_any_mark(client, org):
    client.force_login(org["custodian"])
    response = _clear(client, org["rec"], reason="试试")
    assert response.status_code == 403
    assert not Event.objects.filter(action=EventCode.CONFIDENTIALITY_CLEARED).exists()


def test_clearing_an_unmarked_record_is_a_400(client, org):
    client.force_login(org["head"])
    response = _clear(client, org["rec"], reason="没有标记")
    assert response.status_code == 400 and "该记录没有保密标记" in response.content.decode()


@pytest.mark.parametrize("data, message", [
    ({"category": "top_secret", "reason": "机密"}, "请选择保密类别"),
    ({"category": "", "reason": "机密"}, "请选择保密类别"),
    ({"reason": "机密"}, "请选择保密类别"),
    ({"category": "commercial_secret", "reason": ""}, "请写明标记理由"),
    ({"category": "commercial_secret", "reason": "   "}, "请写明标记理由"),
    ({"category": "commercial_secret", "reason": "长" * 501}, "请写明标记理由"),
    ({"category": "commercial_secret", "reason": "含\x00空字符"}, "无效字符"),
])
def test_bad_category_or_reason_is_a_chinese_400(client, org, data, message):
    client.force_login(org["custodian"])
    response = _mark(client, org["rec"], **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ConfidentialityMark.objects.exists()


def test_empty_clear_reason_is_a_400(client, org):
    ConfidentialityMark.objects.create(recording=org["rec"], category="commercial_secret", reason="配方",
                                       marked_by=org["custodian"], marked_at=org["rec"].received_at)
    client.force_login(org["head"])
    response = _clear(client, org["rec"], reason="")
    assert response.status_code == 400 and "请写明取消理由" in response.content.decode()
    assert ConfidentialityMark.objects.exists()


def test_stranger_gets_404_and_get_is_not_allowed(client, org):
    client.force_login(org["stranger"])
    assert _mark(client, org["rec"], category="commercial_secret", reason="x").status_code == 404
    assert _clear(client, org["rec"], reason="x").status_code == 404
    assert client.post(f"/recordings/{'9' * 30}/confidentiality/mark", {}).status_code == 404
    client.force_login(org["custodian"])
    assert client.get(reverse("web:recording_mark_confidential", args=[org["rec"].pk])).status_code == 405
    assert not ConfidentialityMark.objects.exists()


def test_an_officer_without_the_right_may_not_mark(client, org):
    client.force_login(org["officer"])
    response = _mark(client, org["rec"], category="commercial_secret", reason="含配方")
    assert response.status_code == 403
    assert not ConfidentialityMark.objects.exists()


def _partial(user, rec) -> str:
    request = RequestFactory().get("/")
    request.user = user
    context = {"recording": rec, **confidentiality_context(user, rec)}
    return render_to_string("web/recordings/_confidentiality.html", context, request=request)


def test_partial_shows_the_mark_and_the_forms_each_person_may_use(org):
    rec = org["rec"]
    assert _partial(org["officer"], rec).strip() == ""  # nothing to show, nothing to do
    custodian = _partial(org["custodian"], rec)
    assert "confidentiality-mark-form" in custodian and "confidentiality-clear-form" not in custodian
    ConfidentialityMark.objects.create(recording=rec, category="personal_privacy", reason="含未成人面部画面",
                                       marked_by=org["custodian"], marked_at=rec.received_at)
    head = _partial(org["head"], rec)
    assert "个人隐私" in head and "含未成人面部画面" in head and "记录仪管理员甲" in head
    assert "confidentiality-mark-form" in head and "confidentiality-clear-form" in head
    officer = _partial(org["officer"], rec)
    assert "个人隐私" in officer and "<form" not in officer
    assert "style=" not in head and "onclick" not in head
    assert english_words(re.sub(r"<[^>]+>", " ", head)) == []
