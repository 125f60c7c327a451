"""ACC-5 / promise 2: the database itself refuses UPDATE and DELETE on the custody log."""

from django.db import migrations

from core.guards import append_only_guard


class Migration(migrations.Migration):
    dependencies = [("custody", "0002_initial")]

    operations = [
        append_only_guard(("custody_event",), function="custody_event_refuse", what="custody log"),
    ]
