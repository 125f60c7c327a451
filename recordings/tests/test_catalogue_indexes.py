"""The catalogue's indexes exist after migrating, on SQLite and PostgreSQL alike.

A case-number search or a unit's first page without them scans the catalogue (bench/catalogue.py
at 1M–10M recordings); SQLite silently loses indexes made outside the model whenever a migration
rebuilds its table (0003 did), so the test reads the migrated schema, not the model.
"""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]

EVERYWHERE = {
    "rec_unit_page_idx",
    "rec_dept_page_idx",
    "rec_start_idx",
    "rec_case_like_idx",
    "rec_party_like_idx",
    "rec_filename_like_idx",
}
SQLITE_ONLY = {"rec_unit_case_like_idx", "rec_dept_case_like_idx"}


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, "recordings_recording"))


def test_search_and_page_indexes_survive_the_migrations():
    names = _indexes()
    expected = EVERYWHERE | (SQLITE_ONLY if connection.vendor == "sqlite" else set())
    assert expected <= names, f"missing: {sorted(expected - names)}"
    assert not {"rec_unit_start_idx", "rec_dept_start_idx"} & names  # replaced by the page indexes


def test_the_unit_page_index_is_the_list_order_with_its_filters():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "recordings_recording")
    columns = constraints["rec_unit_page_idx"]["columns"]
    assert columns == ["unit_id", "start_time", "id", "media_kind", "flagged", "on_time"]
