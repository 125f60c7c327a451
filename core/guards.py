"""Append-only tables, guarded by the database itself (promises 2 and 3).

``append_only_guard(...)`` is a migration operation: on SQLite, triggers refuse UPDATE and
DELETE; on PostgreSQL, row triggers refuse UPDATE and DELETE and a statement trigger refuses
TRUNCATE (optionally only while the table holds rows, so a flush of an empty table passes).
Trigger names are ``<table>_no_update`` / ``<table>_no_delete`` / ``<table>_no_truncate``; the
tamper tests drop them by these names. Used by the custody log, the chain verification results
and the access register; every later append-only table (checkpoints, tree nodes) uses it too.
"""

from __future__ import annotations

from django.db import migrations


def _sqlite(table: str, what: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{what} is append-only: UPDATE refused'); END;""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, '{what} is append-only: DELETE refused'); END;""",
    ]


def _sqlite_reverse(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


def _postgres(table: str, function: str, truncate_function: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
           FOR EACH ROW EXECUTE FUNCTION {function}();""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
           FOR EACH STATEMENT EXECUTE FUNCTION {truncate_function}();""",
    ]


def _postgres_reverse(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
    ]


def guard_statements(
    tables: tuple[str, ...], *, function: str, what: str, truncate_when_empty: bool = False
) -> dict[str, tuple[list[str], list[str]]]:
    """{vendor: (create statements, drop statements)} for the guard of ``tables``."""
    refuse = f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '{what} is append-only: % refused', TG_OP; END;
       $$ LANGUAGE plpgsql;"""
    postgres, postgres_reverse = [refuse], []
    truncate_function = function
    if truncate_when_empty:
        if len(tables) != 1:
            raise ValueError("truncate_when_empty guards one table")
        truncate_function = f"{function}_truncate"
        # TRUNCATE takes its ACCESS EXCLUSIVE lock before BEFORE TRUNCATE triggers fire: no row
        # can be committed between this check and the truncation.
        postgres.append(
            f"""CREATE OR REPLACE FUNCTION {truncate_function}() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM {tables[0]}) THEN
           RAISE EXCEPTION '{what} is append-only: TRUNCATE refused';
         END IF;
         RETURN NULL;
       END;
       $$ LANGUAGE plpgsql;"""
        )
    for table in tables:
        postgres += _postgres(table, function, truncate_function)
        postgres_reverse += _postgres_reverse(table)
    postgres_reverse.append(f"DROP FUNCTION IF EXISTS {function}();")
    if truncate_when_empty:
        postgres_reverse.append(f"DROP FUNCTION IF EXISTS {truncate_function}();")
    sqlite = [sql for table in tables for sql in _sqlite(table, what)]
    sqlite_reverse = [sql for table in tables for sql in _sqlite_reverse(table)]
    return {"sqlite": (sqlite, sqlite_reverse), "postgresql": (postgres, postgres_reverse)}


def append_only_guard(tables, *, function: str, what: str, truncate_when_empty: bool = False):
    """The migration operation that installs (and, reversed, removes) the guard."""
    statements = guard_statements(
        tuple(tables), function=function, what=what, truncate_when_empty=truncate_when_empty
    )

    def run(index: int):
        def apply(apps, schema_editor):
            vendor = schema_editor.connection.vendor
            if vendor not in statements:
                raise RuntimeError(f"no append-only guard for {vendor}")
            for sql in statements[vendor][index]:
                schema_editor.execute(sql, params=None)  # no %-interpolation: the SQL has literal %

        return apply

    return migrations.RunPython(run(0), run(1))
