"""A play's bytes so far are one index probe, and agree with the exact sum (issue 9, ACC-2)."""

from __future__ import annotations

import pytest

from access.choices import AccessAction
from access.models import ServedRange
from access.services import Span, bytes_served, ref_of, register_access, serve_play, served_so_far
from core.testing import make_person, make_recording, make_unit

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-2")]


def test_the_running_total_follows_the_rows_and_ends_a_pass_at_the_files_size():
    officer = make_person("officer", unit=make_unit())
    rec = make_recording(officer)
    size, chunk = 10 * 1024, 1024
    entries = set()
    for n in range(15):  # a file and a half, range by range
        first = (n * chunk) % size
        entry_id, _pass = serve_play(rec, actor=officer, ref_for=lambda p: ref_of("t", p), pass_no=0,
                                  span=Span(first, first + chunk - 1), size=size)
        entries.add(entry_id)
        assert served_so_far(entry_id) == bytes_served(entry_id)
    assert len(entries) == 2  # the second read of the file opened the next pass
    totals = list(ServedRange.objects.filter(entry_id=min(entries)).order_by("pk").values_list("served_after", flat=True))
    assert totals == [chunk * (i + 1) for i in range(10)]


def test_rows_older_than_the_running_total_are_summed():
    officer = make_person("officer", unit=make_unit())
    entry = register_access(make_recording(officer), actor=officer, action=AccessAction.PLAY, play_ref="old")
    ServedRange.objects.create(entry=entry, occurred_at=entry.occurred_at, first_byte=0, last_byte=99, length=100)
    assert served_so_far(entry) == 100
