"""Denied attempts, security findings and the own-scope register's filters (issue 9, ACC-1, ACC-2, ACC-6)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from access.choices import AccessAction, FindingKind, FindingStatus
from access.findings import DENIAL_THRESHOLD, check_denials, findings_for
from access.models import SecurityFinding
from access.services import register_access
from core.testing import make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = pytest.mark.django_db


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def org():
    dept = make_department()
    unit, other_unit = make_unit(dept), make_unit(dept)
    return {
        "dept": dept,
        "unit": unit,
        "officer": make_person("officer", unit=unit),
        "other_officer": make_person("officer", unit=other_unit),
        "unit_head": make_person("unit_head", unit=unit),
        "other_unit_head": make_person("unit_head", unit=other_unit),
        "head": make_person("department_head", department=dept),
        "legal": make_person("legal_office", department=dept),
        "stranger_legal": make_person("legal_office", department=make_department()),
        "security": make_person("security_admin", department=dept),
    }


T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes", "finding"),
    [([0, 1, 2, 3], False), ([0, 1, 2, 3, 4], True), ([0, 3, 6, 9, 12], False), ([0, 30, 31, 32, 33, 34], True)],
)
def test_check_denials_is_a_window_count(minutes, finding):
    times = [T0 + timedelta(minutes=m) for m in minutes]
    assert (check_denials(times) is not None) is finding


@pytest.mark.req("ACC-1")
def test_repeated_denials_raise_one_finding_for_the_unit_head(org):
    target = make_recording(org["other_officer"])
    client = _client(org["officer"])
    for _ in range(DENIAL_THRESHOLD + 2):
        assert client.get(reverse("web:recording_detail", args=[target.pk])).status_code == 404
    finding = SecurityFinding.objects.get()
    assert (finding.kind, finding.person, finding.unit) == (FindingKind.REPEATED_DENIALS, org["officer"], org["unit"])
    assert finding.count == DENIAL_THRESHOLD + 2
    assert Event.objects.filter(action=EventCode.FINDING_RAISED).count() == 1  # one burst, one event
    assert list(findings_for(org["unit_head"])) == [finding]
    assert list(findings_for(org["head"])) == [finding]
    assert list(findings_for(org["other_unit_head"])) == []
    assert list(findings_for(org["officer"])) == []  # never one's own
    page = _client(org["unit_head"]).get(reverse("web:my_access"))
    assert "待处理的安全提示" in page.content.decode() and org["officer"].display_name in page.content.decode()
    # the unit head sees the refused reads of their people
    denied = _client(org["unit_head"]).get(reverse("web:my_access"), {"view": "denied"})
    assert denied.status_code == 200 and f"#{target.pk}" in denied.content.decode()
    assert _client(org["other_unit_head"]).get(reverse("web:my_access"), {"view": "denied"}).context["rows"] == []


@pytest.mark.req("ACC-1")
def test_a_finding_is_acknowledged_with_a_comment_once(org):
    target = make_recording(org["other_officer"])
    client = _client(org["officer"])
    for _ in range(DENIAL_THRESHOLD):
        client.get(reverse("web:recording_detail", args=[target.pk]))
    finding = SecurityFinding.objects.get()
    url = reverse("web:access_finding_acknowledge", args=[finding.pk])
    head = _client(org["unit_head"])
    response = head.post(url, {"comment": ""}, follow=True)
    assert "处理意见" in response.content.decode()
    assert SecurityFinding.objects.get().status == FindingStatus.OPEN
    assert _client(org["other_unit_head"]).post(url, {"comment": "看看"}).status_code == 302
    assert SecurityFinding.objects.get().status == FindingStatus.OPEN  # not theirs: refused
    head.post(url, {"comment": "已约谈，系误操作"})
    finding.refresh_from_db()
    assert (finding.status, finding.acknowledged_by, finding.comment) == (
        FindingStatus.ACKNOWLEDGED, org["unit_head"], "已约谈，系误操作")
    assert Event.objects.filter(action=EventCode.FINDING_ACKNOWLEDGED, actor_id=org["unit_head"].pk).exists()
    head.post(url, {"comment": "再次"})
    assert Event.objects.filter(action=EventCode.FINDING_ACKNOWLEDGED).count() == 1


@pytest.mark.req("ACC-6")
def test_a_sign_in_burst_is_a_finding_for_the_security_administrator(org, settings):
    officer = org["officer"]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(reverse("web:login"), {"username": officer.username, "password": "wrong-Password-1"})
    finding = SecurityFinding.objects.get(kind=FindingKind.SIGN_IN_BURST)
    assert finding.person == officer and finding.subject_name == officer.username
    assert list(findings_for(org["security"])) == [finding]
    assert list(findings_for(org["unit_head"])) == []


@pytest.mark.req("ACC-2")
def test_legal_office_reads_its_departments_register_but_not_the_records(org):
    rec = make_recording(org["officer"])
    register_access(rec, actor=org["head"], action=AccessAction.PLAY, purpose="审核")
    legal = _client(org["legal"])
    rows = legal.get(reverse("web:my_access")).context["rows"]
    assert [r.recording_id for r in rows] == [rec.pk]
    assert legal.get(reverse("web:recording_detail", args=[rec.pk])).status_code == 404
    assert _client(org["stranger_legal"]).get(reverse("web:my_access")).context["rows"] == []


@pytest.mark.req("ACC-2")
def test_own_scope_register_filters_and_exports(org):
    from openpyxl import load_workbook

    rec, other = make_recording(org["officer"]), make_recording(org["officer"])
    register_access(rec, actor=org["head"], action=AccessAction.PLAY, purpose="审核")
    register_access(other, actor=org["head"], action=AccessAction.VIEW)
    client = _client(org["unit_head"])
    url = reverse("web:my_access")
    assert {r.recording_id for r in client.get(url, {"action": "play"}).context["rows"]} == {rec.pk}
    assert {r.recording_id for r in client.get(url, {"recording": str(other.pk)}).context["rows"]} == {other.pk}
    bad = client.get(url, {"recording": "99999999999999999999999"})
    assert bad.status_code == 400 and "记录编号" in bad.content.decode() and "请缩短" in bad.content.decode()
    export = client.get(url, {"action": "play", "format": "xlsx"})
    assert export.status_code == 200
    sheet = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert [row[4] for row in sheet[1:]] == [rec.pk]
    event = Event.objects.filter(action=EventCode.REGISTER_EXPORTED).get()
    assert event.actor_id == org["unit_head"].pk and event.details["filters"] == {"action": "play"}
