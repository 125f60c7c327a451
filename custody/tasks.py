"""Background work of the custody log: integration, checkpoints, daily verification (ACC-5)."""

import time

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from core.choices import CheckTrigger
from core.context import correlation
from core.locks import LockBusy, exclusive
from custody.checkpoints import checkpoint_due, make_checkpoint
from custody.printable import write_daily
from custody.sequencer import integrate_all, integrate_pending
from custody.services import verify_custody_chain

# While events keep arriving, the running task keeps integrating; it stops after this many
# idle polls (of IDLE_POLL seconds) so one worker thread is not held for ever.
IDLE_POLLS = 4
IDLE_POLL = 0.25


# One integrating task at a time across the cluster. A lock of core.locks (PostgreSQL advisory
# lock / flock), not Huey's lock_task: it goes with its holder, so a worker killed mid-task does
# not leave every later kick a no-op (Huey's Redis lock has no expiry).
INTEGRATE_LOCK = "custody-integrate"


@db_task()
def integrate_log():
    try:
        with exclusive(INTEGRATE_LOCK):
            _integrate_while_busy()
    except LockBusy:
        return  # another worker thread is integrating, and it picks these events up too


def _integrate_while_busy() -> None:
    idle = 0
    while True:
        if integrate_pending():
            idle = 0
            continue
        if HUEY.immediate or idle >= IDLE_POLLS:
            return
        idle += 1
        time.sleep(IDLE_POLL)


@db_periodic_task(crontab(minute="*"))
def integrate_and_checkpoint():
    """Every minute: integrate what is left; sign a checkpoint when one is due (every
    AVR_LOG_CHECKPOINT_MINUTES, default 5)."""
    with correlation():
        integrate_all()
        if checkpoint_due():
            make_checkpoint(trigger=CheckTrigger.SCHEDULED)


@db_periodic_task(crontab(hour="0", minute="5"))
def daily_printable_checkpoint():
    """Each morning: a checkpoint of the tree as it is, written as text and PDF under
    $AVR_VAR_DIR/checkpoints/ for printing into the paper file."""
    with correlation():
        write_daily(make_checkpoint(trigger=CheckTrigger.SCHEDULED))


@db_task()
def verify_custody_chain_task(actor_id: int | None, trigger: str):
    """A verification asked for on the audit page, run by the worker."""
    from orgs.models import Person

    with correlation():
        actor = Person.objects.filter(pk=actor_id).first() if actor_id else None
        verify_custody_chain(actor=actor, trigger=trigger)


@db_periodic_task(crontab(hour="2", minute="30"))
def verify_custody_chain_daily():
    with correlation():
        verify_custody_chain(actor=None, trigger=CheckTrigger.SCHEDULED)


__all__ = ["integrate_log", "integrate_and_checkpoint", "verify_custody_chain_daily"]
