"""Stored chain verification results only grow (issue 7, promise 4): the database refuses UPDATE
and DELETE on ``custody_chainverification`` (SQLite and PostgreSQL) and TRUNCATE of stored results
(PostgreSQL) — custody/migrations/0006_verification_append_only.py.

Like the custody log tests (custody/tests/test_chain.py), these run inside the test's transaction:
every refused statement is wrapped in ``transaction.atomic()`` so the transaction stays usable and
the test database is reset by rollback, never by a flush."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction

from core.choices import CheckStatus
from custody.models import ChainVerification
from custody.services import verify_custody_chain

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
TABLE = ChainVerification._meta.db_table


def _stored() -> ChainVerification:
    verification = verify_custody_chain()
    if ON_POSTGRES:
        # Run the deferred foreign-key checks of the insert now: PostgreSQL refuses any TRUNCATE
        # of a table with pending trigger events in the same transaction, before our guard is asked.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return verification


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET status = 'fail'",
        f"UPDATE {TABLE} SET detail = 'forged', findings = '[]'",
        f"DELETE FROM {TABLE}",
        f"DELETE FROM {TABLE} WHERE id = (SELECT MAX(id) FROM {TABLE})",
    ],
)
def test_database_refuses_update_and_delete(sql):
    first, second = _stored(), _stored()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    # the test transaction is still usable, and nothing changed
    assert list(ChainVerification.objects.order_by("pk").values_list("pk", "status")) == [
        (first.pk, CheckStatus.PASS), (second.pk, CheckStatus.PASS)
    ]


def test_orm_update_and_delete_are_refused_too():
    stored = _stored()
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            ChainVerification.objects.filter(pk=stored.pk).update(status=CheckStatus.FAIL)
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            ChainVerification.objects.filter(pk=stored.pk).delete()
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            stored.detail = "forged"
            stored.save()
    assert ChainVerification.objects.get(pk=stored.pk).detail == _stored_detail(stored)


def _stored_detail(stored: ChainVerification) -> str:
    return ChainVerification.objects.values_list("detail", flat=True).get(pk=stored.pk)


def test_inserting_new_results_still_works():
    for _ in range(3):
        _stored()
    assert ChainVerification.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE guard is PostgreSQL-only (SQLite has no TRUNCATE)")
@pytest.mark.parametrize("sql", [f"TRUNCATE {TABLE}", "TRUNCATE orgs_person CASCADE"])
def test_postgres_refuses_truncate_of_stored_results(sql):
    _stored()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert ChainVerification.objects.count() == 1


def _flush_sql(tables: list[str]) -> list[str]:
    """What Django's flush (a transactional test's teardown) runs for these tables."""
    return connection.ops.sql_flush(no_style(), tables, allow_cascade=True)


def test_flush_of_the_table_works_while_it_holds_no_result():
    """The guard does not get in the way of a database flush that would remove nothing (the
    teardown of a transactional test that stored no verification). Rolled back with the test."""
    assert not ChainVerification.objects.exists()
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in _flush_sql([TABLE]):
            cursor.execute(sql)
    _stored()  # and the table works afterwards
    assert ChainVerification.objects.count() == 1


def test_flush_is_refused_once_a_result_is_stored():
    _stored()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in _flush_sql([TABLE]):
                cursor.execute(sql)
    assert ChainVerification.objects.count() == 1


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_without_the_previous_tests_results(run):
    """Rollback, not flush, resets the test database: results stored by an earlier test are gone."""
    assert not ChainVerification.objects.exists()
    _stored()
    assert ChainVerification.objects.count() == 1
