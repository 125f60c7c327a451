"""The free text on recordings linked to cases and matters (REC-9): where the written 案号,
当事人 and 执法事项 match the department's case and catalog they become links; where they do not
they stay as written and the recording page says 未关联."""

from __future__ import annotations

import pytest

from activities.catalog import effective_catalog
from activities.choices import PartyKind
from activities.filing import file_unfiled, key
from activities.models import RecordingFiling
from activities.services import CaseValues, create_case
from core.testing import make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event
from recordings.services import update_recording_metadata

pytestmark = [pytest.mark.django_db, pytest.mark.req("REC-9")]


@pytest.fixture
def org():
    city = make_department()
    unit = make_unit(city)
    return {"city": city, "unit": unit, "officer": make_person("officer", unit=unit),
            "other": make_unit(make_department(name="某县市场监督管理局", level="county", parent=city))}


def _case(org, number="市监罚〔2026〕12号", party="某贸易有限公司"):
    return create_case(org["city"], CaseValues(number=number, party_name=party, party_kind=PartyKind.ORGANIZATION),
                       actor=org["officer"])


def _filed(**kw):
    return Event.objects.filter(action=EventCode.RECORDING_FILED, **kw)


def test_the_comparison_folds_width_brackets_spaces_and_punctuation():
    assert key("市监罚[2026]12号") == key("市监罚〔2026〕12号") == key(" 市监罚［２０２６］１２号 ")
    assert key("查封、扣押") == key("查封扣押")
    assert key("市监罚〔2026〕12号") != key("市监罚〔2026〕13号")


def test_a_written_case_number_links_the_departments_case_and_its_party(org):
    case = _case(org)
    rec = make_recording(org["officer"], case_number="市监罚[2026]12号", party="某贸易有限公司")
    filing = RecordingFiling.objects.get(recording=rec)
    assert filing.case == case and filing.party_matches
    assert rec.case_number == "市监罚[2026]12号"  # the officer's text is kept as written
    event = _filed(subject_id=str(rec.pk)).get()
    assert event.details["case_number"] == case.number


def test_a_number_no_case_has_stays_as_written_until_the_case_is_registered(org):
    rec = make_recording(org["officer"], case_number="市监罚〔2026〕12号", party="另一家公司")
    filing = RecordingFiling.objects.get(recording=rec)
    assert filing.case is None and not _filed().exists()
    case = _case(org)  # registered later: the recordings that named it are linked
    filing.refresh_from_db()
    assert filing.case == case
    assert not filing.party_matches  # the written party is not the case's: 未关联
    assert _filed(subject_id=str(rec.pk)).count() == 1


def test_another_departments_case_of_the_same_number_is_not_linked(org):
    _case(org)
    officer = make_person("officer", unit=org["other"])
    rec = make_recording(officer, case_number="市监罚〔2026〕12号")
    assert RecordingFiling.objects.get(recording=rec).case is None


def test_a_written_matter_links_the_catalog_entry_by_name_or_unique_containment(org):
    entries = {e.matter.name: e.matter for e in effective_catalog(org["city"])}
    exact = make_recording(org["officer"], matter_type="当场处罚")
    assert RecordingFiling.objects.get(recording=exact).matter == entries["当场处罚"]
    contained = make_recording(org["officer"], matter_type="信访")  # in one entry's name only
    assert RecordingFiling.objects.get(recording=contained).matter == entries["涉及执法的信访现场办理"]
    ambiguous = make_recording(org["officer"], matter_type="现场")  # in several names
    assert RecordingFiling.objects.get(recording=ambiguous).matter is None
    unknown = make_recording(org["officer"], matter_type="夜市巡查")
    assert RecordingFiling.objects.get(recording=unknown).matter is None


def test_nothing_written_keeps_no_filing(org):
    rec = make_recording(org["officer"])
    assert not RecordingFiling.objects.filter(recording=rec).exists()


def test_editing_the_written_fields_files_the_recording_again(org):
    case = _case(org)
    rec = make_recording(org["officer"], case_number="不存在的案号")
    assert RecordingFiling.objects.get(recording=rec).case is None
    update_recording_metadata(rec, actor=org["officer"], changes={"case_number": case.number})
    assert RecordingFiling.objects.get(recording=rec).case == case
    update_recording_metadata(rec, actor=org["officer"], changes={"case_number": "", "party": ""})
    assert not RecordingFiling.objects.filter(recording=rec).exists()


def test_recordings_catalogued_before_filing_existed_are_filed_once(org):
    case = _case(org)
    old = [make_recording(org["officer"], case_number=case.number, matter_type="当场处罚") for _ in range(3)]
    blank = make_recording(org["officer"])
    RecordingFiling.objects.all().delete()  # as before this existed
    events = _filed().count()
    assert file_unfiled() == 3
    assert {f.recording_id for f in RecordingFiling.objects.filter(case=case)} == {r.pk for r in old}
    assert not RecordingFiling.objects.filter(recording=blank).exists()
    assert _filed().count() == events + 3
    assert file_unfiled() == 0  # nothing left to file


def test_the_migration_gives_existing_cases_their_compared_number(org):
    import importlib

    from django.apps import apps

    from activities.models import Case

    case = _case(org, number="市监罚［２０２６］12号")
    Case.objects.filter(pk=case.pk).update(number_key="")  # as a case from before the field
    migration = importlib.import_module("activities.migrations.0002_recording_filing_sweeps")
    migration._number_keys(apps, None)
    assert Case.objects.get(pk=case.pk).number_key == key("市监罚〔2026〕12号")
    rec = make_recording(org["officer"], case_number="市监罚〔2026〕12号")
    assert RecordingFiling.objects.get(recording=rec).case_id == case.pk
