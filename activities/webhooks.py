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
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.choices import DeliveryStatus
from activities.models import WebhookDelivery, WebhookEndpoint

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
