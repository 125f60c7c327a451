"""Indexes that serve the catalogue's prefix searches (case number, party, filename).

``RecordingFilter`` searches with ``__startswith`` (SQL ``LIKE 'x%'``). A plain
index cannot serve that on SQLite (LIKE is case-insensitive there, so SQLite
needs a NOCASE index) nor on PostgreSQL under a non-C collation (it needs the
``varchar_pattern_ops`` operator class). Without them a case-number search scans
every record a user may see: measured at 1,000,000 records by bench/catalogue.py,
p95 364 ms on SQLite before, a few ms after.
"""

from django.db import migrations

COLUMNS = {
    "rec_case_like_idx": "case_number",
    "rec_party_like_idx": "party",
    "rec_filename_like_idx": "original_filename",
}

FORWARD = {
    "sqlite": [
        f"CREATE INDEX IF NOT EXISTS {name} ON recordings_recording ({column} COLLATE NOCASE)"
        for name, column in COLUMNS.items()
    ],
    "postgresql": [
        f"CREATE INDEX IF NOT EXISTS {name} ON recordings_recording ({column} varchar_pattern_ops)"
        for name, column in COLUMNS.items()
    ],
}
REVERSE = {vendor: [f"DROP INDEX IF EXISTS {name}" for name in COLUMNS] for vendor in FORWARD}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("recordings", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(REVERSE))]
