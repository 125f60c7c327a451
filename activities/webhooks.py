"""Pushing findings changes to the departments' case-handling and supervision systems (INT-1).

``queue_finding_change(finding, change)`` is called where a finding is opened (or found again),
resolved, explained or accepted (activities.findings), inside that change's transaction: it
writes one ``WebhookDelivery`` per active ``WebhookEndpoint`` of the finding's department and of
every department above it (a superior department supervises its subordinates), and after the
transaction commits the worker is asked to deliver each (activities.tasks.deliver_webhook).

``deliver(delivery_id)`` POSTs the payload as JSON with

- ``Content-Type: application/json``,
- ``X-AVR-Event``: ``finding.opened`` / ``finding.resolved`` / ``finding.explained`` /
  ``finding.accepted``,
- ``X-AVR-Delivery``: the delivery's id (the same on every retry: a receiver drops repeats by it),
- ``X-AVR-Signature``: ``sha256=`` + the hex HMAC-SHA256 of the body under the endpoint's secret;

10 seconds at most, no redirects followed. A 2xx answer delivers it; anything else (another
status, no answer, a refused connection) is counted, and it is tried again after 1, 2, 4 … minutes
(at most an hour apart), up to ``MAX_ATTEMPTS`` attempts, then given up (``failed``). The
periodic task (activities.tasks.retry_webhook_deliveries) sends what is due. A delivery is
claimed before it is sent, so the task and the periodic retry never send it twice at once.

The standard library's ``urllib.request`` sends them: ``requests`` is only a test dependency.

A department's endpoints are kept by the people who keep its compliance settings
(activities.rules.can_manage_integration): ``create_endpoint``, ``set_endpoint_active`` and
``rotate_endpoint_secret``, each with its custody event. The secret is made here
(``secrets.token_urlsafe(32)``), handed back once to be shown once, and never written to the
custody log.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import urllib.error
import urllib.request
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.choices import DeliveryStatus
from activities.models import WebhookDelivery, WebhookEndpoint
from activities.rules import can_manage_integration
from core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from custody.choices import EventCode
from custody.services import record_event

logger = logging.getLogger(__name__)

CHANGES = ("opened", "resolved", "explained", "accepted")
TIMEOUT = 10  # seconds
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)
# a claimed delivery is not claimed again for this long (a worker that died while sending it
# leaves it to the periodic retry afterwards)
LEASE = timedelta(seconds=TIMEOUT * 6)
# a delivery never tried is left to the task its transaction enqueued for this long before the
# periodic retry sends it (the queue was unreachable when it committed)
FIRST_TRY_GRACE = timedelta(minutes=5)
RETRY_BATCH = 200
USER_AGENT = "avrecords-webhook/1"
MAX_NAME = 100  # WebhookEndpoint.name
MAX_URL = 500  # WebhookEndpoint.url
MAX_ENDPOINTS = 20  # per department
SCHEMES = ("http", "https")


class WebhookError(DomainError):
    """A refused endpoint change; ``code`` names the field it is about (``name``, ``url``) when
    it is about one."""


# ---------------------------------------------------------------------------- endpoints


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name or len(name) > MAX_NAME:
        raise WebhookError(_("请填写名称（最多 %(n)s 字），例如“案件办理系统”。") % {"n": MAX_NAME}, code="name")
    return name


def clean_url(url) -> str:
    """An absolute http or https address of at most MAX_URL characters, with a host and without
    user name or password (the secret signs the deliveries; credentials in an address would be
    shown on the page and in the custody log)."""
    url = str(url or "").strip()
    if not url:
        raise WebhookError(_("请填写推送地址。"), code="url")
    if len(url) > MAX_URL:
        raise WebhookError(_("推送地址最多 %(n)s 个字符（当前 %(len)s 个）。") % {"n": MAX_URL, "len": len(url)},
                           code="url")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise WebhookError(_("推送地址中不能有空格或控制字符。"), code="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises)
    except ValueError as exc:
        raise WebhookError(_("推送地址格式不正确。"), code="url") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise WebhookError(_("推送地址须以 http:// 或 https:// 开头，不接受其他协议。"), code="url")
    if parts.username is not None or parts.password is not None:
        raise WebhookError(_("推送地址中不能包含用户名或密码；推送以签名密钥验证。"), code="url")
    if not parts.hostname:
        raise WebhookError(_("推送地址须写明对方系统的主机名或 IP 地址。"), code="url")
    try:
        URLValidator(schemes=list(SCHEMES))(url)
    except ValidationError as exc:
        raise WebhookError(_("推送地址格式不正确，请填写完整的网址（含主机名和路径）。"), code="url") from exc
    return url


def _may_manage(actor, department) -> None:
    if not can_manage_integration(actor, department):
        raise PermissionDeniedError(_("只有本部门负责人或法制机构可以管理推送地址。"))


def create_endpoint(department, *, actor, name: str, url: str) -> WebhookEndpoint:
    """A new, active endpoint of ``department`` with a fresh secret; the returned endpoint's
    ``secret`` is to be shown to the person once (it is never shown again)."""
    _may_manage(actor, department)
    name, url = clean_name(name), clean_url(url)
    from orgs.models import Department

    with transaction.atomic():
        # one department's endpoints are added one at a time (the name and count checks hold)
        Department.objects.select_for_update().filter(pk=department.pk).first()
        names = set(WebhookEndpoint.objects.filter(department=department).values_list("name", flat=True))
        if name in names:
            raise WebhookError(_("本部门已有名为“%(name)s”的推送地址。") % {"name": name}, code="name")
        if len(names) >= MAX_ENDPOINTS:
            raise ConflictError(_("每个部门最多 %(n)s 个推送地址；请先停用并整理不用的地址。") % {"n": MAX_ENDPOINTS})
        endpoint = WebhookEndpoint.objects.create(
            department=department, name=name, url=url, secret=new_secret(), active=True,
            created_at=timezone.now(), created_by=actor)
        record_event(EventCode.WEBHOOK_ADDED, actor=actor, subject=endpoint,
                     also=[("department", str(department.pk))],
                     details={"name": endpoint.name, "webhook_url": endpoint.url})
    return endpoint


def _managed(endpoint_id: int, actor) -> WebhookEndpoint:
    """The endpoint, locked; another department's is not found (its existence is not theirs to
    know), one of the actor's own department they may not manage is refused."""
    endpoint = (WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("department")
                .filter(pk=endpoint_id).first())
    if endpoint is None or getattr(actor, "department_id", None) != endpoint.department_id:
        raise NotFoundError(_("推送地址不存在或您无权管理。"))
    _may_manage(actor, endpoint.department)
    return endpoint


