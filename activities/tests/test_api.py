"""/api/v1/cases, /api/v1/activities, /api/v1/documents (INT-1): pushes are idempotent by the
pushing system's ids, pushed activities are matched to recordings, bad bodies are a clear 4xx in
Chinese, and reads are scoped like every other endpoint (404 outside scope)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from activities.choices import FindingCode, FindingState, LinkSource
from activities.models import Activity, ActivityRecording, Case, CaseDocument
from activities.services import (
    ActivityValues,
    CaseValues,
    create_activity,
    create_case,
    link_recording,
)
from api.choices import TokenScope
from api.tests.base import (
    ApiTestBase,
    RecordingEndpointContract,
    assert_error,
    bearer,
    build_world,
    ok_json,
)
from core.testing import make_person, make_recording
from custody.choices import EventCode
from custody.models import Event
from orgs.services import issue_api_token

pytestmark = pytest.mark.req("INT-1")

USCC = "91110000600037341L"
START = timezone.now().replace(microsecond=0) - timedelta(hours=3)


def post(client, url, body, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return client.post(url, data, content_type="application/json", **headers)


def scoped(person, *scopes) -> dict:
    _row, token = issue_api_token(person, "对接测试", actor=None, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def case_body(world, **kw) -> dict:
    body = {
        "department_id": world.department.pk, "number": "某市监处罚〔2026〕31号", "title": "销售过期食品案",
        "party_kind": "organization", "party_name": "某某食品有限公司", "party_uscc": USCC,
        "handler_badge_number": world.officer.badge_number, "opened_on": "2026-11-18",
        "external_system": "办案系统", "external_id": "AJ-2026-000815",
    }
    body.update(kw)
    return body


def activity_body(world, **kw) -> dict:
    body = {
        "unit_id": world.unit_a.pk, "matter": "samr:inspection_art41", "title": "双随机抽查：某某食品有限公司",
        "place": "某路1号", "starts_at": START.isoformat(), "ends_at": (START + timedelta(hours=1)).isoformat(),
        "officer_badge_numbers": [world.officer.badge_number, world.colleague.badge_number],
        "party_name": "某某食品有限公司", "external_system": "双随机监管系统", "external_id": "SSJ-0042",
    }
    body.update(kw)
    return body


class PushTestBase(ApiTestBase):
    @pytest.fixture
    def world(self, db):
        world = build_world()
        world.pusher = make_person("department_head", department=world.department, full_name="对接账号")
        return world

    @pytest.fixture
    def push(self, world):
        return scoped(world.pusher, TokenScope.INTEGRATE, TokenScope.READ)


# --- cases -------------------------------------------------------------------------------


class TestCasePush(PushTestBase):
    url = "/api/v1/cases"

    def test_pushed_twice_exists_once(self, client, world, push):
        first = ok_json(post(client, self.url, case_body(world), **push), 201)
        assert first["number"] == "某市监处罚〔2026〕31号" and first["handler"]["id"] == world.officer.pk
        assert first["external_system"] == "办案系统" and first["party_uscc"] == USCC
        again = ok_json(post(client, self.url, case_body(world, title="改过的案由"), **push), 200)
        assert again["id"] == first["id"] and again["title"] == "销售过期食品案"  # not changed
        assert Case.objects.filter(external_id="AJ-2026-000815").count() == 1
        assert Event.objects.filter(action=EventCode.CASE_CREATED).count() == 1
        case = Case.objects.get()
        assert case.created_by == world.pusher and case.department == world.department

    def test_needs_the_integrate_scope(self, client, world):
        body = assert_error(post(client, self.url, case_body(world), **scoped(world.pusher, TokenScope.READ)),
                            403, "token_scope_missing")
        assert "对接推送" in body["message"]
        assert_error(post(client, self.url, case_body(world)), 401, "unauthenticated")
        assert not Case.objects.exists()

    def test_a_person_who_keeps_no_cases_of_the_department_is_refused(self, client, world):
        assert_error(post(client, self.url, case_body(world), **bearer(world.outsider)), 403, "permission_denied")
        assert_error(post(client, self.url, case_body(world, department_id=world.department.pk + 999),
                          **bearer(world.pusher)), 404, "not_found")

    def test_same_external_id_in_another_department_conflicts(self, client, world, push):
        ok_json(post(client, self.url, case_body(world), **push), 201)
        other_head = make_person("department_head", department=world.other_department)
        assert_error(post(client, self.url, case_body(world, department_id=world.other_department.pk, handler_badge_number=""),
                          **bearer(other_head)), 409, "conflict")

    def test_number_taken_by_another_case_conflicts(self, client, world, push):
        ok_json(post(client, self.url, case_body(world), **push), 201)
        body = assert_error(post(client, self.url, case_body(world, external_id="AJ-2"), **push), 409, "conflict")
        assert "某市监处罚〔2026〕31号" in body["message"]

    @pytest.mark.parametrize("change, status, code, words", [
        ({"handler_badge_number": "NOPE-1"}, 400, "officer_unknown", "NOPE-1"),
        ({"party_uscc": "91110000600037341X"}, 400, "domain_error", "校验位"),
        ({"external_id": "   "}, 400, "push_invalid", "来源系统"),
        ({"external_id": ""}, 422, "invalid_input", "external_id"),
        ({"department_id": "9" * 40}, 422, "invalid_input", "department_id"),
        ({"department_id": "abc"}, 422, "invalid_input", "department_id"),
        ({"department_id": 0}, 422, "invalid_input", "department_id"),
        ({"number": "案" * 101}, 422, "invalid_input", "number"),
        ({"party_name": "某\x00公司"}, 422, "invalid_input", "party_name"),
        ({"opened_on": "0001-01-01"}, 422, "invalid_input", "opened_on"),
        ({"party_kind": "company"}, 422, "invalid_input", "party_kind"),
    ])
    def test_bad_bodies_are_a_clear_4xx(self, client, world, push, change, status, code, words):
        body = assert_error(post(client, self.url, case_body(world, **change), **push), status, code)
        assert words in body["message"]
        assert not Case.objects.exists()

    @pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b'{"department_id": 1e999}', b"\xff\xfe"])
    def test_broken_json_is_a_4xx(self, client, world, push, raw):
        response = post(client, self.url, raw, **push)
        assert 400 <= response.status_code < 500, response.content[:300]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])


class TestCaseRead(PushTestBase):
    @pytest.fixture
    def case(self, client, world, push):
        return ok_json(post(client, "/api/v1/cases", case_body(world), **push), 201)

    def test_the_department_sees_it(self, client, world, case):
        body = ok_json(client.get(f"/api/v1/cases/{case['id']}", **bearer(world.officer)))
        assert body["number"] == case["number"] and body["stage"] == "start" and body["stage_label"]
        client.force_login(world.custodian)
        assert ok_json(client.get(f"/api/v1/cases/{case['id']}"))["id"] == case["id"]

    def test_outside_scope_is_not_found(self, client, world, case):
        assert_error(client.get(f"/api/v1/cases/{case['id']}"), 401, "unauthenticated")
        for person in (world.outsider, world.admin):
            assert_error(client.get(f"/api/v1/cases/{case['id']}", **bearer(person)), 404, "not_found")
        assert_error(client.get(f"/api/v1/cases/{case['id'] + 999}", **bearer(world.officer)), 404, "not_found")
        response = client.get("/api/v1/cases/" + "9" * 30, **bearer(world.officer))
        assert response.status_code in (404, 422)

    def test_reading_needs_the_read_scope(self, client, world, case):
        assert_error(client.get(f"/api/v1/cases/{case['id']}", **scoped(world.pusher, TokenScope.INTEGRATE)),
                     403, "token_scope_missing")

    def test_its_activities_and_findings(self, client, world, push, case):
        pushed = ok_json(post(client, "/api/v1/activities", activity_body(
            world, matter="samr:seizure", case_external_id="AJ-2026-000815", case_external_system="办案系统"),
            **push), 201)
        assert pushed["case"]["id"] == case["id"]
        body = ok_json(client.get(f"/api/v1/cases/{case['id']}", **bearer(world.officer)))
        assert body["activity_ids"] == [pushed["id"]]
        findings = ok_json(client.get(f"/api/v1/cases/{case['id']}/findings", **bearer(world.officer)))
        assert [f["code"] for f in findings["items"]] == [FindingCode.MANDATORY_NOT_RECORDED]


# --- activities --------------------------------------------------------------------------


class TestActivityPush(PushTestBase):
    url = "/api/v1/activities"

    def test_pushed_twice_exists_once(self, client, world, push):
        first = ok_json(post(client, self.url, activity_body(world, device_serials=["A001", "A001", " B002 "]),
                             **push), 201)
        assert first["matter"]["scope"] == "samr" and first["matter"]["code"] == "inspection_art41"
        assert [o["id"] for o in first["officers"]] == sorted([world.officer.pk, world.colleague.pk])
        assert first["device_serials"] == ["A001", "B002"] and first["external_id"] == "SSJ-0042"
        again = ok_json(post(client, self.url, activity_body(world, title="另一个名称"), **push), 200)
        assert again["id"] == first["id"] and again["title"] == "双随机抽查：某某食品有限公司"
        assert Activity.objects.count() == 1
        assert Event.objects.filter(action=EventCode.ACTIVITY_CREATED).count() == 1

    def test_an_existing_matching_recording_is_linked(self, client, world, push):
        inside = make_recording(world.officer, start_time=START + timedelta(minutes=5),
                                end_time=START + timedelta(minutes=20))
        early = make_recording(world.colleague, start_time=START - timedelta(minutes=50),  # within the margin
                               end_time=START - timedelta(minutes=25))
        by_device = make_recording(make_person("officer", unit=world.unit_b), device_serial="A0012345",
                                   start_time=START + timedelta(minutes=30), end_time=START + timedelta(minutes=40))
        make_recording(world.officer, start_time=START - timedelta(hours=2),  # too early
                       end_time=START - timedelta(hours=1, minutes=31))
        make_recording(make_person("officer", unit=world.unit_b),  # nobody of the activity, another device
                       start_time=START + timedelta(minutes=5), end_time=START + timedelta(minutes=9))
        make_recording(world.outsider, start_time=START + timedelta(minutes=5),  # another department
                       end_time=START + timedelta(minutes=9), device_serial="A0012345")
        body = ok_json(post(client, self.url, activity_body(world, device_serials=["A0012345"]), **push), 201)
        links = ActivityRecording.objects.filter(activity_id=body["id"])
        assert {link.recording_id for link in links} == {inside.pk, early.pk, by_device.pk}
        assert {link.source for link in links} == {LinkSource.INTEGRATION}
        assert body["linked_recordings"] == 3
        events = Event.objects.filter(action=EventCode.RECORDING_LINKED)
        assert events.count() == 3 and {e.actor_name for e in events} == {"对接匹配"}
        assert {e.actor_id for e in events} == {None}
        # the officer sees the activity, and of its recordings the ones they may view
        mine = ok_json(client.get(f"{self.url}/{body['id']}", **bearer(world.officer)))
        assert inside.pk in mine["recording_ids"] and by_device.pk not in mine["recording_ids"]
        assert mine["linked_recordings"] == 3

    def test_a_recording_already_linked_elsewhere_stays_there(self, client, world, push):
        rec = make_recording(world.officer, start_time=START + timedelta(minutes=5),
                             end_time=START + timedelta(minutes=20))
        from activities.models import MatterType

        seizure = MatterType.objects.get(scope="samr", code="seizure", current=True)
        manual = create_activity(world.unit_a, ActivityValues(
            matter_id=seizure.pk, title="手工登记的活动", officer_ids=(world.officer.pk,)), actor=world.officer)
        link_recording(manual.pk, rec.pk, actor=world.officer)
        body = ok_json(post(client, self.url, activity_body(world), **push), 201)
        assert body["linked_recordings"] == 0
        assert ActivityRecording.objects.get(recording=rec).activity_id == manual.pk

    def test_the_matter_by_id_and_a_case_by_id(self, client, world, push):
        from activities.models import MatterType

        case = ok_json(post(client, "/api/v1/cases", case_body(world), **push), 201)
        seizure = MatterType.objects.get(scope="samr", code="seizure", current=True)
        body = ok_json(post(client, self.url, activity_body(world, matter=seizure.pk, case_id=case["id"]),
                            **push), 201)
        assert body["matter"]["id"] == seizure.pk and body["required_level"] == "full_process"
        assert body["case"]["number"] == case["number"]

    def test_naive_times_are_read_in_the_platform_zone(self, client, world, push):
        body = ok_json(post(client, self.url, activity_body(
            world, starts_at="2026-11-20T09:30:00", ends_at="2026-11-20T10:30:00"), **push), 201)
        activity = Activity.objects.get(pk=body["id"])
        assert timezone.localtime(activity.starts_at).hour == 9 and activity.starts_at.tzinfo is not None

    @pytest.mark.parametrize("change, status, code, words", [
        ({"officer_badge_numbers": ["NOPE-1", "NOPE-2"]}, 400, "officer_unknown", "NOPE-1、NOPE-2"),
        ({"officer_badge_numbers": ["  "]}, 400, "officer_unknown", "执法证号"),
        ({"officer_badge_numbers": []}, 422, "invalid_input", "officer_badge_numbers"),
        ({"officer_badge_numbers": [str(n) for n in range(21)]}, 422, "invalid_input", "officer_badge_numbers"),
        ({"matter": "samr:nope"}, 400, "matter_unknown", "samr:nope"),
        ({"matter": "nope"}, 400, "matter_unknown", "清单:编码"),
        ({"matter": 999_999_999}, 400, "matter_unknown", "999999999"),
        ({"matter": "9" * 40}, 400, "matter_unknown", "执法事项"),
        ({"matter": 2**70}, 422, "invalid_input", "matter"),
        ({"unit_id": 2**64}, 422, "invalid_input", "unit_id"),
        ({"unit_id": "十"}, 422, "invalid_input", "unit_id"),
        ({"unit_id": 999_999_999}, 404, "not_found", "执法机构"),
        ({"case_id": 999_999_999}, 400, "domain_error", "案件"),
        ({"case_external_id": "AJ-NONE"}, 400, "case_unknown", "AJ-NONE"),
        ({"ends_at": (START - timedelta(hours=1)).isoformat()}, 400, "domain_error", "结束时间"),
        ({"starts_at": "0001-01-01T00:00:00+08:00"}, 422, "invalid_input", "starts_at"),
        ({"starts_at": "明天"}, 422, "invalid_input", "starts_at"),
        ({"title": ""}, 422, "invalid_input", "title"),
        ({"title": "检" * 201}, 422, "invalid_input", "title"),
        ({"device_serials": ["A" * 65]}, 422, "invalid_input", "device_serials"),
        ({"device_serials": "A001"}, 422, "invalid_input", "device_serials"),
        ({"external_system": "  "}, 400, "push_invalid", "来源系统"),
    ])
    def test_bad_bodies_are_a_clear_4xx(self, client, world, push, change, status, code, words):
        body = assert_error(post(client, self.url, activity_body(world, **change), **push), status, code)
        assert words in body["message"]
        assert not Activity.objects.exists()

    def test_officers_of_another_department_are_unknown(self, client, world, push):
        body = assert_error(post(client, self.url, activity_body(
            world, officer_badge_numbers=[world.outsider.badge_number]), **push), 400, "officer_unknown")
        assert world.outsider.badge_number in body["message"]

    def test_a_pusher_who_may_not_register_for_the_unit_is_refused(self, client, world):
        unit_b_officer = make_person("officer", unit=world.unit_b)
        assert_error(post(client, self.url, activity_body(world), **bearer(unit_b_officer)), 403,
                     "permission_denied")
        assert not Activity.objects.exists()

    def test_the_same_external_id_for_another_unit_conflicts(self, client, world, push):
        ok_json(post(client, self.url, activity_body(world), **push), 201)
        assert_error(post(client, self.url, activity_body(world, unit_id=world.unit_b.pk), **push), 409, "conflict")


class TestActivityRead(PushTestBase):
    @pytest.fixture
    def pushed(self, client, world, push):
        return ok_json(post(client, "/api/v1/activities", activity_body(world, matter="samr:seizure"), **push), 201)

    def test_findings_of_the_activity(self, client, world, pushed):
        url = f"/api/v1/activities/{pushed['id']}/findings"
        body = ok_json(client.get(url, **bearer(world.officer)))
        assert body["count"] == 1
        finding = body["items"][0]
        assert finding["code"] == FindingCode.MANDATORY_NOT_RECORDED and finding["state"] == FindingState.OPEN
        assert finding["severity"] == "high" and finding["requirement"] and finding["article"]
        assert finding["message"] and finding["code_label"] and finding["state_label"] == "待处理"
        assert finding["activity_id"] == pushed["id"]
        assert ok_json(client.get(url, {"state": "resolved"}, **bearer(world.officer)))["count"] == 0
        assert_error(client.get(url, {"state": "bogus"}, **bearer(world.officer)), 422, "invalid_input")
        assert pushed["open_findings"] == 1

    def test_a_recording_resolves_the_finding(self, client, world, push, pushed):
        make_recording(world.officer, start_time=START - timedelta(minutes=1), end_time=START + timedelta(hours=1))
        body = ok_json(client.get(f"/api/v1/activities/{pushed['id']}/findings", **bearer(world.officer)))
        states = {f["code"]: f["state"] for f in body["items"]}
        assert states[FindingCode.MANDATORY_NOT_RECORDED] == FindingState.RESOLVED

    def test_outside_scope_is_not_found(self, client, world, pushed):
        for url in (f"/api/v1/activities/{pushed['id']}", f"/api/v1/activities/{pushed['id']}/findings"):
            assert_error(client.get(url), 401, "unauthenticated")
            for person in (world.outsider, world.admin, world.unit_b_head):
                assert_error(client.get(url, **bearer(person)), 404, "not_found")
            assert client.get(url, **bearer(world.colleague)).status_code == 200
        assert_error(client.get(f"/api/v1/activities/{pushed['id'] + 999}", **bearer(world.officer)), 404,
                     "not_found")
        response = client.get("/api/v1/activities/" + "9" * 30, **bearer(world.officer))
        assert response.status_code in (404, 422)


class TestActivityEndpointContract(RecordingEndpointContract):
    """The contract every endpoint about one record honours, for the activity of a recording."""

    @pytest.fixture
    def world(self, db):
        world = build_world()
        pusher = make_person("department_head", department=world.department)
        from activities.catalog import effective_catalog

        matter = next(e.matter for e in effective_catalog(world.department) if e.matter.code == "seizure")
        activity = create_activity(world.unit_a, ActivityValues(
            matter_id=matter.pk, title="查封现场", officer_ids=(world.officer.pk,), external_system="办案系统",
            external_id="HD-1"), actor=pusher)
        link_recording(activity.pk, world.recording.pk, actor=world.officer)
        return world

    def url(self, recording) -> str:
        link = ActivityRecording.objects.filter(recording_id=recording.pk).first()
        return f"/api/v1/activities/{link.activity_id if link else recording.pk + 10_000}"


class TestActivityFindingsContract(TestActivityEndpointContract):
    def url(self, recording) -> str:
        return super().url(recording) + "/findings"


# --- documents ---------------------------------------------------------------------------


class TestDocumentPush(PushTestBase):
    url = "/api/v1/documents"

    @pytest.fixture
    def pushed(self, client, world, push):
        make_recording(world.officer, start_time=START, end_time=START + timedelta(hours=1))
        ok_json(post(client, "/api/v1/cases", case_body(world), **push), 201)
        return ok_json(post(client, "/api/v1/activities", activity_body(
            world, case_external_id="AJ-2026-000815", case_external_system="办案系统"), **push), 201)

    def body(self, **kw):
        body = {"activity_external_id": "SSJ-0042", "activity_external_system": "双随机监管系统",
                "doc_type": "site_record", "number": "某市监现〔2026〕88号", "doc_date": "2026-11-20",
                "stated_start": (START + timedelta(minutes=20)).isoformat(),
                "stated_end": (START + timedelta(hours=1)).isoformat(), "stage": "investigation",
                "external_system": "办案系统", "external_id": "WS-3311"}
        body.update(kw)
        return body

    def test_pushed_twice_exists_once_and_is_checked(self, client, world, push, pushed):
        assert pushed["linked_recordings"] == 1
        first = ok_json(post(client, self.url, self.body(), **push), 201)
        assert first["activity_id"] == pushed["id"] and first["case_id"] == pushed["case"]["id"]
        assert first["doc_type_label"] == "现场笔录"
        again = ok_json(post(client, self.url, self.body(number="另一个编号"), **push), 200)
        assert again["id"] == first["id"] and again["number"] == "某市监现〔2026〕88号"
        assert CaseDocument.objects.count() == 1
        event = Event.objects.get(action=EventCode.DOCUMENT_ADDED)
        assert event.details["doc_number"] == "某市监现〔2026〕88号" and event.actor_id == world.pusher.pk
        # the document states a start 20 minutes after the recording's: REC-7
        findings = ok_json(client.get(f"/api/v1/activities/{pushed['id']}/findings", {"state": "open"},
                                      **bearer(world.officer)))
        assert FindingCode.START_DISAGREES in {f["code"] for f in findings["items"]}

    def test_a_document_of_a_case(self, client, world, push, pushed):
        body = ok_json(post(client, self.url, self.body(
            activity_external_id="", case_id=pushed["case"]["id"], doc_type="filing_approval",
            stated_start=None, stated_end=None, stage="start", external_id="WS-1"), **push), 201)
        assert body["case_id"] == pushed["case"]["id"] and body["activity_id"] is None

    @pytest.mark.parametrize("change, status, code, words", [
        ({"activity_external_id": ""}, 400, "push_invalid", "案件或执法活动"),
        ({"activity_external_id": "NOPE"}, 404, "not_found", "执法活动"),
        ({"case_id": 999_999_999}, 404, "not_found", "案件"),
        ({"stated_end": (START - timedelta(hours=1)).isoformat()}, 400, "push_invalid", "结束时间"),
        ({"doc_type": "memo"}, 422, "invalid_input", "doc_type"),
        ({"stage": "closing"}, 422, "invalid_input", "stage"),
        ({"activity_id": 2**63}, 422, "invalid_input", "activity_id"),
        ({"doc_date": "2026-13-01"}, 422, "invalid_input", "doc_date"),
        ({"number": "号" * 101}, 422, "invalid_input", "number"),
    ])
    def test_bad_bodies_are_a_clear_4xx(self, client, world, push, pushed, change, status, code, words):
        body = assert_error(post(client, self.url, self.body(**change), **push), status, code)
        assert words in body["message"]
        assert not CaseDocument.objects.exists()

    def test_a_document_of_another_case_of_the_activity_is_refused(self, client, world, push, pushed):
        other = ok_json(post(client, "/api/v1/cases", case_body(world, number="另案", external_id="AJ-9"), **push), 201)
        assert_error(post(client, self.url, self.body(case_id=other["id"]), **push), 400, "push_invalid")

    def test_outside_scope_the_activity_is_not_found(self, client, world, pushed):
        assert_error(post(client, self.url, self.body(), **bearer(world.outsider)), 404, "not_found")
        assert_error(post(client, self.url, self.body(), **bearer(world.admin)), 404, "not_found")


class TestOpenApi(PushTestBase):
    def test_the_schema_documents_the_pushes_with_examples(self, client, world):
        schema = ok_json(client.get("/api/v1/openapi.json", **bearer(world.officer)))
        paths = schema["paths"]
        for path, method in (("/api/v1/cases", "post"), ("/api/v1/activities", "post"), ("/api/v1/documents", "post"),
                             ("/api/v1/activities/{activity_id}", "get"), ("/api/v1/cases/{case_id}", "get"),
                             ("/api/v1/activities/{activity_id}/findings", "get")):
            operation = paths[path][method]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in operation["summary"]), path
        components = schema["components"]["schemas"]
        for name in ("CaseIn", "ActivityIn", "DocumentIn"):
            assert components[name]["examples"], name
            assert all(p.get("description") for p in components[name]["properties"].values()), name


# --- fuzz ----------------------------------------------------------------------------------
# api/tests/test_fuzz.py drives these operations too, but its world (core.testing_fuzz) has no
# activity or case and no body these handlers accept; this is the same fuzz with a world that has
# them, so the requests also get past validation and reach the handlers' queries.


@pytest.fixture
def fuzz_world(db, settings):
    from core.testing_fuzz import build_fuzz_world

    world = build_fuzz_world()
    settings.LOG_WITNESSES = world.witness_keys
    people = world.people
    unit = people["officer"].unit
    head = people["department_head"]
    case = create_case(unit.department, CaseValues(number="某市监处罚〔2026〕99号", party_name="某公司",
                                                   external_system="办案系统", external_id="AJ-99"), actor=head)
    from activities.models import MatterType

    seizure = MatterType.objects.get(scope="samr", code="seizure", current=True)
    activity = create_activity(unit, ActivityValues(
        matter_id=seizure.pk, title="查封现场", officer_ids=(people["officer"].pk,), case_id=case.pk,
        starts_at=START, ends_at=START + timedelta(hours=1), external_system="办案系统", external_id="HD-99"),
        actor=head)
    world.id_pools.update({"activity": [activity.pk], "case": [case.pk]})
    world.ids = sorted({*world.ids, activity.pk, case.pk})
    badges = [people["officer"].badge_number, people["colleague"].badge_number]
    world.bodies.update({
        "/api/v1/cases": json.dumps({
            "department_id": unit.department_id, "number": "某市监处罚〔2026〕99号", "party_name": "某公司",
            "external_system": "办案系统", "external_id": "AJ-99"}).encode(),
        "/api/v1/activities": json.dumps({
            "unit_id": unit.pk, "matter": "samr:inspection_art41", "title": "双随机抽查",
            "starts_at": START.isoformat(), "officer_badge_numbers": badges, "device_serials": ["A0012345"],
            "case_id": case.pk, "external_system": "双随机监管系统", "external_id": "SSJ-99"}).encode(),
        "/api/v1/documents": json.dumps({
            "activity_id": activity.pk, "doc_type": "site_record", "number": "某市监现〔2026〕9号",
            "stated_start": START.isoformat(), "external_system": "办案系统", "external_id": "WS-99"}).encode(),
    })
    return world


def _fuzzed_operations():
    from api.tests.test_fuzz import OPERATIONS

    return [op for op in OPERATIONS if op.path.startswith(("/api/v1/cases", "/api/v1/activities", "/api/v1/documents"))]


@pytest.mark.parametrize("operation", _fuzzed_operations(), ids=str)
def test_push_and_read_operations_never_answer_5xx(operation, fuzz_world):
    from api.tests.test_fuzz import api_requests, baseline_requests, sweep_requests
    from core.testing_fuzz import run_fuzz

    responses = run_fuzz(
        f"activities {operation}", api_requests(operation, fuzz_world), fuzz_world, 50,
        baselines=baseline_requests(operation, fuzz_world), sweep_requests=sweep_requests(operation, fuzz_world),
    )
    assert any(r.status_code < 400 for r in responses), [r.status_code for r in responses]
