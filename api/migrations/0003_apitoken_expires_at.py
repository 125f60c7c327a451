"""API tokens expire (issue 9, ACC-6): AVR_API_TOKEN_DAYS (default 90) after they were issued.

Tokens issued before this migration get the same lifetime counted from their issue date, so a
token older than that stops working at once: issue a new one (``manage.py issue_token``).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def set_expiry(apps, schema_editor):
    token = apps.get_model("api", "ApiToken")
    token.objects.update(expires_at=F("created_at") + timedelta(days=settings.API_TOKEN_DAYS))


class Migration(migrations.Migration):
    dependencies = [("api", "0002_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="到期时间"),
        ),
        migrations.RunPython(set_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(verbose_name="到期时间"),
        ),
    ]
