"""``Recording.officers`` gets an explicit link model on the table Django made for it
(state only: no table is created or renamed), then a copy of the recording's start time and an
index (person, recording_start, recording) for the access rule "recordings I appear in" (ACC-1)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('recordings', '0005_sqlite_search_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='RecordingOfficer',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('recording', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to='recordings.recording')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': '执法人员',
                        'verbose_name_plural': '执法人员',
                        'db_table': 'recordings_recording_officers',
                        'unique_together': {('recording', 'person')},
                    },
                ),
                migrations.AlterField(
                    model_name='recording',
                    name='officers',
                    field=models.ManyToManyField(blank=True, related_name='recordings', through='recordings.RecordingOfficer', to=settings.AUTH_USER_MODEL, verbose_name='执法人员'),
                ),
            ],
        ),
        migrations.AddField(
            model_name='recordingofficer',
            name='recording_start',
            field=models.DateTimeField(blank=True, null=True, verbose_name='记录开始时间'),
        ),
        migrations.AddIndex(
            model_name='recordingofficer',
            index=models.Index(fields=['person', 'recording_start', 'recording'], name='rec_officer_link_start_idx'),
        ),
        migrations.RunSQL(
            # after the index, as access/0010 (portable: SQLite and PostgreSQL)
            [
                "UPDATE recordings_recording_officers SET recording_start = (SELECT r.start_time FROM "
                "recordings_recording r WHERE r.id = recordings_recording_officers.recording_id)",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
