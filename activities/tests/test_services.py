"""Cases, activities and their recordings (REC-9, INT-1): what is accepted, what is refused in
Chinese with nothing saved, and the custody event of each change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.catalog import effective_catalog
from activities.choices import LinkSource, MatterLevel, PartyKind
from activities.models import Activity, ActivityRecording, Case
from activities.parties import uscc_error
from activities.selectors import (
    activity_recordings,
    get_activity,
    list_activities,
    list_cases,
    suggest_recordings,
)
from activities.services import (
    ActivityError,
    ActivityValues,
    CaseValues,
    create_activity,
    create_case,
    link_recording,
    unlink_recording,
)
from core.errors import ConflictError, NotFoundError, PermissionDeniedError
from core.testing import make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("REC-9")]

USCC = "91110000600037341L"  # python-stdnum's example, check character L
T0 = timezone.make_aware(timezone.datetime(2026, 11, 20, 9, 30))


@pytest.fixture
def org():
    city = make_department()
    unit = make_unit(city)
    other_unit = make_unit(make_department(name="某县市场监督管理局", level="county", parent=city))
    o = {
        "city": city, "unit": unit, "other_unit": other_unit,
        "a": make_person("officer", unit=unit, full_name="张伟"),
        "b": make_person("officer", unit=unit, full_name="李娜"),
        "custodian": make_person("custodian", unit=unit),
        "head": make_person("department_head", department=city),
        "outsider": make_person("officer", unit=other_unit),
        "sysadmin": make_person("system_admin", department=city),
    }
    o["seizure"] = next(e.matter for e in effective_catalog(city) if e.matter.level == MatterLevel.FULL_PROCESS)
    return o


def _activity(org, **kw):
    actor = kw.pop("actor", org["a"])
    values = {"matter_id": org["seizure"].pk, "title": "某贸易有限公司查封现场",
              "officer_ids": (org["a"].pk, org["b"].pk), "starts_at": T0, "ends_at": T0 + timedelta(hours=1),
              "place": "某区某路 1 号", "party_name": "某贸易有限公司"}
    values.update(kw)
    return create_activity(org["unit"], ActivityValues(**values), actor=actor)


# ---------------------------------------------------------------------------- parties and cases


@pytest.mark.parametrize(("value", "ok"), [
    (USCC, True),
    ("91110000600037341X", False),  # wrong check character
    ("9111000060003734", False),  # 16 characters
    ("91110000600037341I", False),  # I is not in the alphabet
    ("911100O0600037341L", False),  # O in the division code
    ("Y1110000600037341Y", True),  # registering authority Y (其他): python-stdnum alone refuses it
])
def test_a_uscc_is_checked_by_gb_32100(value, ok):
    assert (uscc_error(value) is None) is ok


def test_a_case_is_registered_once_per_number_and_department(org):
    case = create_case(org["city"], CaseValues(number="市监罚〔2026〕12号", party_name="某贸易有限公司",
                                               party_uscc=" 9111 0000 6000 3734 1l "), actor=org["a"])
    assert case.party_uscc == USCC
    event = Event.objects.get(action=EventCode.CASE_CREATED)
    assert event.actor_id == org["a"].pk and event.details["case_number"] == "市监罚〔2026〕12号"
    with pytest.raises(ConflictError, match="已有案号"):
        create_case(org["city"], CaseValues(number="市监罚〔2026〕12号", party_name="另一公司"), actor=org["a"])
    assert Case.objects.count() == 1


def test_a_wrong_check_character_is_refused_and_nothing_saved(org):
    with pytest.raises(ActivityError, match="校验位不正确（第 18 位应为 L）"):
        create_case(org["city"], CaseValues(number="12", party_name="某公司", party_uscc="91110000600037341X"),
                    actor=org["a"])
    assert not Case.objects.exists() and not Event.objects.filter(action=EventCode.CASE_CREATED).exists()


def test_a_natural_person_needs_no_code(org):
    case = create_case(org["city"], CaseValues(number="13", party_name="王某", party_kind=PartyKind.PERSON,
                                               party_uscc="whatever"), actor=org["a"])
    assert case.party_uscc == ""


def test_a_case_pushed_twice_with_its_external_id_exists_once(org):
    values = CaseValues(number="市监罚〔2026〕14号", party_name="某公司", external_system="办案系统",
                        external_id="AJ-2026-0014")
    first = create_case(org["city"], values, actor=org["a"])
    again = create_case(org["city"], values, actor=org["a"])
    assert first.pk == again.pk and Case.objects.count() == 1
    assert Event.objects.filter(action=EventCode.CASE_CREATED).count() == 1
    with pytest.raises(ActivityError, match="同时填写"):
        create_case(org["city"], CaseValues(number="15", party_name="某公司", external_id="X"), actor=org["a"])


def test_cases_are_kept_by_the_departments_enforcement_people(org):
    for who in ("sysadmin", "outsider"):
        with pytest.raises(PermissionDeniedError):
            create_case(org["city"], CaseValues(number="16", party_name="某公司"), actor=org[who])
    case = create_case(org["city"], CaseValues(number="16", party_name="某公司"), actor=org["custodian"])
    assert list(list_cases(org["a"])) == [case]
    assert list(list_cases(org["outsider"])) == [] and list(list_cases(org["sysadmin"])) == []


# ---------------------------------------------------------------------------- activities


def test_an_activity_keeps_the_matter_version_and_is_recorded(org):
    activity = _activity(org)
    assert activity.matter_id == org["seizure"].pk
    assert set(activity.officers.values_list("pk", flat=True)) == {org["a"].pk, org["b"].pk}
    event = Event.objects.get(action=EventCode.ACTIVITY_CREATED)
    assert event.details["matter_level"] == MatterLevel.FULL_PROCESS and event.details["officers"] == 2


@pytest.mark.parametrize(("change", "message"), [
    ({"ends_at": T0 - timedelta(minutes=1)}, "结束时间须晚于开始时间"),
    ({"ends_at": T0}, "结束时间须晚于开始时间"),
    ({"officer_ids": ()}, "至少选择一名执法人员"),
    ({"officer_ids": ("x",)}, "执法人员无效"),
    ({"title": "  "}, "请填写活动名称"),
    ({"title": "长" * 201}, "请填写活动名称"),
    ({"latitude": 39.9}, "经纬度须同时填写"),
    ({"latitude": 91.0, "longitude": 116.4}, "经纬度超出范围"),
    ({"external_system": "双随机系统"}, "同时填写"),
])
def test_bad_activity_input_is_refused_in_chinese_and_nothing_saved(org, change, message):
    with pytest.raises(ActivityError, match=message):
        _activity(org, **change)
    assert not Activity.objects.exists()
    assert not Event.objects.filter(action=EventCode.ACTIVITY_CREATED).exists()


def test_an_activitys_officers_are_of_its_department(org):
    with pytest.raises(ActivityError, match="本部门在职人员"):
        _activity(org, officer_ids=(org["a"].pk, org["outsider"].pk))
    assert not Activity.objects.exists()


def test_a_matter_that_does_not_bind_the_department_is_refused(org):
    other = make_department(name="某市另一局")
    from activities.catalog import EntryValues, add_department_entry

    head = make_person("department_head", department=other)
    theirs = add_department_entry(other, EntryValues(name="他部门事项", category="inspection",
                                                     level=MatterLevel.OPTIONAL, start_trigger="到达现场",
                                                     end_trigger="离开现场", article="他部门文件第一条"),
                                  actor=head)
    with pytest.raises(NotFoundError, match="不适用于本部门"):
        _activity(org, matter_id=theirs.pk)


def test_who_registers_and_sees_activities(org):
    for who in ("sysadmin", "outsider"):
        with pytest.raises(PermissionDeniedError):
            _activity(org, actor=org[who])
    activity = _activity(org)
    assert get_activity(org["b"], activity.pk) == activity  # an officer of it
    assert get_activity(org["custodian"], activity.pk) == activity  # the unit's keeper
    assert get_activity(org["head"], activity.pk) == activity  # the department head
    officer_elsewhere = make_person("officer", unit=org["unit"])
    assert get_activity(officer_elsewhere, activity.pk) is None  # a colleague not on it
    assert get_activity(org["outsider"], activity.pk) is None
    assert get_activity(org["sysadmin"], activity.pk) is None
    assert list(list_activities(org["a"])) == [activity]  # two officers: listed once


def test_an_activity_pushed_twice_with_its_external_id_exists_once(org):
    first = _activity(org, external_system="双随机系统", external_id="RW-1")
    again = _activity(org, external_system="双随机系统", external_id="RW-1")
    assert first.pk == again.pk and Activity.objects.count() == 1


# ---------------------------------------------------------------------------- linking recordings


def test_a_recording_is_linked_once_and_to_one_activity(org):
    activity, other = _activity(org), _activity(org, title="另一次检查")
    rec = make_recording(org["a"], unit=org["unit"], start_time=T0, end_time=T0 + timedelta(minutes=20))
    link_recording(activity.pk, rec.pk, actor=org["a"])
    event = Event.objects.get(action=EventCode.RECORDING_LINKED)
    assert event.subject_id == str(rec.pk) and event.details["activity"] == activity.pk
    with pytest.raises(ConflictError, match="已关联到本活动"):
        link_recording(activity.pk, rec.pk, actor=org["a"])
    with pytest.raises(ConflictError, match="另一执法活动"):
        link_recording(other.pk, rec.pk, actor=org["a"])
    assert list(activity_recordings(org["a"], activity)) == [rec]
    with pytest.raises(ActivityError, match="理由"):
        unlink_recording(activity.pk, rec.pk, actor=org["a"], comment=" ")
    unlink_recording(activity.pk, rec.pk, actor=org["a"], comment="误关联")
    assert not ActivityRecording.objects.exists()
    link_recording(other.pk, rec.pk, actor=org["a"], source=LinkSource.SUGGESTED)
    assert ActivityRecording.objects.get().activity_id == other.pk


def test_a_recording_one_may_not_view_cannot_be_linked_nor_revealed(org):
    activity = _activity(org)
    colleague = make_person("officer", unit=org["unit"])
    theirs = make_recording(colleague, unit=org["unit"], start_time=T0)
    with pytest.raises(NotFoundError, match="无权查看"):
        link_recording(activity.pk, theirs.pk, actor=org["a"])
    with pytest.raises(NotFoundError, match="无权查看"):
        link_recording(activity.pk, 10**12, actor=org["a"])
    # the custodian may view and link it; officer a then sees the activity, not the recording
    link_recording(activity.pk, theirs.pk, actor=org["custodian"])
    assert list(activity_recordings(org["a"], activity)) == []
    assert list(activity_recordings(org["custodian"], activity)) == [theirs]


def test_only_the_activitys_people_change_it(org):
    activity = _activity(org)
    rec = make_recording(org["a"], unit=org["unit"], start_time=T0)
    colleague = make_person("officer", unit=org["unit"])
    with pytest.raises(NotFoundError):
        link_recording(activity.pk, rec.pk, actor=colleague)  # cannot see the activity
    with pytest.raises(NotFoundError):
        link_recording(activity.pk, rec.pk, actor=org["sysadmin"])
    legal = make_person("legal_office", department=org["city"])
    with pytest.raises(PermissionDeniedError):
        link_recording(activity.pk, rec.pk, actor=legal)  # sees it, supervises, does not change it


def test_suggestions_rank_the_activitys_officers_and_overlap_first(org):
    activity = _activity(org)
    colleague = make_person("officer", unit=org["unit"])
    inside = make_recording(org["a"], unit=org["unit"], start_time=T0 + timedelta(minutes=5),
                            end_time=T0 + timedelta(minutes=50))
    partly = make_recording(org["b"], unit=org["unit"], start_time=T0 + timedelta(minutes=55),
                            end_time=T0 + timedelta(minutes=70))
    by_colleague = make_recording(colleague, unit=org["unit"], start_time=T0, end_time=T0 + timedelta(hours=1))
    near = make_recording(org["a"], unit=org["unit"], start_time=T0 - timedelta(minutes=40),
                          end_time=T0 - timedelta(minutes=10))
    far = make_recording(org["a"], unit=org["unit"], start_time=T0 + timedelta(hours=6),
                         end_time=T0 + timedelta(hours=7))
    linked = make_recording(org["a"], unit=org["unit"], start_time=T0, end_time=T0 + timedelta(minutes=10))
    other = _activity(org, title="另一次检查")
    link_recording(other.pk, linked.pk, actor=org["a"])
    ranked = [s.recording for s in suggest_recordings(org["custodian"], activity)]
    assert ranked == [inside, partly, near, by_colleague]
    assert far not in ranked and linked not in ranked
    # an officer is suggested only what they may view
    assert by_colleague not in [s.recording for s in suggest_recordings(org["a"], activity)]
