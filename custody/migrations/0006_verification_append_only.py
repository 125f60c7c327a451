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

SQLITE = [
    """CREATE TRIGGER custody_chainverification_no_update BEFORE UPDATE ON custody_chainverification
       BEGIN SELECT RAISE(ABORT, 'chain verification results are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER custody_chainverification_no_delete BEFORE DELETE ON custody_chainverification
       BEGIN SELECT RAISE(ABORT, 'chain verification results are append-only: DELETE refused'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS custody_chainverification_no_update;",
    "DROP TRIGGER IF EXISTS custody_chainverification_no_delete;",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION custody_chainverification_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'chain verification results are append-only: % refused', TG_OP; END;
       $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER custody_chainverification_no_update BEFORE UPDATE OR DELETE ON custody_chainverification
       FOR EACH ROW EXECUTE FUNCTION custody_chainverification_refuse();""",
    # TRUNCATE takes its ACCESS EXCLUSIVE lock before BEFORE TRUNCATE triggers fire: no row can
    # be committed between this check and the truncation.
    """CREATE OR REPLACE FUNCTION custody_chainverification_refuse_truncate() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM custody_chainverification) THEN
           RAISE EXCEPTION 'chain verification results are append-only: TRUNCATE refused';
         END IF;
         RETURN NULL;
       END;
       $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER custody_chainverification_no_truncate BEFORE TRUNCATE ON custody_chainverification
       FOR EACH STATEMENT EXECUTE FUNCTION custody_chainverification_refuse_truncate();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS custody_chainverification_no_update ON custody_chainverification;",
    "DROP TRIGGER IF EXISTS custody_chainverification_no_truncate ON custody_chainverification;",
    "DROP FUNCTION IF EXISTS custody_chainverification_refuse();",
    "DROP FUNCTION IF EXISTS custody_chainverification_refuse_truncate();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"no append-only guard for {schema_editor.connection.vendor}")
        for sql in statements:
            schema_editor.execute(sql, params=None)  # no %-interpolation: the SQL has literal %

    return run


class Migration(migrations.Migration):
    dependencies = [("custody", "0005_chain_verification")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