def _changed(endpoint: WebhookEndpoint, actor, *, secret_rotated: bool) -> None:
    record_event(EventCode.WEBHOOK_CHANGED, actor=actor, subject=endpoint,
                 also=[("department", str(endpoint.department_id))],
                 details={"name": endpoint.name, "webhook_url": endpoint.url, "webhook_active": endpoint.active,
                          "secret_rotated": secret_rotated})


def set_endpoint_active(endpoint_id: int, *, actor, active: bool) -> WebhookEndpoint:
    """Start or stop pushing to an endpoint. A stopped endpoint gets no new deliveries, and its
    pending ones are given up when they come due (``deliver``)."""
    active = bool(active)
    with transaction.atomic():
        endpoint = _managed(endpoint_id, actor)
        if endpoint.active == active:
            raise ConflictError(_("该推送地址已启用。") if active else _("该推送地址已停用。"))
        endpoint.active = active
        endpoint.save(update_fields=["active"])
        _changed(endpoint, actor, secret_rotated=False)
    return endpoint


def rotate_endpoint_secret(endpoint_id: int, *, actor) -> WebhookEndpoint:
    """A new secret for an endpoint (the old one stops working at once: deliveries sent from now
    on, retries too, are signed with the new one); the returned endpoint's ``secret`` is to be
    shown once."""
    with transaction.atomic():
        endpoint = _managed(endpoint_id, actor)
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret"])
        _changed(endpoint, actor, secret_rotated=True)
    return endpoint


# ---------------------------------------------------------------------------- queuing


def finding_payload(finding, change: str, occurred_at) -> dict:
    activity = finding.activity if finding.activity_id else None
    case = finding.case if finding.case_id else (activity.case if activity is not None and activity.case_id else None)
    return {
        "event": f"finding.{change}",
        "finding": {
            "id": finding.pk,
            "code": finding.code,
            "severity": finding.severity,
            "state": finding.state,
            "requirement": finding.requirement,
            "article": finding.article,
            "message": finding.message,
            "department_id": finding.department_id,
            "unit_id": finding.unit_id,
            "activity": None if activity is None else {
                "id": activity.pk, "external_system": activity.external_system,
                "external_id": activity.external_id,
            },
            "case": None if case is None else {
                "id": case.pk, "number": case.number, "external_system": case.external_system,
                "external_id": case.external_id,
            },
        },
        "occurred_at": occurred_at.isoformat(),
    }


