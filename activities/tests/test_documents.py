"""Documents (文书) of a case stage or an activity (REC-9) and a case's stages: the file is an
original like a recording (digests, write-once, the stored-object register), the times a
document states are checked (REC-7), who may add one is the activities rules', and every change
is one custody event."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from activities.choices import CaseStage, DocumentType, FindingCode, FindingState
from activities.documents import DocumentError, add_document, get_document, visible_documents
from activities.models import CaseDocument, ComplianceFinding
from activities.services import (
    ActivityError,
    ActivityValues,
    CaseValues,
    advance_case_stage,
    close_case,
    create_activity,
    create_case,
    link_recording,
)
from activities.testing import case_people
from core.digests import StreamingDigester
from core.errors import ConflictError, NotFoundError, PermissionDeniedError
from core.testing import make_department, make_person, make_recording, stored_digests
from custody.choices import EventCode
from custody.models import Event
from storage.backends import vault_for
from storage.models import StoredObject

pytestmark = [pytest.mark.django_db, pytest.mark.req("REC-9")]

PDF = b"%PDF-1.4\n% site record of the seizure\n%%EOF\n"
T0 = timezone.now().replace(microsecond=0) - timedelta(hours=3)


@pytest.fixture
def org():
    o = case_people()
    city, unit = o["city"], o["unit"]
    o["case"] = create_case(city, CaseValues(number="某市监处罚〔2026〕15号", party_name="某某食品有限公司"),
                            actor=o["officer"])
    seizure = o["seizure"]
    o["activity"] = create_activity(unit, ActivityValues(
        matter_id=seizure.matter.pk, title="查封现场", officer_ids=(o["officer"].pk, o["colleague"].pk),
        case_id=o["case"].pk, starts_at=T0, ends_at=T0 + timedelta(hours=1)), actor=o["officer"])
    return o


def _digests(data: bytes):
    with StreamingDigester() as digester:
        digester.update(data)
        return digester.finish()


def _upload(data=PDF, name="现场笔录.pdf"):
    f = io.BytesIO(data)
    f.name = name
    return f


def test_a_document_file_is_stored_as_an_original_with_its_digests(org):
    document = add_document(
        actor=org["officer"], case_id=org["case"].pk, stage=CaseStage.START, doc_type=DocumentType.FILING_APPROVAL,
        number="某市监立〔2026〕3号", doc_date=timezone.localdate(), upload=_upload(name="C:\\扫描\\立案审批表.pdf"))
    stored = document.stored_object
    assert stored is not None and stored.area == "originals"
    assert hashlib.sha256(PDF).hexdigest() == stored.sha256 and stored.size == len(PDF)
    assert stored.digests == _digests(PDF) and len(stored.sm3) == 64  # SHA-256, SM3 and size
    assert stored_digests(stored) == _digests(PDF)  # the bytes in the vault are the ones sent
    assert stored.write_verified  # re-read after the write
    assert b"".join(vault_for(stored).open_range(stored.key)) == PDF
    assert document.filename == "立案审批表.pdf" and document.department_id == org["city"].pk
    assert Event.objects.filter(action=EventCode.STORED, subject_id=str(stored.pk)).count() == 1
    # the same bytes sent again are the same original (content-addressed), never a second copy
    again = add_document(actor=org["officer"], case_id=org["case"].pk, doc_type=DocumentType.OTHER,
                         upload=_upload())
    assert again.stored_object_id == stored.pk and StoredObject.objects.count() == 1


def test_adding_a_document_is_one_custody_event_of_the_document_and_its_case(org):
    document = add_document(actor=org["officer"], activity_id=org["activity"].pk, doc_type=DocumentType.SITE_RECORD,
                            number="某市监现〔2026〕88号", stated_start=T0, stated_end=T0 + timedelta(minutes=50))
    assert document.case_id == org["case"].pk  # the activity's case
    event = Event.objects.get(action=EventCode.DOCUMENT_ADDED)
    assert event.actor_id == org["officer"].pk and event.subject_id == str(document.pk)
    assert event.details == {"doc_type": "site_record", "doc_number": "某市监现〔2026〕88号",
                             "case_number": "某市监处罚〔2026〕15号", "external_system": ""}
    subjects = set(event.subject_links.values_list("subject_type", "subject_id"))
    assert {("case", str(org["case"].pk)), ("activity", str(org["activity"].pk))} <= subjects
    assert document.stored_object is None  # only its particulars


def test_the_times_a_document_states_are_checked_against_the_recordings(org):
    rec = make_recording(org["officer"], unit=org["unit"], start_time=T0, end_time=T0 + timedelta(hours=1))
    link_recording(org["activity"].pk, rec.pk, actor=org["officer"])
    assert not ComplianceFinding.objects.filter(activity=org["activity"], code=FindingCode.START_DISAGREES).exists()
    add_document(actor=org["officer"], activity_id=org["activity"].pk, doc_type=DocumentType.SITE_RECORD,
                 stated_start=T0 + timedelta(minutes=20), stated_end=T0 + timedelta(hours=1))
    finding = ComplianceFinding.objects.get(activity=org["activity"], code=FindingCode.START_DISAGREES)
    assert finding.state == FindingState.OPEN


@pytest.mark.parametrize("change, words", [
    ({"stated_start": T0, "stated_end": T0 - timedelta(minutes=1)}, "结束时间不能早于开始时间"),
    ({"case_id": None, "activity_id": None}, "案件或执法活动"),
    ({"doc_type": "memo"}, "文书类型"),
    ({"stage": "closing"}, "办案阶段"),
    ({"number": "号" * 101}, "文书编号"),
    ({"external_system": "办案系统"}, "同时填写"),
])
def test_bad_particulars_are_refused_in_chinese_and_nothing_is_saved(org, change, words):
    kwargs = {"actor": org["officer"], "case_id": org["case"].pk, "doc_type": DocumentType.SITE_RECORD,
              "upload": _upload()}
    kwargs.update(change)
    with pytest.raises(DocumentError, match=words):
        add_document(**kwargs)
    assert not CaseDocument.objects.exists()
    assert not StoredObject.objects.exists()  # refused before the bytes were stored
    assert not Event.objects.filter(action__in=[EventCode.DOCUMENT_ADDED, EventCode.STORED]).exists()


def test_an_activity_of_another_case_is_refused(org):
    other = create_case(org["city"], CaseValues(number="另案", party_name="某公司"), actor=org["officer"])
    with pytest.raises(DocumentError, match="不属于该案件"):
        add_document(actor=org["officer"], case_id=other.pk, activity_id=org["activity"].pk,
                     doc_type=DocumentType.SITE_RECORD)
    assert not CaseDocument.objects.exists()


def test_who_may_add_a_document_is_the_activities_rules(org):
    # another department's officer sees neither the case nor the activity
    with pytest.raises(NotFoundError):
        add_document(actor=org["stranger"], case_id=org["case"].pk, doc_type=DocumentType.OTHER, upload=_upload())
    with pytest.raises(NotFoundError):
        add_document(actor=org["stranger"], activity_id=org["activity"].pk, doc_type=DocumentType.OTHER)
    # an officer of another unit keeps the department's cases, but not this unit's activity
    with pytest.raises(NotFoundError):
        add_document(actor=org["other_unit"], activity_id=org["activity"].pk, doc_type=DocumentType.OTHER)
    assert add_document(actor=org["other_unit"], case_id=org["case"].pk, doc_type=DocumentType.OTHER).pk
    # the legal office sees the case but does not keep it
    with pytest.raises(PermissionDeniedError):
        add_document(actor=org["legal"], case_id=org["case"].pk, doc_type=DocumentType.OTHER, upload=_upload())
    assert CaseDocument.objects.count() == 1 and not StoredObject.objects.exists()


def test_documents_are_read_by_who_may_see_their_case_or_activity(org):
    of_case = add_document(actor=org["officer"], case_id=org["case"].pk, doc_type=DocumentType.FILING_APPROVAL)
    lone = create_activity(org["unit"], ActivityValues(
        matter_id=org["activity"].matter_id, title="无案件的检查", officer_ids=(org["officer"].pk,), starts_at=T0),
        actor=org["officer"])
    of_activity = add_document(actor=org["officer"], activity_id=lone.pk, doc_type=DocumentType.INSPECTION_RECORD)
    assert set(visible_documents(org["officer"])) == {of_case, of_activity}
    assert set(visible_documents(org["other_unit"])) == {of_case}  # not the other unit's activity
    assert get_document(org["stranger"], of_case.pk) is None
    assert not visible_documents(make_person("system_admin", department=org["city"])).exists()


def test_pushed_again_the_same_document_is_returned(org):
    first = add_document(actor=org["officer"], case_id=org["case"].pk, doc_type=DocumentType.SERVICE_RECEIPT,
                         number="1", external_system="办案系统", external_id="WS-1")
    again = add_document(actor=org["officer"], case_id=org["case"].pk, doc_type=DocumentType.SERVICE_RECEIPT,
                         number="2", external_system="办案系统", external_id="WS-1")
    assert again.pk == first.pk and again.number == "1"
    other_department = make_department()
    boss = make_person("department_head", department=other_department)
    case = create_case(other_department, CaseValues(number="X", party_name="某公司"), actor=boss)
    with pytest.raises(ConflictError):
        add_document(actor=boss, case_id=case.pk, doc_type=DocumentType.OTHER, external_system="办案系统",
                     external_id="WS-1")
    assert Event.objects.filter(action=EventCode.DOCUMENT_ADDED).count() == 1


# ---------------------------------------------------------------------------- stages


def test_a_case_moves_forward_through_its_stages_only(org):
    case = org["case"]
    assert case.stage == CaseStage.START
    advance_case_stage(case.pk, actor=org["officer"], stage=CaseStage.INVESTIGATION)
    event = Event.objects.get(action=EventCode.CASE_STAGE_CHANGED)
    assert event.details == {"case_number": case.number, "case_stage": "investigation", "previous_stage": "start"}
    assert event.actor_id == org["officer"].pk and event.subject_id == str(case.pk)
    for back in (CaseStage.START, CaseStage.INVESTIGATION):
        with pytest.raises(ActivityError, match="只能向后推进"):
            advance_case_stage(case.pk, actor=org["officer"], stage=back)
    with pytest.raises(ActivityError, match="请选择办案阶段"):
        advance_case_stage(case.pk, actor=org["officer"], stage="closing")
    with pytest.raises(NotFoundError):
        advance_case_stage(case.pk, actor=org["stranger"], stage=CaseStage.DECISION)
    with pytest.raises(PermissionDeniedError):
        advance_case_stage(case.pk, actor=org["legal"], stage=CaseStage.DECISION)
    case.refresh_from_db()
    assert case.stage == CaseStage.INVESTIGATION
    assert Event.objects.filter(action=EventCode.CASE_STAGE_CHANGED).count() == 1
    advance_case_stage(case.pk, actor=org["officer"], stage=CaseStage.DECISION)
    close_case(case.pk, actor=org["officer"], closed_on=timezone.localdate())
    with pytest.raises(ConflictError, match="已于"):
        advance_case_stage(case.pk, actor=org["officer"], stage=CaseStage.EXECUTION)


def test_an_archived_case_file_takes_no_new_document_and_stores_nothing(org):
    from activities.services import archive_case

    today = timezone.localdate()
    close_case(org["case"].pk, actor=org["officer"], closed_on=today)
    archive_case(org["case"].pk, actor=org["officer"], archived_on=today)
    objects = StoredObject.objects.count()
    with pytest.raises(ConflictError, match="已于 .* 归档"):
        add_document(actor=org["officer"], case_id=org["case"].pk, doc_type=DocumentType.SITE_RECORD,
                     upload=_upload())
    assert not CaseDocument.objects.exists() and StoredObject.objects.count() == objects
