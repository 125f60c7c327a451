"""Background work of the activities app: findings pushed to the departments' systems (INT-1)
and the periodic compliance sweep (SUP-2). Thin Huey tasks that take ids (habit 2)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from core.context import correlation


@db_task()
def deliver_webhook(delivery_id: int) -> None:
    """Send one findings change to one endpoint (activities.webhooks.deliver)."""
    from activities.webhooks import deliver

    with correlation():
        deliver(delivery_id)


@db_periodic_task(crontab(minute="*"))
def retry_webhook_deliveries() -> None:
    """Every minute: the deliveries whose retry is due (backoff 1, 2, 4 … minutes)."""
    from activities.webhooks import retry_due

    with correlation():
        retry_due()


@db_periodic_task(crontab(minute="20"))
def sweep_compliance_hourly() -> None:
    """Every hour: every activity and open case file checked again — findings that come with
    time alone (a pushed inspection task still unrecorded 24 hours after it ended, an archive
    deadline passed) are opened, and so pushed to the departments' systems."""
    from activities.findings import sweep_compliance

    with correlation():
        sweep_compliance()


@db_task()
def file_unfiled_recordings() -> None:
    """The recordings catalogued before their case and matter were linked (REC-9; after an
    upgrade, queued by the migration rather than run inside it): activities.filing."""
    from activities.filing import file_unfiled

    with correlation():
        file_unfiled()


__all__ = ["deliver_webhook", "file_unfiled_recordings", "retry_webhook_deliveries", "sweep_compliance_hourly"]
