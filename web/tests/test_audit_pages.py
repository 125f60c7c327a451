"""The audit administrator's pages: the custody log, chain verifications, the access register.

He reads everything and changes nothing; every other role neither sees nor reaches them (403).
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.choices import AccessAction
from access.models import AccessEntry
from access.services import register_access
from core.testing import make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import ChainVerification, Event
from custody.services import record_event
from orgs.choices import Role
from web.views import audit as audit_views

pytestmark = pytest.mark.django_db

PAGES = ("web:audit_events", "web:audit_verifications", "web:audit_access")
NAV = {"audit_events", "audit_verifications", "audit_access"}


@pytest.fixture
def auditor(unit):
    return make_person(Role.AUDIT_ADMIN, department=unit.department, full_name="林峰")


@pytest.fixture
def audit_client(client, auditor):
    client.force_login(auditor)
    return client


def _events(n, *, actor=None, action=EventCode.LOGIN, subject=("system", "")):
    for i in range(n):
        record_event(action, actor=actor, subject=subject, details={"i": i})


# --- who may read --------------------------------------------------------------------------


@pytest.mark.req("ACC-5", "ACC-6")
def test_audit_admin_sees_and_reaches_the_pages(audit_client):
    links = {item["name"] for item in audit_client.get(reverse("web:home")).context["nav_items"]}
    assert NAV <= links
    for name in PAGES:
        response = audit_client.get(reverse(name))
        assert response.status_code == 200, name
    body = audit_client.get(reverse("web:home")).content.decode()
    for label in ("审计日志", "校验结果", "查阅登记"):
        assert label in body


@pytest.mark.req("ACC-6")
@pytest.mark.parametrize(
    "role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.OFFICER, Role.DEPARTMENT_HEAD]
)
def test_other_roles_neither_see_nor_reach_the_pages(client, role):
    unit = make_unit()
    person = make_person(
        role, unit=unit if role == Role.OFFICER else None, department=unit.department
    )
    client.force_login(person)
    links = {item["name"] for item in client.get(reverse("web:home")).context["nav_items"]}
    assert not links & NAV
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert "仅供审计管理员使用" in response.content.decode()
    assert client.get(reverse("web:audit_access") + "?format=xlsx").status_code == 403
    before = ChainVerification.objects.count()
    assert client.post(reverse("web:audit_verify_now")).status_code == 403
    assert ChainVerification.objects.count() == before


def test_signed_out_is_sent_to_login(client):
    response = client.get(reverse("web:audit_events"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the log browser -----------------------------------------------------------------------


def test_events_show_summary_and_technical_details(audit_client, officer):
    recording = make_recording(officer)
    register_access(recording, actor=officer, action=AccessAction.PLAY, purpose="案件审核")
    response = audit_client.get(reverse("web:audit_events"))
    body = response.content.decode()
    last = Event.objects.order_by("-seq").first()
    assert f"#{last.seq}" in body and "播放" in body and "事由：案件审核" in body
    assert 'class="event-technical technical-details' in body
    assert last.hash in body and last.prev_hash in body
    assert "音像记录" in body and officer.full_name in body


def test_filters_by_actor_action_subject_and_period(audit_client, officer, auditor):
    other = make_person("officer", unit=officer.unit, full_name="李娜")
    _events(3, actor=officer, action=EventCode.LOGIN, subject=officer)
    _events(2, actor=other, action=EventCode.LOGOUT, subject=other)
    url = reverse("web:audit_events")

    def seqs(**params):
        response = audit_client.get(url, params)
        assert response.status_code == 200, response.context["form"].errors
        return [e.seq for e in response.context["rows"]]

    by_officer = set(Event.objects.filter(actor=officer).values_list("seq", flat=True))
    assert set(seqs(actor="张三")) == by_officer
    assert set(seqs(actor=str(officer.pk))) == by_officer
    assert set(seqs(actor=officer.username)) == by_officer
    assert len(seqs(action=EventCode.LOGOUT)) == 2
    assert set(seqs(subject_type="person", subject_id=str(other.pk))) == set(
        Event.objects.filter(subject_type="person", subject_id=str(other.pk)).values_list(
            "seq", flat=True
        )
    )
    today = timezone.localdate()
    assert (
        len(seqs(date_from=today.isoformat(), date_to=today.isoformat())) == Event.objects.count()
    )
    assert seqs(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert seqs(actor="没有这个人") == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "made.up"}, "所选动作不存在"),
        ({"subject_type": "spaceship"}, "所选对象类型不存在"),
        ({"subject_id": "5"}, "须同时选择对象类型"),
        ({"date_from": "0001-01-01"}, "日期须在"),
        ({"date_from": "2026-02-30"}, "请输入有效的日期"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "结束日期不能早于开始日期"),
        ({"actor": "x" * 500}, "最多 100 个字符"),
        ({"before": "abc"}, "翻页位置无效"),
        ({"after": "99999999999999999999999"}, "翻页位置无效"),
    ],
)
def test_invalid_event_filters_list_nothing_and_say_why(audit_client, officer, params, message):
    _events(3, actor=officer)
    response = audit_client.get(reverse("web:audit_events"), params)
    assert response.status_code == 400
    body = response.content.decode()
    assert "筛选条件有误" in body and message in body
    assert response.context["rows"] == []


def _walk(client, url, params=None):
    """Every row, following "older" links; then back with "newer" links."""
    seen, pages = [], []
    response = client.get(url, params or {})
    while True:
        result = response.context["result"]
        pages.append([getattr(r, "seq", None) or r.pk for r in result.rows])
        seen += pages[-1]
        if result.older is None:
            break
        response = client.get(url, {**(params or {}), "before": result.older})
    back = []
    while True:
        result = response.context["result"]
        back.append([getattr(r, "seq", None) or r.pk for r in result.rows])
        if result.newer is None:
            break
        response = client.get(url, {**(params or {}), "after": result.newer})
    return seen, pages, back


def test_keyset_pagination_walks_every_event_once(audit_client, officer, monkeypatch):
    monkeypatch.setattr(audit_views, "EVENTS_PER_PAGE", 7)
    _events(30, actor=officer)
    seen, pages, back = _walk(audit_client, reverse("web:audit_events"))
    every = list(Event.objects.order_by("-seq").values_list("seq", flat=True))
    assert seen == every and len(set(seen)) == len(seen)
    assert all(len(p) == 7 for p in pages[:-1])
    assert back[-1] == pages[0], "the newer links lead back to the newest page"
    body = audit_client.get(reverse("web:audit_events"), {"before": pages[0][-1]}).content.decode()
    assert "较新" in body and f"after={pages[1][0]}" in body


def test_keyset_pagination_keeps_the_filter(audit_client, officer, auditor, monkeypatch):
    monkeypatch.setattr(audit_views, "EVENTS_PER_PAGE", 4)
    _events(9, actor=officer, action=EventCode.LOGOUT)
    _events(9, actor=auditor, action=EventCode.LOGIN)
    seen, _pages, _back = _walk(
        audit_client, reverse("web:audit_events"), {"action": EventCode.LOGOUT}
    )
    assert seen == list(
        Event.objects.filter(action=EventCode.LOGOUT).order_by("-seq").values_list("seq", flat=True)
    )


def test_event_page_query_budget_is_independent_of_rows(
    audit_client, officer, django_assert_max_num_queries
):
    _events(5, actor=officer)
    with django_assert_max_num_queries(10):
        audit_client.get(reverse("web:audit_events"), {"actor": "张三"})
    _events(120, actor=officer)
    for params in (
        {},
        {"actor": "张三"},
        {"before": 60},
        {"after": 20},
        {"action": EventCode.LOGIN},
    ):
        with django_assert_max_num_queries(10):
            assert audit_client.get(reverse("web:audit_events"), params).status_code == 200


# --- verifications -------------------------------------------------------------------------


def test_run_a_verification_now(audit_client, auditor, officer):
    _events(3, actor=officer)
    page = audit_client.get(reverse("web:audit_verifications"))
    assert (
        "尚无校验结果" in page.content.decode() and "csrfmiddlewaretoken" in page.content.decode()
    )
    response = audit_client.post(reverse("web:audit_verify_now"), follow=True)
    assert response.status_code == 200
    verification = ChainVerification.objects.get()
    assert verification.trigger == "manual" and verification.actor == auditor
    body = response.content.decode()
    assert "校验完成" in body and "通过" in body and "人工执行" in body and "林峰" in body
    assert Event.objects.filter(action=EventCode.CHAIN_VERIFIED, actor=auditor).exists()
    assert audit_client.get(reverse("web:audit_verify_now")).status_code == 405


def test_verification_needs_csrf(client, auditor):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(auditor)
    assert csrf_client.post(reverse("web:audit_verify_now")).status_code == 403
    assert ChainVerification.objects.count() == 0


def test_verifications_are_paginated_newest_first(
    audit_client, auditor, monkeypatch, django_assert_max_num_queries
):
    from custody.services import verify_custody_chain

    monkeypatch.setattr(audit_views, "VERIFICATIONS_PER_PAGE", 3)
    for _ in range(7):
        verify_custody_chain(actor=auditor, trigger="manual")
    seen, pages, _back = _walk(audit_client, reverse("web:audit_verifications"))
    with django_assert_max_num_queries(10):
        audit_client.get(reverse("web:audit_verifications"), {"before": pages[1][0]})
    assert seen == list(ChainVerification.objects.order_by("-pk").values_list("pk", flat=True))
    assert [len(p) for p in pages] == [3, 3, 1]


# --- the access register -------------------------------------------------------------------


@pytest.fixture
def register(officer):
    other = make_person("officer", unit=officer.unit, full_name="李娜")
    first, second = make_recording(officer), make_recording(officer)
    for _ in range(3):
        register_access(
            first, actor=officer, action=AccessAction.VIEW, client="web 10.0.0.1 Mozilla/5.0"
        )
    register_access(
        second,
        actor=other,
        action=AccessAction.DOWNLOAD,
        purpose="移送司法机关",
        approval_ref="审批〔2026〕3号",
    )
    return {"officer": officer, "other": other, "first": first, "second": second}


def test_access_register_lists_and_filters(audit_client, register):
    url = reverse("web:audit_access")

    def ids(**params):
        response = audit_client.get(url, params)
        assert response.status_code == 200, response.context["form"].errors
        return {a.pk for a in response.context["rows"]}

    everything = set(AccessEntry.objects.values_list("pk", flat=True))
    assert ids() == everything
    assert ids(person="李娜") == set(
        AccessEntry.objects.filter(person=register["other"]).values_list("pk", flat=True)
    )
    assert ids(person=str(register["officer"].pk)) == set(
        AccessEntry.objects.filter(person=register["officer"]).values_list("pk", flat=True)
    )
    assert ids(recording=str(register["second"].pk)) == set(
        AccessEntry.objects.filter(recording=register["second"]).values_list("pk", flat=True)
    )
    assert len(ids(action=AccessAction.DOWNLOAD)) == 1
    today = timezone.localdate().isoformat()
    assert ids(date_from=today, date_to=today) == everything
    body = audit_client.get(url).content.decode()
    assert "移送司法机关" in body and "审批〔2026〕3号" in body and "网页 · 10.0.0.1" in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"recording": "abc"}, "记录编号须为正整数"),
        ({"recording": "99999999999999999999"}, "记录编号须为正整数"),
        ({"action": "steal"}, "所选查阅方式不存在"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "结束日期不能早于开始日期"),
    ],
)
def test_invalid_access_filters_are_refused(audit_client, register, params, message):
    response = audit_client.get(reverse("web:audit_access"), params)
    assert response.status_code == 400
    assert message in response.content.decode() and response.context["rows"] == []
    export = audit_client.get(reverse("web:audit_access"), {**params, "format": "xlsx"})
    assert export.status_code == 302 and "format" not in export["Location"]


def test_access_keyset_walks_every_entry_once(audit_client, register, monkeypatch):
    monkeypatch.setattr(audit_views, "ACCESS_PER_PAGE", 3)
    for _ in range(5):
        register_access(register["first"], actor=register["other"], action=AccessAction.VIEW)
    seen, pages, back = _walk(audit_client, reverse("web:audit_access"))
    assert seen == list(AccessEntry.objects.order_by("-pk").values_list("pk", flat=True))
    assert back[-1] == pages[0]


def _sheet(response):
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def test_export_opens_with_openpyxl_and_has_the_rows(audit_client, register):
    rows = _sheet(audit_client.get(reverse("web:audit_access"), {"format": "xlsx"}))
    assert rows[0][:6] == ("登记编号", "时间", "查阅人", "查阅人编号", "记录编号", "方式")
    body = rows[1:]
    assert [r[0] for r in body] == list(
        AccessEntry.objects.order_by("-pk").values_list("pk", flat=True)
    )
    download = next(r for r in body if r[5] == "下载")
    assert (
        download[2] == "李娜" and download[7] == "移送司法机关" and download[8] == "审批〔2026〕3号"
    )
    entry = AccessEntry.objects.get(pk=download[0])
    assert download[1] == timezone.localtime(entry.occurred_at).replace(
        tzinfo=None, microsecond=download[1].microsecond
    )
    filtered = _sheet(
        audit_client.get(reverse("web:audit_access"), {"format": "xlsx", "action": "download"})
    )
    assert len(filtered) == 2
    # each export is itself in the custody log: who, how many rows, which filters (ACC-5)
    from custody.choices import EventCode
    from custody.models import Event

    exports = list(Event.objects.filter(action=EventCode.REGISTER_EXPORTED).order_by("seq"))
    assert len(exports) == 2
    assert exports[0].details == {"rows": len(body), "truncated": False, "filters": {}}
    assert exports[1].details["filters"] == {"action": "download"}
    assert exports[1].details["rows"] == 1


def test_export_is_bounded_and_says_so(audit_client, register, monkeypatch):
    from access import selectors

    monkeypatch.setattr(audit_views, "EXPORT_LIMIT", 2)
    assert selectors.EXPORT_LIMIT == 50_000
    rows = _sheet(audit_client.get(reverse("web:audit_access"), {"format": "xlsx"}))
    data = [r for r in rows[1:] if r and isinstance(r[0], int)]
    assert len(data) == 2
    assert any(r and "只含最新的 2 条" in str(r[0]) for r in rows)


def test_access_query_budget_is_independent_of_rows(
    audit_client, register, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        audit_client.get(reverse("web:audit_access"))
    for _ in range(40):
        register_access(register["first"], actor=register["other"], action=AccessAction.VIEW)
    for params in (
        {},
        {"person": "李娜"},
        {"recording": str(register["first"].pk)},
    ):
        with django_assert_max_num_queries(10):
            assert audit_client.get(reverse("web:audit_access"), params).status_code == 200
    # the export also appends its own custody event (a constant few queries more)
    with django_assert_max_num_queries(16):
        assert audit_client.get(reverse("web:audit_access"), {"format": "xlsx"}).status_code == 200
