"""Findings changes pushed to the departments' systems (INT-1): one delivery per active endpoint
of the finding's department and those above, signed with HMAC-SHA256, retried with backoff and
given up after eight attempts. A real HTTP server in a thread receives them."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from activities import webhooks
from activities.catalog import effective_catalog
from activities.choices import DeliveryStatus, FindingCode
from activities.findings import accept_finding, explain_finding
from activities.models import ComplianceFinding, WebhookDelivery, WebhookEndpoint
from activities.services import ActivityValues, CaseValues, create_activity, create_case
from core.testing import make_department, make_person, make_unit

pytestmark = [pytest.mark.django_db, pytest.mark.req("INT-1")]

SECRET = "s3cret-共享密钥"


class Receiver:
    """A local endpoint: answers the statuses it is given in turn (then 200), keeps what it got."""

    def __init__(self):
        self.statuses: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def org():
    province = make_department(name="某省市场监督管理局", level="province")
    city = make_department(parent=province)
    unit = make_unit(city)
    catalog = effective_catalog(city)
    return {
        "province": province, "city": city, "unit": unit,
        "other": make_department(name="另一市场监督管理局"),
        "a": make_person("officer", unit=unit, full_name="张伟"),
        "unit_head": make_person("unit_head", unit=unit),
        "pusher": make_person("department_head", department=city),
        "seizure": next(e.matter for e in catalog if (e.matter.scope, e.matter.code) == ("samr", "seizure")),
    }


def endpoint(department, url, *, active=True, name="办案系统"):
    return WebhookEndpoint.objects.create(department=department, name=name, url=url, secret=SECRET, active=active,
                                          created_at=timezone.now())


def push_seizure(org):
    """A pushed seizure with no recording: a mandatory_not_recorded finding is opened."""
    case = create_case(org["city"], CaseValues(number="某市监处罚〔2026〕7号", party_name="某公司",
                                               external_system="办案系统", external_id="AJ-7"), actor=org["pusher"])
    return create_activity(org["unit"], ActivityValues(
        matter_id=org["seizure"].pk, title="查封现场", officer_ids=(org["a"].pk,), case_id=case.pk,
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1),
        external_system="办案系统", external_id="HD-7"), actor=org["pusher"])


def test_an_opened_finding_is_delivered_signed_to_its_department_and_those_above(
        org, receiver, django_capture_on_commit_callbacks):
    own = endpoint(org["city"], receiver.url("/city"))
    above = endpoint(org["province"], receiver.url("/province"), name="省局监管平台")
    endpoint(org["other"], receiver.url("/other"))
    endpoint(org["city"], receiver.url("/off"), active=False)
    with django_capture_on_commit_callbacks(execute=True):
        activity = push_seizure(org)
    finding = ComplianceFinding.objects.get(activity=activity, code=FindingCode.MANDATORY_NOT_RECORDED)
    deliveries = WebhookDelivery.objects.filter(finding=finding).order_by("endpoint_id")
    assert [d.endpoint_id for d in deliveries] == [own.pk, above.pk]
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    assert all(d.attempts == 1 and d.last_status_code == 200 and d.delivered_at for d in deliveries)
    assert sorted(r["path"] for r in receiver.received) == ["/city", "/province"]

    got = receiver.received[0]
    headers = {k.lower(): v for k, v in got["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert headers["x-avr-event"] == "finding.opened"
    assert headers["x-avr-delivery"] in {str(d.pk) for d in deliveries}
    expected = "sha256=" + hmac.new(SECRET.encode(), got["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-avr-signature"], expected)
    body = json.loads(got["body"])
    assert body["event"] == "finding.opened" and body["occurred_at"]
    assert body["finding"] | {"activity": None, "case": None} == {
        "id": finding.pk, "code": "mandatory_not_recorded", "severity": "high", "state": "open",
        "requirement": finding.requirement, "article": finding.article, "message": finding.message,
        "department_id": org["city"].pk, "unit_id": org["unit"].pk, "activity": None, "case": None,
    }
    assert body["finding"]["activity"] == {"id": activity.pk, "external_system": "办案系统", "external_id": "HD-7"}
    assert body["finding"]["case"]["number"] == "某市监处罚〔2026〕7号"
    assert body["finding"]["case"]["external_id"] == "AJ-7"


def test_explained_accepted_and_resolved_are_pushed_too(org, receiver):
    endpoint(org["city"], receiver.url())
    activity = push_seizure(org)
    finding = ComplianceFinding.objects.get(activity=activity, code=FindingCode.MANDATORY_NOT_RECORDED)
    explain_finding(finding.pk, actor=org["a"], text="设备故障，已报告")
    accept_finding(finding.pk, actor=org["unit_head"], comment="情况属实")
    from core.testing import make_recording

    make_recording(org["a"], start_time=activity.starts_at, end_time=activity.ends_at)  # matched: resolves it
    events = list(WebhookDelivery.objects.filter(finding=finding).order_by("pk").values_list("event_type", flat=True))
    assert events == ["finding.opened", "finding.explained", "finding.accepted", "finding.resolved"]
    states = [d.payload["finding"]["state"] for d in WebhookDelivery.objects.filter(finding=finding).order_by("pk")]
    assert states == ["open", "explained", "accepted", "resolved"]


def test_no_endpoint_no_delivery(org, django_assert_num_queries):
    activity = push_seizure(org)
    finding = ComplianceFinding.objects.get(activity=activity, code=FindingCode.MANDATORY_NOT_RECORDED)
    with django_assert_num_queries(1):
        assert webhooks.queue_finding_change(finding, "opened") == []
    assert not WebhookDelivery.objects.exists()
    with pytest.raises(ValueError):
        webhooks.queue_finding_change(finding, "deleted")


def test_a_500_is_retried_with_backoff_until_delivered(org, receiver):
    receiver.statuses = [500, 503]
    endpoint(org["city"], receiver.url())
    push_seizure(org)  # without commit callbacks: deliver is called here
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0

    before = timezone.now()
    first = webhooks.deliver(delivery.pk)
    assert first.status == DeliveryStatus.PENDING and first.attempts == 1 and first.last_status_code == 500
    assert "500" in first.last_error
    assert before + timedelta(seconds=55) <= first.next_attempt_at <= timezone.now() + timedelta(minutes=1)
    assert webhooks.deliver(delivery.pk) is None  # not due yet: nothing sent
    assert len(receiver.received) == 1

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    second = webhooks.deliver(delivery.pk)
    assert second.attempts == 2 and second.last_status_code == 503
    assert second.next_attempt_at >= timezone.now() + timedelta(seconds=115)  # 2 minutes

    # the periodic task sends what is due (the queue runs tasks inline in the tests)
    from activities.tasks import retry_webhook_deliveries

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    retry_webhook_deliveries.call_local()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3 and delivery.last_error == ""
    assert len(receiver.received) == 3
    ids = {v for r in receiver.received for k, v in r["headers"].items() if k.lower() == "x-avr-delivery"}
    assert ids == {str(delivery.pk)}  # the same delivery each time
    assert len({r["body"] for r in receiver.received}) == 1
    assert webhooks.deliver(delivery.pk) is None  # delivered: never again


def test_given_up_after_eight_attempts(org, receiver):
    receiver.statuses = [500] * 10
    endpoint(org["city"], receiver.url())
    push_seizure(org)
    delivery = WebhookDelivery.objects.get()
    for n in range(1, 9):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        row = webhooks.deliver(delivery.pk)
        assert row.attempts == n
    assert row.status == DeliveryStatus.FAILED and row.next_attempt_at is None
    assert webhooks.deliver(delivery.pk) is None
    assert len(receiver.received) == 8


def test_backoff_doubles_up_to_an_hour():
    assert [webhooks.backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_an_unreachable_or_odd_address_is_a_failed_attempt(org):
    unreachable = endpoint(org["city"], "http://127.0.0.1:9/hook")
    odd = endpoint(org["city"], "file:///etc/passwd", name="错误地址")
    push_seizure(org)
    for ep, words in ((unreachable, "无法送达"), (odd, "推送地址无效")):
        row = webhooks.deliver(WebhookDelivery.objects.get(endpoint=ep).pk)
        assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.last_status_code is None
        assert words in row.last_error


def test_a_redirect_is_not_followed(org, receiver):
    receiver.statuses = [302]
    endpoint(org["city"], receiver.url())
    push_seizure(org)
    row = webhooks.deliver(WebhookDelivery.objects.get().pk)
    assert row.status == DeliveryStatus.PENDING and row.last_status_code == 302
    assert len(receiver.received) == 1


def test_an_endpoint_switched_off_meanwhile_gets_nothing(org, receiver):
    ep = endpoint(org["city"], receiver.url())
    push_seizure(org)
    WebhookEndpoint.objects.filter(pk=ep.pk).update(active=False)
    row = webhooks.deliver(WebhookDelivery.objects.get().pk)
    assert row.status == DeliveryStatus.FAILED and "停用" in row.last_error
    assert receiver.received == []


def test_a_delivery_never_tried_is_picked_up_by_the_periodic_retry(org):
    endpoint(org["city"], "http://127.0.0.1:9/hook")
    push_seizure(org)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.due_deliveries() == []  # its own task is on the way
    later = timezone.now() + webhooks.FIRST_TRY_GRACE + timedelta(seconds=1)
    assert webhooks.due_deliveries(later) == [delivery.pk]