def _departments_up(department_id: int) -> set[int]:
    """``department_id`` and every department above it."""
    from orgs.models import Department

    parents = dict(Department.objects.values_list("pk", "parent_id"))
    chain, node = set(), department_id
    while node is not None and node not in chain:
        chain.add(node)
        node = parents.get(node)
    return chain


def queue_finding_change(finding, change: str) -> list[WebhookDelivery]:
    """A delivery of this change of ``finding`` to every active endpoint of its department and
    the departments above; each is sent after the caller's transaction commits."""
    if change not in CHANGES:
        raise ValueError(f"unknown finding change {change!r}")
    active = list(WebhookEndpoint.objects.filter(active=True).values_list("pk", "department_id"))
    if not active:  # the usual case: one query
        return []
    chain = _departments_up(finding.department_id)
    endpoint_ids = [pk for pk, department_id in active if department_id in chain]
    if not endpoint_ids:
        return []
    now = timezone.now()
    payload = json.loads(json.dumps(finding_payload(finding, change, now), cls=DjangoJSONEncoder))
    deliveries = []
    for endpoint_id in sorted(endpoint_ids):
        delivery = WebhookDelivery.objects.create(
            endpoint_id=endpoint_id, finding=finding, event_type=payload["event"], payload=payload,
            status=DeliveryStatus.PENDING, created_at=now)
        transaction.on_commit(partial(_enqueue, delivery.pk))
        deliveries.append(delivery)
    return deliveries


def _enqueue(delivery_id: int) -> None:
    """Ask the worker to deliver; a queue that cannot be reached is logged, never raised (the
    change has committed): the periodic retry sends it later."""
    from activities.tasks import deliver_webhook

    try:
        deliver_webhook(delivery_id)
    except Exception:
        logger.exception("could not enqueue webhook delivery %s; the periodic retry will send it", delivery_id)


# ---------------------------------------------------------------------------- delivering


def body_of(payload: dict) -> bytes:
    """The bytes sent (and signed): compact UTF-8 JSON, keys sorted."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed attempt a delivery is tried again."""
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx one: the body is not sent on elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """(HTTP status or None, error text)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, _("推送地址无效（须为 http 或 https 地址）。")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            response.read(64 * 1024)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, _("对方返回 HTTP %(code)s。") % {"code": exc.code}
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return None, _("无法送达：%(reason)s") % {"reason": str(reason)[:400]}


def _claim(delivery_id: int, now) -> bool:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return bool(WebhookDelivery.objects.filter(due, pk=delivery_id, status=DeliveryStatus.PENDING)
                .update(next_attempt_at=now + LEASE))


def deliver(delivery_id: int) -> WebhookDelivery | None:
    """Send one pending, due delivery and record the outcome; None when there was nothing to send
    (delivered, given up, not due yet, or being sent by another worker)."""
    if not _claim(delivery_id, timezone.now()):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.last_error = _("推送地址已停用。")
        delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
        return delivery
    body = body_of(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-AVR-Event": delivery.event_type,
        "X-AVR-Delivery": str(delivery.pk),
        "X-AVR-Signature": signature(endpoint.secret, body),
    }
    status, error = _post(endpoint.url, body, headers)
    return _record(delivery.pk, status, error)


def _record(delivery_id: int, status: int | None, error: str) -> WebhookDelivery:
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_status_code = status if status is not None and 0 < status < 1000 else None
        if status is not None and 200 <= status < 300:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
            delivery.next_attempt_at, delivery.last_error = None, ""
        else:
            delivery.last_error = (error or _("对方返回 HTTP %(code)s。") % {"code": status})[:500]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            else:
                delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save(update_fields=["attempts", "last_status_code", "status", "delivered_at",
                                     "next_attempt_at", "last_error"])
    if delivery.status == DeliveryStatus.FAILED:
        logger.warning("webhook delivery %s given up after %s attempts: %s", delivery.pk, delivery.attempts,
                       delivery.last_error)
    return delivery


def due_deliveries(now=None) -> list[int]:
    """The ids of the pending deliveries to send now, oldest first."""
    now = now or timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=now - FIRST_TRY_GRACE)
    return list(WebhookDelivery.objects.filter(due, status=DeliveryStatus.PENDING)
                .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:RETRY_BATCH])


def retry_due() -> int:
    """Ask the worker to send every due delivery; how many were asked for."""
    ids = due_deliveries()
    for delivery_id in ids:
        _enqueue(delivery_id)
    return len(ids)
