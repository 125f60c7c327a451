"""ACC-2 / promise 3: the database itself refuses UPDATE and DELETE on the access register.

The same guard as the custody log (custody/migrations/0003_append_only_guard.py), on both
register tables: the entries and the bytes served under them.
"""

from django.db import migrations

from core.guards import append_only_guard


class Migration(migrations.Migration):
    dependencies = [("access", "0004_served_ranges")]

    operations = [
        append_only_guard(
            ("access_accessentry", "access_servedrange"),
            function="access_register_refuse",
            what="access register",
        ),
    ]
