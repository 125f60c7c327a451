"""``GET /healthz``: may a load balancer or a monitor send requests to this node now?

It answers without a session (monitors have none) and reads no record, so it is not an access
and writes no custody event — it would otherwise flood the log every few seconds. It tells a
caller only ``ok`` / ``unavailable`` per dependency; the reason goes to the node's log.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _vault() -> None:
    from storage.backends import get_vault

    get_vault().ping()


CHECKS = {"database": _database, "vault": _vault}


@never_cache
@require_safe
def healthz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception:
            logger.exception("health check %s failed", name)
            results[name] = "unavailable"
    healthy = all(value == "ok" for value in results.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **results},
                        status=200 if healthy else 503)
