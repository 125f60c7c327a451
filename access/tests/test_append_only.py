"""ACC-2: the access register is append-only; the database refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from access.models import AccessEntry, ServedRange
from access.services import Span, register_read
from core.testing import make_recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    recording = make_recording()
    return register_read(recording, actor=recording.primary_officer, action="play", span=Span(0, 9))


@pytest.mark.req("ACC-2")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE access_accessentry SET purpose = 'x'",
        "DELETE FROM access_accessentry",
        "UPDATE access_servedrange SET length = 0",
        "DELETE FROM access_servedrange",
    ],
)
def test_database_refuses_update_and_delete(entry, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AccessEntry.objects.filter(pk=entry.pk, purpose="").exists()
    assert ServedRange.objects.get(entry=entry).length == 10


@pytest.mark.req("ACC-2")
def test_orm_edits_are_refused_too(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEntry.objects.filter(pk=entry.pk).update(person_name="改名")
    with pytest.raises(DatabaseError), transaction.atomic():
        ServedRange.objects.filter(entry=entry).delete()
    assert entry.bytes_served == 10


@pytest.mark.req("ACC-2")
@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncate_refused_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE access_servedrange")
    assert ServedRange.objects.exists()
