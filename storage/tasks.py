"""Scheduled work on the vault (thin: select ids, call services)."""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from core.choices import CheckTrigger
from core.context import correlation
from storage.selectors import list_objects_due_for_fixity
from storage.services import run_fixity_check

logger = logging.getLogger(__name__)


def fixity_sweep_once() -> dict[str, int]:
    """Re-verify the AVR_FIXITY_BATCH objects checked least recently; every check leaves a result."""
    counts = {"pass": 0, "fail": 0, "not_run": 0}
    with correlation():
        for obj in list_objects_due_for_fixity(settings.FIXITY_BATCH):
            check = run_fixity_check(obj, actor=None, trigger=CheckTrigger.SCHEDULED)
            counts[check.status] += 1
    if counts["fail"] or counts["not_run"]:
        logger.error("fixity sweep: %s", counts)
    else:
        logger.info("fixity sweep: %s", counts)
    return counts


@db_periodic_task(crontab(minute="17"))
def fixity_sweep() -> dict[str, int]:
    """Hourly (at :17): ING-2 / promise 1, originals re-verified on a schedule."""
    return fixity_sweep_once()
