"""Promise 4 / issue 7: stored chain verification results only grow, like the log they describe.

The database refuses UPDATE and DELETE on ``custody_chainverification`` (SQLite and PostgreSQL) and
TRUNCATE too (PostgreSQL), the same guard as migration 0003 puts on ``custody_event``.

One difference from 0003: PostgreSQL refuses a TRUNCATE only while the table holds a result, so a
TRUNCATE that removes nothing passes, as a DELETE of no rows passes on SQLite. A database flush
(``manage.py flush``, a transactional test's teardown, ``TRUNCATE orgs_person CASCADE``, which
reaches this table through its actor foreign key) is refused once a verification is stored and
is not blocked by this table before.
"""

from django.db import migrations

from core.guards import append_only_guard


class Migration(migrations.Migration):
    dependencies = [("custody", "0005_chain_verification")]

    operations = [
        append_only_guard(
            ("custody_chainverification",),
            function="custody_chainverification_refuse",
            what="chain verification results",
            truncate_when_empty=True,
        ),
    ]
