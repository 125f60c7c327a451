"""SQLite: the prefix-search indexes of 0002 again, and case-number search within a scope.

1. Migration 0003 added ``Recording.flags``; SQLite adds a column by rebuilding the table, and
   the rebuild re-creates only the indexes the model declares, so the ``COLLATE NOCASE``
   indexes 0002 made (outside the model: PostgreSQL needs ``varchar_pattern_ops`` there
   instead) were gone on every SQLite catalogue migrated since. Re-created here, ``IF NOT
   EXISTS``; PostgreSQL kept them (it adds a column in place), so this is a no-op there.
   Any later migration that rebuilds the SQLite table must re-create them the same way.
2. SQLite has no statistics on how selective a ``LIKE 'prefix%'`` range is, so for a unit
   custodian or a department head it preferred the unit / department index and tested the
   case number on every record in scope: bench/catalogue.py at 1,000,000 records, p95 561 ms
   for the head of a county with 100,000 of them. ``(unit_id, case_number)`` and
   ``(department_id, case_number)`` indexes (NOCASE, as SQLite's LIKE needs) give it one range
   inside the scope. PostgreSQL estimates the prefix itself and already uses the 0002 index.
"""

from importlib import import_module

from django.db import migrations

prefix = import_module("recordings.migrations.0002_prefix_search_indexes")
SCOPED = {
    "rec_unit_case_like_idx": "unit_id",
    "rec_dept_case_like_idx": "department_id",
}
FORWARD = {
    "sqlite": prefix.FORWARD["sqlite"]
    + [
        f"CREATE INDEX IF NOT EXISTS {name} ON recordings_recording ({scope}, case_number COLLATE NOCASE)"
        for name, scope in SCOPED.items()
    ],
    "postgresql": prefix.FORWARD["postgresql"],
}
REVERSE = {"sqlite": [f"DROP INDEX IF EXISTS {name}" for name in SCOPED]}


class Migration(migrations.Migration):
    dependencies = [("recordings", "0004_catalogue_page_indexes")]

    operations = [migrations.RunPython(prefix._run(FORWARD), prefix._run(REVERSE))]
