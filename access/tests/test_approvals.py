"""Access requests, their routing by jurisdiction profile, and grants (issue 9, ACC-1, ACC-3, ACC-4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from access import approvals
from access.choices import AccessAction, AccessProfile, ApproverRole, RequestKind, RequestStatus
from access.confidentiality import assign_profile, clear_confidential, mark_confidential
from access.profiles import DL_22, SAMR_17_2, SAMR_17_3, SAMR_17_4, SQ_EQUIP_12
from access.requests import pending_for, visible_requests
from access.rules import EDIT, decide
from core.errors import ConflictError, DomainError, PermissionDeniedError
from core.testing import lapse_request, make_department, make_person, make_recording, make_unit
from custody.models import Event
from recordings.models import Recording

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]


@pytest.fixture
def org():
    province = make_department(name="某省市场监督管理局", level="province")
    city = make_department(parent=province)
    other_city = make_department(parent=province)
    unit = make_unit(city)
    unit2 = make_unit(city)
    far_unit = make_unit(other_city)
    o = {
        "province": province, "city": city, "other_city": other_city,
        "unit": unit, "unit2": unit2, "far_unit": far_unit,
        "officer": make_person("officer", unit=unit),
        "colleague": make_person("officer", unit=unit),
        "officer2": make_person("officer", unit=unit2),
        "far_officer": make_person("officer", unit=far_unit),
        "unit_head": make_person("unit_head", unit=unit),
        "custodian": make_person("custodian", unit=unit),
        "head": make_person("department_head", department=city),
        "far_head": make_person("department_head", department=other_city),
        "province_head": make_person("department_head", department=province),
        "province_officer": make_person("officer", department=province),
        "security": make_person("security_admin", department=province),
        "sysadmin": make_person("system_admin", department=province),
    }
    o["rec"] = make_recording(o["officer"], case_number="市监罚〔2026〕12号")
    return o


def _until(days=7):
    return timezone.now() + timedelta(days=days)


def _request(person, department, unit=None, **kw):
    kw.setdefault("purpose_code", "case_handling")
    kw.setdefault("purpose_text", "核对查封现场情况")
    kw.setdefault("actions", [AccessAction.PLAY])
    kw.setdefault("valid_until", _until())
    return approvals.create_request(person, department=department, unit=unit, **kw)


def test_national_routes_as_samr_art_17_says(org):
    own_unit = approvals.plan_request(org["colleague"], kind=RequestKind.INTERNAL, department=org["city"],
                                      unit=org["unit"], actions=["view", "play"])
    assert (own_unit.relation, own_unit.step.approver, own_unit.approver_unit) == ("unit", ApproverRole.UNIT_HEAD,
                                                                                   org["unit"])
    assert own_unit.step.article == SAMR_17_2
    other_unit = approvals.plan_request(org["officer2"], kind=RequestKind.INTERNAL, department=org["city"],
                                        unit=org["unit"], actions=["view"])
    assert (other_unit.relation, other_unit.step.approver) == ("department", ApproverRole.DEPARTMENT_HEAD)
    assert other_unit.approver_department == org["city"] and other_unit.step.article == SAMR_17_3
    other_dept = approvals.plan_request(org["far_officer"], kind=RequestKind.INTERNAL, department=org["city"],
                                        unit=None, actions=["view"])
    assert (other_dept.relation, other_dept.approver_department) == ("other", org["city"])
    superior = approvals.plan_request(org["province_officer"], kind=RequestKind.INTERNAL, department=org["city"],
                                      unit=None, actions=["view"])
    # SAMR art. 17 ¶4: the superior's own head approves, not the subordinate
    assert (superior.relation, superior.approver_department, superior.step.article) == (
        "superior", org["province"], SAMR_17_4)


def test_dalian_sends_every_request_to_the_deputy_director(org):
    assign_profile(org["city"], actor=org["security"], profile=AccessProfile.DALIAN)
    plan = approvals.plan_request(org["colleague"], kind=RequestKind.INTERNAL, department=org["city"],
                                  unit=org["unit"], actions=["view", "play"])
    assert plan.step.approver == ApproverRole.DEPUTY_DIRECTOR and plan.step.article == DL_22
    assert plan.approver_department == org["city"]
    # and the unit head no longer plays the unit's records without a request (DL art. 22)
    assert decide(org["unit_head"], org["rec"], "view").allowed
    assert not decide(org["unit_head"], org["rec"], "play").allowed
    assert decide(org["officer"], org["rec"], "play").basis == "recorder"


def test_shuangqiao_needs_the_agency_head_for_viewing_but_not_for_copying(org):
    assign_profile(org["city"], actor=org["security"], profile=AccessProfile.SHUANGQIAO)
    view = approvals.plan_request(org["colleague"], kind=RequestKind.INTERNAL, department=org["city"],
                                  unit=org["unit"], actions=["view", "play"])
    assert view.step.approver == ApproverRole.AGENCY_HEAD and view.step.article == SQ_EQUIP_12
    copy = approvals.plan_request(org["colleague"], kind=RequestKind.INTERNAL, department=org["city"],
                                  unit=org["unit"], actions=["view", "copy"])
    assert copy.step.approver == ApproverRole.UNIT_HEAD and copy.step.article == SAMR_17_2


@pytest.mark.req("ACC-4")
def test_external_provision_and_party_copy_need_the_department_head(org):
    ext = approvals.plan_request(org["colleague"], kind=RequestKind.EXTERNAL, department=org["city"],
                                 unit=org["unit"], actions=[])
    party = approvals.plan_request(org["colleague"], kind=RequestKind.PARTY_COPY, department=org["city"],
                                   unit=org["unit"], actions=[])
    assert ext.step.approver == party.step.approver == ApproverRole.DEPARTMENT_HEAD
    with pytest.raises(DomainError, match="书面申请"):
        _request(org["colleague"], org["city"], org["unit"], kind=RequestKind.PARTY_COPY, recipient="某公司",
                 recording_ids=[org["rec"].pk])
    # with the party's application: confidential records are left out unless asked for (SQ 全过程 art. 26)
    secret = make_recording(org["officer"])
    mark_confidential(secret, actor=org["head"], category="personal_privacy", reason="涉及他人隐私")
    request = _request(org["colleague"], org["city"], org["unit"], kind=RequestKind.PARTY_COPY,
                       recipient="某公司", recording_ids=[org["rec"].pk, secret.pk],
                       party_application=org["rec"].original)
    assert list(request.items.values_list("recording_id", flat=True)) == [org["rec"].pk]
    assert request.approver_role == ApproverRole.DEPARTMENT_HEAD and request.actions == ["view", "copy"]


def test_request_approve_play_revoke(org):
    rec, colleague = org["rec"], org["colleague"]
    assert not decide(colleague, rec, "play").allowed
    request = _request(colleague, org["city"], org["unit"], recording_ids=[rec.pk])
    assert request.status == RequestStatus.PENDING and request.items.count() == 1
    assert not decide(colleague, rec, "view").allowed  # nothing before approval
    assert list(pending_for(org["unit_head"])) == [request]
    assert list(pending_for(org["head"])) == []  # not their step
    approvals.approve(request.pk, org["unit_head"], "同意")
    d = decide(colleague, rec, "play")
    assert d.allowed and d.basis == "grant" and d.request.pk == request.pk
    assert not decide(colleague, rec, "download").allowed  # only the actions asked for
    assert Recording.objects.restrict(colleague, "view").filter(pk=rec.pk).exists()
    approvals.revoke(request.pk, org["unit_head"], "案件已办结")
    assert not decide(colleague, rec, "play").allowed
    codes = list(Event.objects.filter(subject_type="accessrequest").order_by("id").values_list("action", flat=True))
    assert codes == ["access.requested", "access.approved", "access.revoked"]


@pytest.mark.parametrize("case", ["no purpose", "blank purpose", "expired", "too long", "no records", "no actions"])
def test_bad_requests_are_refused_with_a_reason(org, case):
    kw = {"recording_ids": [org["rec"].pk]}
    if case == "no purpose":
        kw["purpose_code"] = ""
    elif case == "blank purpose":
        kw["purpose_text"] = "   "
    elif case == "expired":
        kw["valid_until"] = timezone.now() - timedelta(minutes=1)
    elif case == "too long":
        kw["valid_until"] = _until(approvals.MAX_VALID_DAYS + 2)
    elif case == "no records":
        kw["recording_ids"] = []
    elif case == "no actions":
        kw["actions"] = []
    with pytest.raises(DomainError) as exc:
        _request(org["colleague"], org["city"], org["unit"], **kw)
    assert exc.value.message


def test_administrators_cannot_request(org):
    with pytest.raises(PermissionDeniedError):
        _request(org["sysadmin"], org["city"], None, recording_ids=[org["rec"].pk])


def test_no_self_approval_no_double_approval_no_approving_a_withdrawn_request(org):
    head = org["head"]
    own = _request(head, org["far_unit"].department, None, recording_ids=[org["rec"].pk])
    assert own.approver_department == org["other_city"]
    request = _request(org["officer2"], org["city"], org["unit"], recording_ids=[org["rec"].pk])
    assert request.approver_role == ApproverRole.DEPARTMENT_HEAD
    # the requester holds the step's office, yet cannot approve their own request
    self_req = _request(org["unit_head"], org["city"], org["unit2"], recording_ids=[org["rec"].pk])
    with pytest.raises(PermissionDeniedError, match="本人"):
        approvals.approve(self_req.pk, org["unit_head"])
    approvals.approve(request.pk, head, "同意")
    with pytest.raises(ConflictError):
        approvals.approve(request.pk, head, "同意")
    withdrawn = _request(org["officer2"], org["city"], org["unit"], recording_ids=[org["rec"].pk])
    approvals.withdraw(withdrawn.pk, org["officer2"])
    with pytest.raises(ConflictError):
        approvals.approve(withdrawn.pk, head)
    with pytest.raises(PermissionDeniedError):
        approvals.approve(withdrawn.pk, org["far_head"])  # not their department's step


def test_an_expired_grant_stops_and_cannot_be_approved(org):
    request = _request(org["colleague"], org["city"], org["unit"], recording_ids=[org["rec"].pk])
    approvals.approve(request.pk, org["unit_head"])
    lapse_request(request)
    assert not decide(org["colleague"], org["rec"], "view").allowed
    late = _request(org["colleague"], org["city"], org["unit"], recording_ids=[org["rec"].pk])
    lapse_request(late)
    with pytest.raises(ConflictError, match="有效期"):
        approvals.approve(late.pk, org["unit_head"])


def test_case_number_requests_take_the_records_of_the_case_and_never_say_which_exist(org):
    other = make_recording(org["officer"], case_number="市监罚〔2026〕12号")
    make_recording(org["officer"], case_number="另一个案号")
    request = _request(org["officer2"], org["city"], None, case_number="市监罚〔2026〕12号")
    assert set(request.items.values_list("recording_id", flat=True)) == {org["rec"].pk, other.pk}
    # ids of another department are not taken, and the request still goes through unchanged
    stray = _request(org["officer2"], org["city"], None, recording_ids=[999999, org["rec"].pk])
    assert list(stray.items.values_list("recording_id", flat=True)) == [org["rec"].pk]


@pytest.mark.req("ACC-3")
def test_confidential_records_need_the_department_head_path(org):
    rec = org["rec"]
    mark_confidential(rec, actor=org["custodian"], category="commercial_secret", reason="含配方工艺")
    assert decide(org["officer"], rec, "view").basis == "recorder"  # the recorder's own view
    assert not decide(org["officer"], rec, "download").allowed
    assert not decide(org["unit_head"], rec, "view").allowed
    assert not decide(org["custodian"], rec, "view").allowed
    assert decide(org["head"], rec, "download").basis == "department"
    assert decide(org["province_head"], rec, "view").basis == "superior"
    # a request that does not include confidential records takes none of them
    plain = _request(org["colleague"], org["city"], org["unit"], recording_ids=[rec.pk])
    assert plain.items.count() == 0
    conf = _request(org["colleague"], org["city"], org["unit"], recording_ids=[rec.pk], include_confidential=True)
    assert conf.approver_role == ApproverRole.DEPARTMENT_HEAD  # escalated from the unit head
    with pytest.raises(PermissionDeniedError):
        approvals.approve(conf.pk, org["unit_head"])
    approvals.approve(conf.pk, org["head"])
    assert decide(org["colleague"], rec, "play").basis == "grant_confidential"
    with pytest.raises(PermissionDeniedError):
        clear_confidential(rec, actor=org["custodian"], reason="误标")
    clear_confidential(rec, actor=org["head"], reason="经核实不涉密")
    assert decide(org["unit_head"], rec, "view").allowed


def test_profiles_are_assigned_by_the_security_administrator_only(org):
    with pytest.raises(PermissionDeniedError):
        assign_profile(org["city"], actor=org["head"], profile=AccessProfile.DALIAN)
    assign_profile(org["city"], actor=org["security"], profile=AccessProfile.DALIAN)
    event = Event.objects.filter(action="orgs.access_profile").get()
    assert event.actor_id == org["security"].pk


def test_visible_requests(org):
    request = _request(org["colleague"], org["city"], org["unit"], recording_ids=[org["rec"].pk])
    assert request in visible_requests(org["colleague"])
    assert request in visible_requests(org["unit_head"])
    assert request not in visible_requests(org["officer2"])
    assert request not in visible_requests(org["sysadmin"])


@pytest.mark.req("ACC-2")
def test_an_access_under_a_grant_is_registered_with_its_request(org, client):
    from django.urls import reverse

    from access.models import AccessEntry

    rec, colleague = org["rec"], org["colleague"]
    request = _request(colleague, org["city"], org["unit"], recording_ids=[rec.pk])
    approvals.approve(request.pk, org["unit_head"], "同意")
    client.force_login(colleague)
    assert client.get(reverse("web:recording_detail", args=[rec.pk])).status_code == 200
    entry = AccessEntry.objects.get(person=colleague, recording=rec)
    assert entry.basis == "grant" and entry.approval_ref == f"调阅申请 #{request.pk}"
    assert entry.purpose == "案件办理：核对查封现场情况"
    assert entry.basis_label == "经审批的调阅申请"
    event = Event.objects.filter(action="access.viewed", actor_id=colleague.pk).get()
    assert event.details["rule"] == "grant" and event.details["approval_ref"] == entry.approval_ref



@pytest.mark.req("ACC-3")
def test_a_record_marked_after_approval_leaves_the_requesters_view_of_the_request(org, client):
    from django.urls import reverse

    rec, colleague = org["rec"], org["colleague"]
    request = _request(colleague, org["city"], org["unit"], recording_ids=[rec.pk])
    approvals.approve(request.pk, org["unit_head"], "同意")
    client.force_login(colleague)
    url = reverse("web:access_request_detail", args=[request.pk])
    assert rec.original_filename in client.get(url).content.decode()
    mark_confidential(rec, actor=org["head"], category="personal_privacy", reason="涉及他人隐私")
    assert rec.original_filename not in client.get(url).content.decode()
    assert client.get(reverse("web:recording_detail", args=[rec.pk])).status_code == 404


def test_a_dated_list_reads_only_its_periods_grants_and_shows_the_same_records(org):
    """The grant subquery narrowed to the list's period (``start_within``) changes what is read,
    never what is shown: items carry their requester and their recording's start time, kept when
    the start time is corrected."""
    from datetime import date

    from access.models import AccessRequestItem
    from access.rules import restrict
    from core.bounds import period_bounds
    from recordings.selectors import RecordingFilter, list_recordings
    from recordings.services import update_recording_metadata

    tz = timezone.get_current_timezone()
    june = timezone.make_aware(timezone.datetime(2026, 6, 10, 9, 0), tz)
    july = timezone.make_aware(timezone.datetime(2026, 7, 10, 9, 0), tz)
    officer, colleague = org["officer"], org["colleague"]
    in_june = make_recording(officer, start_time=june)
    in_july = make_recording(officer, start_time=july)
    request = _request(colleague, org["city"], org["unit"], recording_ids=[in_june.pk, in_july.pk],
                       actions=[AccessAction.VIEW])
    approvals.approve(request.pk, org["unit_head"], "同意")
    items = {i.recording_id: i for i in AccessRequestItem.objects.filter(request=request)}
    assert {pk: (i.requester_id, i.recording_start) for pk, i in items.items()} == {
        in_june.pk: (colleague.pk, june), in_july.pk: (colleague.pk, july)}

    june_filter = RecordingFilter(date_from=date(2026, 6, 1), date_to=date(2026, 6, 30))
    assert list(list_recordings(colleague, june_filter)) == [in_june]
    assert set(list_recordings(colleague)) == {in_june, in_july}
    # the hint narrows the grant rule itself: alone, it leaves out July's grant
    june_only = restrict(colleague, "view", start_within=period_bounds(date(2026, 6, 1), date(2026, 6, 30)))
    assert set(Recording.objects.filter(june_only)) == {in_june}

    # July's record corrected to June: its grant's copy follows, and the June page shows it
    update_recording_metadata(in_july, actor=org["custodian"], changes={"start_time": june + timedelta(hours=1)})
    assert AccessRequestItem.objects.get(request=request, recording=in_july).recording_start == june + timedelta(hours=1)
    assert set(list_recordings(colleague, june_filter)) == {in_june, in_july}


def test_a_dated_list_reads_only_its_periods_officer_links_and_they_follow_a_corrected_start(org):
    """"Recordings I appear in" on a dated page reads the links of that period only (each link
    carries its recording's start time, kept when the start time is corrected)."""
    from datetime import date

    from recordings.models import RecordingOfficer
    from recordings.selectors import RecordingFilter, list_recordings
    from recordings.services import update_recording_metadata

    tz = timezone.get_current_timezone()
    june = timezone.make_aware(timezone.datetime(2026, 6, 10, 9, 0), tz)
    july = timezone.make_aware(timezone.datetime(2026, 7, 10, 9, 0), tz)
    colleague = org["colleague"]
    in_june = make_recording(org["officer"], start_time=june, officer_ids=[colleague.pk])
    in_july = make_recording(org["officer"], start_time=july, officer_ids=[colleague.pk])
    links = dict(RecordingOfficer.objects.filter(person=colleague).values_list("recording_id", "recording_start"))
    assert links == {in_june.pk: june, in_july.pk: july}

    june_filter = RecordingFilter(date_from=date(2026, 6, 1), date_to=date(2026, 6, 30))
    assert list(list_recordings(colleague, june_filter)) == [in_june]
    assert list(list_recordings(org["custodian"], RecordingFilter(
        date_from=date(2026, 6, 1), date_to=date(2026, 6, 30), officer_id=colleague.pk))) == [in_june]
    update_recording_metadata(in_july, actor=org["custodian"], changes={"start_time": june + timedelta(hours=1)})
    assert RecordingOfficer.objects.get(person=colleague, recording=in_july).recording_start == june + timedelta(hours=1)
    assert set(list_recordings(colleague, june_filter)) == {in_june, in_july}


def test_the_head_of_every_department_reads_the_catalogue_unfiltered_and_no_one_else_does(org):
    """restrict() writes a department head's two rules as one subtree filter, and none at all
    when the subtree is every department there is: the same records, confidential included."""
    from access.rules import restrict

    secret = make_recording(org["far_officer"])
    mark_confidential(secret, actor=org["far_head"], category="commercial_secret", reason="配方")
    everything = set(Recording.objects.values_list("pk", flat=True))
    assert restrict(org["province_head"], "view") == Q()
    assert set(Recording.objects.restrict(org["province_head"], "view").values_list("pk", flat=True)) == everything
    assert restrict(org["province_head"], EDIT) != Q()  # editing is the own department's only
    assert secret.pk not in set(Recording.objects.restrict(org["head"], "view").values_list("pk", flat=True))

    # a second province: the first one's head is no longer the head of every department
    other = make_department(name="另一省市场监督管理局", level="province")
    elsewhere = make_recording(make_person("officer", unit=make_unit(other)))
    head = type(org["province_head"]).objects.get(pk=org["province_head"].pk)  # a new request
    assert restrict(head, "view") != Q()
    seen = set(Recording.objects.restrict(head, "view").values_list("pk", flat=True))
    assert seen == everything and elsewhere.pk not in seen


def test_the_approver_rule_reads_the_same_as_a_filter_and_as_a_decision(org):
    """``approver_q`` (the pending lists) and ``can_approve`` (the decision) are one rule: for
    every person and request, the request is in the person's filter, other than their own,
    exactly when they may decide it."""
    from access.approvals import approver_q, can_approve
    from access.models import AccessRequest

    assign_profile(org["other_city"], actor=org["security"], profile=AccessProfile.DALIAN)
    far_rec = make_recording(org["far_officer"])
    requests = [
        _request(org["colleague"], org["city"], org["unit"], recording_ids=[org["rec"].pk]),  # unit head
        _request(org["officer2"], org["city"], recording_ids=[org["rec"].pk]),  # department head
        _request(org["officer"], org["other_city"], recording_ids=[far_rec.pk]),  # 大连: deputy director
    ]
    assert {r.approver_role for r in requests} == {ApproverRole.UNIT_HEAD, ApproverRole.DEPARTMENT_HEAD,
                                                   ApproverRole.DEPUTY_DIRECTOR}
    people = [p for p in org.values() if isinstance(p, type(org["officer"]))]
    for person in people:
        rules = approver_q(person)
        listed = set(AccessRequest.objects.filter(rules).values_list("pk", flat=True)) if rules is not None else set()
        for request in requests:
            in_filter = request.pk in listed and request.requester_id != person.pk
            assert in_filter == can_approve(person, request), (person.username, request.approver_role)
    assert any(can_approve(p, r) for p in people for r in requests)


def test_an_items_grant_window_is_its_requests_while_approved_and_nothing_otherwise(org):
    """The rules read a grant from its item alone (access.rules.active_grant_items): the item's
    copy of the window is set when the request is approved, cleared when it is revoked, never
    set for a request that is rejected or withdrawn; whether it includes confidential records
    is copied when it is made."""
    from access.models import AccessRequestItem

    def windows(request):
        return {(i.granted_from, i.granted_until, i.include_confidential)
                for i in AccessRequestItem.objects.filter(request=request)}

    def request(**kw):
        return _request(org["colleague"], org["city"], org["unit"], recording_ids=[org["rec"].pk], **kw)

    made = request(include_confidential=True)
    assert windows(made) == {(None, None, True)}
    assert not decide(org["colleague"], org["rec"], "view").allowed
    approvals.approve(made.pk, org["head"], "同意")  # confidential records: the department head
    made.refresh_from_db()
    assert windows(made) == {(made.valid_from, made.valid_until, True)}
    assert decide(org["colleague"], org["rec"], "view").basis == "grant"
    approvals.revoke(made.pk, org["head"], "案件已办结")
    assert windows(made) == {(None, None, True)}
    assert not decide(org["colleague"], org["rec"], "view").allowed

    rejected = request()
    approvals.reject(rejected.pk, org["unit_head"], "事由不充分")
    withdrawn = request()
    approvals.withdraw(withdrawn.pk, org["colleague"])
    assert windows(rejected) == windows(withdrawn) == {(None, None, False)}
    assert not decide(org["colleague"], org["rec"], "view").allowed
