"""A case's file (REC-9): closed, then archived within 30 days; the sweep finds the overdue
ones, and an archived case's finding resolves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.choices import CaseStage, FindingCode, FindingState
from activities.findings import sweep_compliance
from activities.models import ComplianceFinding
from activities.services import ActivityError, CaseValues, archive_case, close_case, create_case
from core.errors import ConflictError, NotFoundError
from core.testing import make_department, make_person, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("REC-9")]


@pytest.fixture
def org():
    city = make_department()
    unit = make_unit(city)
    return {"city": city, "officer": make_person("officer", unit=unit),
            "outsider": make_person("officer", unit=make_unit(make_department(name="另一局")))}


def test_a_closed_case_is_due_in_the_archive_thirty_days_later(org):
    today = timezone.localdate()
    case = create_case(org["city"], CaseValues(number="市监罚〔2026〕20号", party_name="某公司"), actor=org["officer"])
    with pytest.raises(ConflictError, match="尚未结案"):
        archive_case(case.pk, actor=org["officer"], archived_on=today)
    with pytest.raises(ActivityError, match="不能晚于今天"):
        close_case(case.pk, actor=org["officer"], closed_on=today + timedelta(days=1))
    with pytest.raises(NotFoundError):
        close_case(case.pk, actor=org["outsider"], closed_on=today)
    closed = close_case(case.pk, actor=org["officer"], closed_on=today - timedelta(days=31))
    assert closed.archive_due == today - timedelta(days=1) and closed.stage == CaseStage.EXECUTION
    assert Event.objects.get(action=EventCode.CASE_CLOSED).details["case_number"] == "市监罚〔2026〕20号"
    overdue = ComplianceFinding.objects.get(case=case, code=FindingCode.ARCHIVE_OVERDUE)
    assert overdue.state == FindingState.OPEN and overdue.activity_id is None
    with pytest.raises(ConflictError, match="已于"):
        close_case(case.pk, actor=org["officer"], closed_on=today)
    with pytest.raises(ActivityError, match="不能早于结案日期"):
        archive_case(case.pk, actor=org["officer"], archived_on=today - timedelta(days=40))
    archive_case(case.pk, actor=org["officer"], archived_on=today)
    overdue.refresh_from_db()
    assert overdue.state == FindingState.RESOLVED


def test_the_sweep_finds_a_deadline_passed_since_the_last_change(org):
    today = timezone.localdate()
    case = create_case(org["city"], CaseValues(number="21", party_name="某公司"), actor=org["officer"])
    close_case(case.pk, actor=org["officer"], closed_on=today - timedelta(days=10))
    assert not ComplianceFinding.objects.filter(case=case).exists()
    type(case).objects.filter(pk=case.pk).update(closed_on=today - timedelta(days=45))  # time passes
    sweep_compliance()
    assert ComplianceFinding.objects.get(case=case).code == FindingCode.ARCHIVE_OVERDUE
    assert sweep_compliance()["opened"] == 0  # nothing new the second time
