"""The unit and department catalogue indexes carry the page order and the list's filters.

``count_capped`` counts up to 10,001 of the rows a unit custodian or a department head may see
under the list's filters (date range, media kind, status, timeliness). With the old
``(unit, -start_time)`` / ``(department, -start_time)`` indexes PostgreSQL had to read every
counted row from the table to test ``media_kind`` and ``flagged``: measured by
bench/catalogue.py at 10,000,000 recordings, the capped count alone took 51 ms for the head of
a county holding 1,000,000 of them (5,500 heap pages), 34 ms for a unit custodian. With the
filter columns in the key it is an index-only scan (78 index pages, 2 ms). ``-id`` makes the key
the list's exact order (``-start_time, -id``), and keeps the extra columns from changing it.

Key columns rather than ``INCLUDE`` so that SQLite builds the same covering index (it has no
INCLUDE, and Django warns, models.W040, about an index with non-key columns there).

The new indexes are built before the old ones are dropped, so a unit's list is never without
one; on PostgreSQL each build takes a write lock on the catalogue for about 20–40 s at 10M rows.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("recordings", "0003_recording_flags")]

    operations = [
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(
                fields=["unit", "-start_time", "-id", "media_kind", "flagged", "on_time"],
                name="rec_unit_page_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(
                fields=["department", "-start_time", "-id", "media_kind", "flagged", "on_time"],
                name="rec_dept_page_idx",
            ),
        ),
        migrations.RemoveIndex(model_name="recording", name="rec_unit_start_idx"),
        migrations.RemoveIndex(model_name="recording", name="rec_dept_start_idx"),
    ]
