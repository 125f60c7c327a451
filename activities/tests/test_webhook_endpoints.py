"""A department's webhook endpoints (INT-1): added, stopped and started, their secret replaced by
the people who keep its compliance settings, each change in the custody log — the secret never
is. Addresses other than http(s) ones, or malformed, are refused in Chinese."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from activities.catalog import effective_catalog
from activities.models import ComplianceFinding, WebhookDelivery, WebhookEndpoint
from activities.rules import can_manage_integration
from activities.services import ActivityValues, create_activity
from activities.webhooks import (
    MAX_ENDPOINTS,
    WebhookError,
    create_endpoint,
    rotate_endpoint_secret,
    set_endpoint_active,
)
from core.errors import ConflictError, NotFoundError, PermissionDeniedError
from core.testing import make_department, make_person, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("INT-1")]

URL = "https://case.example.gov.cn/hooks/avr"


@pytest.fixture
def org():
    city = make_department()
    county = make_department(name="某县市场监督管理局", level="county", parent=city)
    unit = make_unit(county)
    return {
        "city": city, "county": county,
        "head": make_person("department_head", department=county, full_name="赵磊"),
        "legal": make_person("legal_office", department=county, full_name="法制员"),
        "city_head": make_person("department_head", department=city),
        "unit_head": make_person("unit_head", unit=unit),
        "officer": make_person("officer", unit=unit),
        "security": make_person("security_admin", department=county),
    }


def _events(code):
    return list(Event.objects.filter(action=code).order_by("pk"))


def _all_details() -> str:
    return json.dumps([e.details for e in Event.objects.all()], ensure_ascii=False)


def test_an_endpoint_is_added_with_a_fresh_secret_and_logged_without_it(org):
    endpoint = create_endpoint(org["county"], actor=org["head"], name="  案件办理系统 ", url=URL)
    assert (endpoint.name, endpoint.url, endpoint.active, endpoint.created_by_id) == (
        "案件办理系统", URL, True, org["head"].pk)
    assert len(endpoint.secret) >= 40  # token_urlsafe(32): 43 characters
    other = create_endpoint(org["county"], actor=org["legal"], name="监管平台", url="http://10.2.3.4:8080/in")
    assert other.secret != endpoint.secret
    [event, _second] = _events(EventCode.WEBHOOK_ADDED)
    assert event.actor_id == org["head"].pk
    assert event.details == {"name": "案件办理系统", "webhook_url": URL}
    assert endpoint.secret not in _all_details() and other.secret not in _all_details()


def test_an_endpoint_is_stopped_and_started_again(org):
    endpoint = create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL)
    stopped = set_endpoint_active(endpoint.pk, actor=org["legal"], active=False)
    assert stopped.active is False and WebhookEndpoint.objects.get(pk=endpoint.pk).active is False
    with pytest.raises(ConflictError):  # already stopped: nothing written
        set_endpoint_active(endpoint.pk, actor=org["legal"], active=False)
    set_endpoint_active(endpoint.pk, actor=org["head"], active=True)
    changes = _events(EventCode.WEBHOOK_CHANGED)
    assert [e.details for e in changes] == [
        {"name": "案件办理系统", "webhook_url": URL, "webhook_active": False, "secret_rotated": False},
        {"name": "案件办理系统", "webhook_url": URL, "webhook_active": True, "secret_rotated": False},
    ]
    assert [e.actor_id for e in changes] == [org["legal"].pk, org["head"].pk]


def test_a_rotated_secret_replaces_the_old_one_and_is_never_logged(org):
    endpoint = create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL)
    old = endpoint.secret
    rotated = rotate_endpoint_secret(endpoint.pk, actor=org["head"])
    assert rotated.secret != old and WebhookEndpoint.objects.get(pk=endpoint.pk).secret == rotated.secret
    [event] = _events(EventCode.WEBHOOK_CHANGED)
    assert event.details == {"name": "案件办理系统", "webhook_url": URL, "webhook_active": True,
                             "secret_rotated": True}
    everything = _all_details()
    assert old not in everything and rotated.secret not in everything


@pytest.mark.parametrize("url", [
    "", "   ", "ftp://case.example.gov.cn/in", "javascript:alert(1)", "file:///etc/passwd",
    "gopher://10.0.0.1/", "case.example.gov.cn/hooks", "https://", "https:///path", "http://exa mple.gov.cn/",
    "https://user:pass@case.example.gov.cn/", "https://case.example.gov.cn:99999/", "https://case.example.gov.cn:x/",
    "https://case.example.gov.cn/\x00", "https://" + "a" * 490 + ".cn/",
])
def test_bad_addresses_are_refused_in_chinese(org, url):
    with pytest.raises(WebhookError) as refused:
        create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=url)
    assert refused.value.code == "url"
    assert any("\u4e00" <= c <= "\u9fff" for c in refused.value.message)
    assert not WebhookEndpoint.objects.exists() and not _events(EventCode.WEBHOOK_ADDED)


@pytest.mark.parametrize("name", ["", "   ", "名" * 101])
def test_a_name_is_required_and_bounded(org, name):
    with pytest.raises(WebhookError) as refused:
        create_endpoint(org["county"], actor=org["head"], name=name, url=URL)
    assert refused.value.code == "name" and "名称" in refused.value.message
    assert not WebhookEndpoint.objects.exists()


def test_names_are_unique_in_a_department_and_their_number_bounded(org):
    create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL)
    with pytest.raises(WebhookError, match="已有名为"):
        create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL + "2")
    create_endpoint(org["city"], actor=org["city_head"], name="案件办理系统", url=URL)  # another department's
    for n in range(MAX_ENDPOINTS - 1):
        create_endpoint(org["county"], actor=org["head"], name=f"系统{n}", url=URL)
    with pytest.raises(ConflictError):
        create_endpoint(org["county"], actor=org["head"], name="多出的一个", url=URL)
    assert WebhookEndpoint.objects.filter(department=org["county"]).count() == MAX_ENDPOINTS


def test_only_the_departments_head_and_legal_office_manage_its_endpoints(org):
    assert can_manage_integration(org["head"], org["county"]) and can_manage_integration(org["legal"], org["county"])
    for who in ("officer", "unit_head", "security", "city_head"):  # the city head is not the county's
        assert not can_manage_integration(org[who], org["county"])
        with pytest.raises(PermissionDeniedError):
            create_endpoint(org["county"], actor=org[who], name="案件办理系统", url=URL)
    endpoint = create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL)
    secret = endpoint.secret
    for who in ("officer", "unit_head", "security"):  # of the department: refused
        with pytest.raises(PermissionDeniedError):
            set_endpoint_active(endpoint.pk, actor=org[who], active=False)
        with pytest.raises(PermissionDeniedError):
            rotate_endpoint_secret(endpoint.pk, actor=org[who])
    with pytest.raises(NotFoundError):  # another department's endpoint is not theirs to know
        rotate_endpoint_secret(endpoint.pk, actor=org["city_head"])
    with pytest.raises(NotFoundError):
        set_endpoint_active(999_999_999, actor=org["head"], active=False)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.secret == secret
    assert not _events(EventCode.WEBHOOK_CHANGED)
    org["head"].is_active = False
    org["head"].save(update_fields=["is_active"])
    assert not can_manage_integration(org["head"], org["county"])


def test_a_stopped_endpoint_gets_no_new_deliveries(org):
    """The queue only pushes to active endpoints (activities.webhooks.queue_finding_change)."""
    endpoint = create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url="http://127.0.0.1:9/")
    set_endpoint_active(endpoint.pk, actor=org["head"], active=False)
    seizure = next(e for e in effective_catalog(org["county"]) if e.matter.code == "seizure")
    create_activity(org["officer"].unit, ActivityValues(
        matter_id=seizure.matter.pk, title="查封现场", officer_ids=(org["officer"].pk,),
        starts_at=timezone.now()), actor=org["officer"])
    assert ComplianceFinding.objects.exists()
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()
