"""Migration access/0012 (ACC-1): an installation upgraded with requests in it keeps exactly the
grants it had — the approved requests' items take their window, the others none, every item its
request's confidentiality — on SQLite and PostgreSQL alike.

The migration adds the columns empty (NULL, False), then fills them with its RunSQL; the test
empties them the same way and runs that SQL (a schema migration cannot run inside the test's
transaction on SQLite)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations import RunSQL
from django.utils import timezone

from access import approvals
from access.choices import AccessAction
from access.models import AccessRequestItem
from access.rules import decide
from core.testing import make_person, make_recording, make_unit

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]

MIGRATION = importlib.import_module("access.migrations.0012_grant_window_on_items").Migration


def _grants():
    return {i.request_id: (i.granted_from, i.granted_until, i.include_confidential)
            for i in AccessRequestItem.objects.all()}


def test_the_upgrade_keeps_every_grant_and_only_those():
    unit = make_unit()
    officer = make_person("officer", unit=unit)
    head = make_person("department_head", department=unit.department)
    reader = make_person("officer", unit=make_unit(unit.department))
    rec = make_recording(officer)

    def request(**kw):
        return approvals.create_request(
            reader, department=unit.department, unit=unit, recording_ids=[rec.pk], purpose_code="case_handling",
            purpose_text="核对现场检查过程", actions=[AccessAction.PLAY],
            valid_until=timezone.now() + timedelta(days=7), **kw)

    approved, revoked, pending = request(include_confidential=True), request(), request()
    approvals.approve(approved.pk, head, "同意")
    approvals.approve(revoked.pk, head, "同意")
    approvals.revoke(revoked.pk, head, "案件已办结")
    expected = _grants()
    assert expected[approved.pk][1] is not None and expected[approved.pk][2] is True
    assert expected[revoked.pk] == expected[pending.pk] == (None, None, False)

    # as the columns are when AddField has added them to an installation from before
    AccessRequestItem.objects.update(granted_from=None, granted_until=None, include_confidential=False)
    assert not decide(reader, rec, "play").allowed
    (backfill,) = [op for op in MIGRATION.operations if isinstance(op, RunSQL)]
    with connection.cursor() as cursor:
        for statement in backfill.sql:
            cursor.execute(statement)
    assert _grants() == expected
    assert decide(reader, rec, "play").basis == "grant"
