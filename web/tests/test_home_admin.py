"""Administrators' overviews: one per separated role (ACC-6), every "today" a local day (ING-2)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.testing import make_person, make_recording, make_unit
from storage.choices import FixityStatus
from storage.models import FixityCheck
from web.views.home import fixity_day_summary

pytestmark = pytest.mark.django_db


def _local(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.mark.req("ING-2")
def test_fixity_run_just_after_local_midnight_counts_as_today(client):
    """00:30 in Asia/Shanghai is 16:30 UTC of the day before: it is still "today"."""
    officer = make_person("officer", unit=make_unit())
    recording = make_recording(officer)
    today = timezone.localdate()
    for minute in (30, 31, 32):
        FixityCheck.objects.create(
            stored_object=recording.original,
            checked_at=_local(today, 0, minute),
            status=FixityStatus.PASS,
        )
    FixityCheck.objects.create(  # yesterday, late evening local time: not today
        stored_object=recording.original,
        checked_at=_local(today - timedelta(days=1), 23, 50),
        status=FixityStatus.PASS,
    )
    assert fixity_day_summary(today)["total"] == 3
    admin = make_person("system_admin", department=recording.department)
    client.force_login(admin)
    response = client.get(reverse("web:home"))
    assert response.context["fixity_runs"]["total"] == 3
    assert response.context["last_check_is_today"] is True
    assert "今日校验对象" in response.content.decode()


@pytest.mark.req("ACC-6")
def test_each_administrator_sees_the_overview_of_their_duty(client):
    department = make_unit().department
    pages = {}
    for role in ("system_admin", "security_admin", "audit_admin"):
        client.force_login(make_person(role, department=department))
        pages[role] = client.get(reverse("web:home")).content.decode()
    assert "文件库与完整性" in pages["system_admin"]
    assert "保管链与查阅" not in pages["system_admin"]
    assert "账号与登录" in pages["security_admin"]
    assert "文件库与完整性" not in pages["security_admin"]
    assert "保管链与查阅" in pages["audit_admin"]
    assert "文件库与完整性" not in pages["audit_admin"]
    assert len({pages[r] for r in pages}) == 3
