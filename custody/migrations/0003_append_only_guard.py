"""ACC-5 / promise 2: the database itself refuses UPDATE and DELETE on the custody log."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER custody_event_no_update BEFORE UPDATE ON custody_event
       BEGIN SELECT RAISE(ABORT, 'custody log is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER custody_event_no_delete BEFORE DELETE ON custody_event
       BEGIN SELECT RAISE(ABORT, 'custody log is append-only: DELETE refused'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS custody_event_no_update;",
    "DROP TRIGGER IF EXISTS custody_event_no_delete;",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION custody_event_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'custody log is append-only: % refused', TG_OP; END;
       $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER custody_event_no_update BEFORE UPDATE OR DELETE ON custody_event
       FOR EACH ROW EXECUTE FUNCTION custody_event_refuse();""",
    """CREATE TRIGGER custody_event_no_truncate BEFORE TRUNCATE ON custody_event
       FOR EACH STATEMENT EXECUTE FUNCTION custody_event_refuse();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS custody_event_no_update ON custody_event;",
    "DROP TRIGGER IF EXISTS custody_event_no_truncate ON custody_event;",
    "DROP FUNCTION IF EXISTS custody_event_refuse();",
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
    dependencies = [("custody", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
