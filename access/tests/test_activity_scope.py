""""All recordings of this activity" as an access request's scope (issue 10 on ACC-1, REC-9):
from an activity's page a person asks for every recording linked to it, including those they
may not view; the grant covers exactly those; an activity the person may not see is refused
as not found. A case number's scope takes the recordings linked to that case too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access import approvals
from access.choices import AccessAction
from access.rules import decide
from activities.catalog import effective_catalog
from activities.choices import PartyKind
from activities.services import (
    ActivityValues,
    CaseValues,
    create_activity,
    create_case,
    link_recording,
)
from core.errors import NotFoundError
from core.testing import make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1"), pytest.mark.req("REC-9")]

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def org():
    city = make_department()
    unit, unit2 = make_unit(city), make_unit(city)
    o = {"city": city, "unit": unit, "a": make_person("officer", unit=unit), "b": make_person("officer", unit=unit),
         "custodian": make_person("custodian", unit=unit), "head": make_person("department_head", department=city),
         "officer2": make_person("officer", unit=unit2),
         "far": make_person("officer", unit=make_unit(make_department()))}
    matter = effective_catalog(city)[0].matter
    o["activity"] = create_activity(unit, ActivityValues(
        matter_id=matter.pk, title="某贸易有限公司查封现场", officer_ids=(o["a"].pk, o["b"].pk), starts_at=T0,
        ends_at=T0 + timedelta(hours=1)), actor=o["a"])
    o["recs"] = [make_recording(o[who], start_time=T0 + timedelta(minutes=n * 10)) for n, who in enumerate("ab")]
    for rec in o["recs"]:
        link_recording(o["activity"].pk, rec.pk, actor=o["custodian"])
    o["stray"] = make_recording(o["a"], start_time=T0)  # not linked
    return o


def _request(person, department, **kw):
    return approvals.create_request(person, department=department, purpose_code="case_handling",
                                    purpose_text="核对查封现场情况", actions=[AccessAction.VIEW],
                                    valid_until=timezone.now() + timedelta(days=7), **kw)


def test_an_activitys_scope_takes_every_recording_linked_to_it(org):
    request = _request(org["a"], org["city"], unit=org["unit"], activity_id=org["activity"].pk)
    assert set(request.items.values_list("recording_id", flat=True)) == {r.pk for r in org["recs"]}
    assert request.activity == org["activity"] and request.case_number == ""
    event = Event.objects.get(action=EventCode.ACCESS_REQUESTED, subject_id=str(request.pk))
    assert event.details["activity"] == org["activity"].pk and event.details["records"] == 2


def test_the_approved_scope_grants_the_activitys_recordings_and_nothing_else(org):
    request = _request(org["a"], org["city"], unit=org["unit"], activity_id=org["activity"].pk)
    b_rec = org["recs"][1]  # officer b's recording: a may not view it on their own
    assert not decide(org["a"], b_rec, "view").allowed
    approvals.approve(request.pk, make_person("unit_head", unit=org["unit"]), "同意")
    assert decide(org["a"], b_rec, "view").request is not None
    assert decide(org["a"], org["stray"], "view").request is None


def test_an_activity_the_person_may_not_see_is_not_found(org):
    with pytest.raises(NotFoundError):
        _request(org["officer2"], org["city"], activity_id=org["activity"].pk)
    with pytest.raises(NotFoundError):  # nor one of another department than the one named
        _request(org["head"], make_department(), activity_id=org["activity"].pk)


def test_a_case_numbers_scope_takes_the_recordings_linked_to_the_case(org):
    case = create_case(org["city"], CaseValues(number="市监罚〔2026〕12号", party_name="某贸易有限公司",
                                               party_kind=PartyKind.ORGANIZATION), actor=org["a"])
    written_otherwise = make_recording(org["a"], case_number="市监罚[2026]12号")  # linked by activities.filing
    written_so = make_recording(org["a"], case_number=case.number)
    request = _request(org["officer2"], org["city"], case_number=case.number)
    assert set(request.items.values_list("recording_id", flat=True)) == {written_otherwise.pk, written_so.pk}


def test_the_activity_page_leads_to_a_prefilled_request_for_its_recordings(client, org):
    from django.urls import reverse

    from access.models import AccessRequest

    client.force_login(org["a"])
    page = client.get(reverse("web:activity_detail", args=[org["activity"].pk])).content.decode()
    new = reverse("web:access_request_new")
    assert f'{new}?activity={org["activity"].pk}' in page
    form = client.get(new, {"activity": org["activity"].pk}).content.decode()
    assert "申请范围：执法活动“某贸易有限公司查封现场”关联的全部记录" in form
    assert 'name="recording_ids"' not in form
    response = client.post(new, {
        "kind": "internal", "department": str(org["city"].pk), "unit": str(org["unit"].pk),
        "activity": str(org["activity"].pk), "actions": ["view"], "purpose_code": "case_handling",
        "purpose_text": "核对查封现场情况", "valid_until": (timezone.localdate() + timedelta(days=7)).isoformat(),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    request = AccessRequest.objects.get(requester=org["a"])
    assert request.activity == org["activity"] and request.items.count() == 2
    detail = client.get(response["Location"]).content.decode()
    assert "执法活动“某贸易有限公司查封现场”的全部记录" in detail
    # one who may not see the activity gets the ordinary form, and a refusal if they post its id
    client.force_login(org["officer2"])
    form = client.get(new, {"activity": org["activity"].pk}).content.decode()
    assert "某贸易有限公司查封现场" not in form and 'name="recording_ids"' in form
    refused = client.post(new, {
        "kind": "internal", "department": str(org["city"].pk), "activity": str(org["activity"].pk),
        "actions": ["view"], "purpose_code": "case_handling", "purpose_text": "核对",
        "valid_until": (timezone.localdate() + timedelta(days=7)).isoformat(),
    })
    assert refused.status_code in (400, 404)
    assert "找不到该执法活动" in refused.content.decode()
    assert not AccessRequest.objects.filter(requester=org["officer2"]).exists()
