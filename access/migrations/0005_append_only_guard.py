"""ACC-2 / promise 3: the database itself refuses UPDATE and DELETE on the access register.

The same guard as the custody log (custody/migrations/0003_append_only_guard.py), on both
register tables: the entries and the bytes served under them.
"""

from django.db import migrations

TABLES = ("access_accessentry", "access_servedrange")


def _sqlite(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, 'access register is append-only: UPDATE refused'); END;""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, 'access register is append-only: DELETE refused'); END;""",
    ]


def _sqlite_reverse(table):
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


def _postgres(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
           FOR EACH ROW EXECUTE FUNCTION access_register_refuse();""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
           FOR EACH STATEMENT EXECUTE FUNCTION access_register_refuse();""",
    ]


def _postgres_reverse(table):
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
    ]


SQLITE = [sql for table in TABLES for sql in _sqlite(table)]
SQLITE_REVERSE = [sql for table in TABLES for sql in _sqlite_reverse(table)]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION access_register_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'access register is append-only: % refused', TG_OP; END;
       $$ LANGUAGE plpgsql;""",
    *[sql for table in TABLES for sql in _postgres(table)],
]
POSTGRES_REVERSE = [
    *[sql for table in TABLES for sql in _postgres_reverse(table)],
    "DROP FUNCTION IF EXISTS access_register_refuse();",
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
    dependencies = [("access", "0004_served_ranges")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
