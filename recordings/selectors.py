"""Every restricted read of the catalogue starts here (habit 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from access.findings import note_denial
from access.rules import decision_for
from core.bounds import period_bounds, within_q
from core.errors import NotFoundError
from custody.choices import EventCode
from custody.models import Event, EventSubject
from custody.services import record_event
from ingest.models import IngestItem
from orgs.models import Person
from recordings.choices import DerivativeKind
from recordings.models import Derivative, Recording, RecordingOfficer

# Longest value each text filter accepts (web form and API alike); longer is refused, never ignored.
FILTER_TEXT_LIMITS = {"q": 100, "device_serial": 64, "case_number": 100, "party": 200}

SORTS = {
    "-start_time": ("-start_time", "-id"),
    "start_time": ("start_time", "id"),
    "-received_at": ("-received_at", "-id"),
    "received_at": ("received_at", "id"),
    "-duration_s": ("-duration_s", "-id"),
}


@dataclass
class RecordingFilter:
    """The catalogue's filters (all optional). Dates are local calendar days, inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    unit_id: int | None = None
    officer_id: int | None = None
    device_serial: str = ""
    case_number: str = ""
    party: str = ""
    status: str = ""  # "flagged" | "ok"
    timeliness: str = ""  # "on_time" | "late" | "unknown"
    media_kind: str = ""
    q: str = ""  # free text: case number, party, filename, place
    sort: str = "-start_time"


def list_recordings(user, filters: RecordingFilter | None = None, *, action: str = "view") -> QuerySet[Recording]:
    f = filters or RecordingFilter()
    period = period_bounds(f.date_from, f.date_to)
    qs = Recording.objects.restrict(user, action, start_within=period)
    qs = qs.filter(within_q("start_time", period))
    if f.unit_id:
        qs = qs.filter(unit_id=f.unit_id)
    if f.officer_id:
        appears_in = RecordingOfficer.objects.filter(
            within_q("recording_start", period), person_id=f.officer_id
        ).values("recording_id")
        qs = qs.filter(Q(primary_officer_id=f.officer_id) | Q(pk__in=appears_in))
    if f.device_serial:
        qs = qs.filter(device_serial=f.device_serial.strip())
    if f.case_number:
        qs = qs.filter(case_number__startswith=f.case_number.strip())
    if f.party:
        qs = qs.filter(party__startswith=f.party.strip())
    if f.status == "flagged":
        qs = qs.filter(flagged=True)
    elif f.status == "ok":
        qs = qs.filter(flagged=False)
    if f.timeliness == "on_time":
        qs = qs.filter(on_time=True)
    elif f.timeliness == "late":
        qs = qs.filter(on_time=False)
    elif f.timeliness == "unknown":
        qs = qs.filter(on_time__isnull=True)
    if f.media_kind:
        qs = qs.filter(media_kind=f.media_kind)
    if f.q:
        term = f.q.strip()
        qs = qs.filter(
            Q(case_number__startswith=term) | Q(party__startswith=term)
            | Q(original_filename__startswith=term) | Q(device_serial=term)
        )
    order = SORTS.get(f.sort, SORTS["-start_time"])
    return qs.select_related(*LIST_RELATED).order_by(*order)


LIST_RELATED = ("unit", "primary_officer", "original")


def list_page(qs: QuerySet[Recording], offset: int, limit: int) -> list[Recording]:
    """Rows [offset, offset + limit) of a ``list_recordings`` queryset, in its order, with what
    the catalogue shows beside each (``with_list_extras``).

    The page's ids are chosen on the recordings table alone, and only those rows are then
    joined to their unit, officer and original: PostgreSQL joins before it sorts, so a page
    whose candidates come from several rules (a grantee's 170 records of a month) joined every
    candidate to keep 26. One statement (``id IN (… LIMIT n)``); the rows come out of the
    restricted queryset, so they are exactly the ones it allows."""
    ids = qs.select_related(None).values("pk")[offset : offset + limit]
    page = Recording.objects.filter(pk__in=ids).select_related(*LIST_RELATED).order_by(*qs.query.order_by)
    return list(with_list_extras(page))


def with_list_extras(qs: QuerySet[Recording]) -> QuerySet[Recording]:
    """What a catalogue page shows beside each row: its poster (``posters``) and its officers."""
    return qs.prefetch_related(
        Prefetch(
            "derivatives",
            queryset=Derivative.objects.filter(kind=DerivativeKind.POSTER).only("pk", "kind", "recording_id"),
            to_attr="posters",
        ),
        Prefetch("officers", queryset=Person.objects.only("pk", "full_name", "username")),
    )


def get_recording(user, pk: int, *, action: str = "view") -> Recording:
    """The recording if ``user`` may ``action`` it; otherwise not found (no existence leak)."""
    recording = (
        Recording.objects.restrict(user, action)
        .with_basis(user, action)
        .select_related("unit", "department", "primary_officer", "uploaded_by", "original", "device")
        .filter(pk=pk)
        .first()
    )
    if recording is None:
        _record_denied(user, pk, action)
        raise NotFoundError(_("记录不存在或您无权查看。"))
    # the rule (or grant) that allowed it: the register stores it with every access (ACC-2)
    recording.access_decision = decision_for(user, recording.pk, action, recording.access_basis)
    return recording


def _record_denied(user, pk: int, action: str) -> None:
    """A refused read is an event (access.denied, ACC-5); the caller still answers 404.

    Bounded whatever the request: the id is a database id (``core.bounds``, URL converters and
    API schemas refuse anything else), the action one of a few short codes, and the event
    carries nothing else the client chose — a flood of 404s writes fixed-size events only.
    Whether the id exists is not stored: the subject id lets an auditor look it up.
    """
    if not getattr(user, "pk", None):
        return  # anonymous callers never reach a record read (login / token required first)
    record_event(
        EventCode.ACCESS_DENIED,
        actor=user,
        subject=("recording", str(int(pk))[:20]),  # the requested id, whether or not it exists
        details={"action": str(action)[:16]},
    )
    note_denial(user)  # repeated refusals are a finding for the person's unit head


def record_subjects(recording: Recording) -> list[tuple[str, str]]:
    """The subjects whose events make up a record's history: the catalogue entry, its
    original object, its ingest items and uploads (events written before the record existed)."""
    items = list(IngestItem.objects.filter(recording=recording).values_list("pk", "upload_id"))
    subjects = [("recording", str(recording.pk)), ("storedobject", str(recording.original_id))]
    subjects += [("ingestitem", str(pk)) for pk, _upload in items]
    subjects += [("upload", str(upload)) for _pk, upload in items if upload is not None]
    return subjects


def custody_history(recording: Recording) -> QuerySet[Event]:
    """This record's custody events: every event linked to one of its subjects (link table)."""
    q = Q()
    for kind, ident in record_subjects(recording):
        q |= Q(subject_type=kind, subject_id=ident)
    linked = EventSubject.objects.filter(q).values("event_id")
    return Event.objects.filter(pk__in=linked).select_related("details_row", "leaf").order_by("pk")
