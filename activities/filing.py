"""Recordings' case and matter (REC-9): the free text officers wrote on recordings before cases
and the catalog existed — 案号, 当事人, 执法事项 — linked to the department's case and catalog
entry where they match, and kept as written where they do not (the pages show "未关联").

Matching is by the text normalised (``key``): width folded (NFKC), whitespace and punctuation
dropped, every kind of bracket read as one, so 市监罚[2026]12号 and 市监罚〔2026〕12号 are one
number. A case number matches the department's case of that number; a matter matches the
catalog entry of the department with that name, else the one entry whose name contains it.
The party matches when it is the linked case's party.

- ``file_recording``: at cataloguing and when the officer edits those fields.
- ``file_for_case``: a case registered later finds the recordings that named it.
- ``file_unfiled``: the recordings catalogued before this existed (queued after a migrate).

Each new link is a custody event of the recording (and of the case).
"""

from __future__ import annotations

import unicodedata

from django.db import transaction
from django.utils import timezone

from activities.models import Case, RecordingFiling
from custody.choices import EventCode
from custody.services import record_event

BATCH = 500
MIN_CONTAINED = 2  # a matter written shorter than this is never matched by containment

_BRACKETS = str.maketrans({c: "〔" for c in "[［【〔(（"} | {c: "〕" for c in "]］】〕)）"})


def key(text: str) -> str:
    """``text`` as compared: width folded, brackets unified, spaces and punctuation dropped."""
    folded = unicodedata.normalize("NFKC", text or "").translate(_BRACKETS)
    return "".join(
        c for c in folded
        if c in "〔〕" or not (c.isspace() or unicodedata.category(c).startswith("P"))
    )[:100]


class _Catalogs:
    """The matter names binding each department, read once per department per pass."""

    def __init__(self) -> None:
        self._names: dict[int, list[tuple[str, int]]] = {}

    def names(self, department) -> list[tuple[str, int]]:
        from activities.catalog import effective_catalog

        if department.pk not in self._names:
            self._names[department.pk] = [(key(e.matter.name), e.matter.pk) for e in effective_catalog(department)]
        return self._names[department.pk]

    def match(self, department, written: str) -> int | None:
        wanted = key(written)
        if not wanted or department is None:
            return None
        names = self.names(department)
        exact = [pk for name, pk in names if name == wanted]
        if exact:
            return exact[0]
        if len(wanted) < MIN_CONTAINED:
            return None
        containing = {pk for name, pk in names if wanted in name}
        return containing.pop() if len(containing) == 1 else None


def _case_of(department_id: int | None, case_key: str) -> Case | None:
    """The department's case of the written number, as compared (``Case.number_key``)."""
    if not case_key or department_id is None:
        return None
    return Case.objects.filter(department_id=department_id, number_key=case_key).only(
        "pk", "number", "party_name").first()


def _party_matches(recording, case: Case | None) -> bool:
    written = key(recording.party)
    return bool(case is not None and written and written == key(case.party_name))


def _record(filing: RecordingFiling, recording, case: Case | None, matter_id: int | None, *, actor) -> None:
    from activities.models import MatterType

    matter = MatterType.objects.filter(pk=matter_id).values_list("name", flat=True).first() if matter_id else ""
    record_event(
        EventCode.RECORDING_FILED, actor=actor, subject=recording,
        also=[case] if case is not None else [],
        details={"case_number": case.number if case is not None else "", "matter": matter or "",
                 "filing_source": filing.source},
    )


def _file(recording, *, actor, catalogs: _Catalogs) -> RecordingFiling | None:
    """Match ``recording``'s written fields and keep the result; a custody event when it links
    a case or matter it did not link before. None when nothing is written."""
    case_key = key(recording.case_number)
    if not (case_key or key(recording.matter_type) or key(recording.party)):
        RecordingFiling.objects.filter(recording=recording).delete()
        return None
    department = recording.department if recording.department_id else None
    case = _case_of(recording.department_id, case_key)
    matter_id = catalogs.match(department, recording.matter_type)
    filing = RecordingFiling.objects.filter(recording=recording).first()
    before = (filing.case_id, filing.matter_id) if filing is not None else (None, None)
    if filing is None:
        filing = RecordingFiling(recording=recording)
    filing.department_id = recording.department_id
    filing.case_key = case_key
    filing.case = case
    filing.matter_id = matter_id
    filing.party_matches = _party_matches(recording, case)
    filing.filed_at = timezone.now()
    filing.save()
    after = (filing.case_id, filing.matter_id)
    if after != before and after != (None, None):
        _record(filing, recording, case, matter_id, actor=actor)
    return filing


def file_recording(recording, *, actor=None) -> RecordingFiling | None:
    """Link ``recording``'s written case number, party and matter where they match (REC-9)."""
    with transaction.atomic():
        return _file(recording, actor=actor, catalogs=_Catalogs())


def file_for_case(case: Case, *, actor=None) -> int:
    """The recordings of ``case``'s department that named its number before it was registered
    are linked to it now; how many."""
    wanted = key(case.number)
    if not wanted:
        return 0
    filings = list(
        RecordingFiling.objects.filter(department_id=case.department_id, case_key=wanted, case__isnull=True)
        .select_related("recording")
    )
    for filing in filings:
        filing.case = case
        recording = filing.recording
        filing.party_matches = _party_matches(recording, case)
        filing.filed_at = timezone.now()
        filing.save(update_fields=["case", "party_matches", "filed_at"])
        _record(filing, recording, case, filing.matter_id, actor=actor)
    return len(filings)


def _unfiled():
    from django.db.models import Q

    from recordings.models import Recording

    return Recording.objects.filter(filing__isnull=True).filter(~Q(case_number="") | ~Q(matter_type="") | ~Q(party=""))


def has_unfiled() -> bool:
    return _unfiled().exists()


def file_unfiled() -> int:
    """Every recording with written case number, party or matter and no filing yet, in
    batches of ``BATCH``; how many were filed."""
    from recordings.models import Recording

    catalogs, done, last = _Catalogs(), 0, 0
    while True:
        ids = list(_unfiled().filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return done
        recordings = list(Recording.objects.filter(pk__in=ids).select_related("department").order_by("pk"))
        with transaction.atomic():
            for recording in recordings:
                _file(recording, actor=None, catalogs=catalogs)
        done += len(recordings)
        last = ids[-1]
