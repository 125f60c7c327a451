"""Periodic re-verification of the custody chain (ACC-5, promise 4)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from core.choices import CheckTrigger
from core.context import correlation
from custody.services import verify_custody_chain


@db_periodic_task(crontab(hour="2", minute="30"))
def verify_custody_chain_daily():
    with correlation():
        verify_custody_chain(actor=None, trigger=CheckTrigger.SCHEDULED)
