"""Shared API test plumbing: a small org chart, token helpers and contracts every endpoint inherits.

Subclass ``RecordingEndpointContract`` for an endpoint about one recording (denied without
auth, not found outside scope, allowed for its officer and its unit's custodian) and
``ListEndpointContract`` for a list (denied without auth, a query budget).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.testing import make_department, make_person, make_recording, make_unit


def bearer(person, name: str = "测试令牌") -> dict:
    """Request headers for ``person`` through a real issued API token."""
    from orgs.services import issue_api_token

    _row, token = issue_api_token(person, name, actor=None)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def ok_json(response, status: int = 200):
    """The JSON body of a response that must have succeeded with ``status``."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape: JSON with a stable code, a Chinese message and a request id."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    assert body["request_id"]
    return body


@dataclass
class World:
    department: object
    unit_a: object
    unit_b: object
    other_department: object
    unit_c: object
    officer: object  # unit A; owns ``recording``
    colleague: object  # another officer in unit A
    custodian: object  # unit A
    unit_b_head: object  # unit B
    outsider: object  # officer in another department
    admin: object  # system administrator (ACC-6: sees no media)
    auditor: object  # audit administrator
    recording: object


def build_world() -> World:
    department = make_department(level="county")
    unit_a, unit_b = make_unit(department, "执法稽查大队"), make_unit(department, "食品安全监管科")
    other_department = make_department(level="county")
    unit_c = make_unit(other_department)
    officer = make_person("officer", unit=unit_a, full_name="张伟")
    world = World(
        department=department,
        unit_a=unit_a,
        unit_b=unit_b,
        other_department=other_department,
        unit_c=unit_c,
        officer=officer,
        colleague=make_person("officer", unit=unit_a, full_name="李娜"),
        custodian=make_person("custodian", unit=unit_a, full_name="王强"),
        unit_b_head=make_person("unit_head", unit=unit_b, full_name="赵磊"),
        outsider=make_person("officer", unit=unit_c, full_name="陈静"),
        admin=make_person("system_admin", department=department, full_name="系统管理员"),
        auditor=make_person("audit_admin", department=department, full_name="审计管理员"),
        recording=make_recording(
            officer, case_number="某市监处罚〔2026〕15号", party="某某食品有限公司"
        ),
    )
    return world


class ApiTestBase:
    @pytest.fixture
    def world(self, db) -> World:
        return build_world()


class RecordingEndpointContract(ApiTestBase):
    """Everything an endpoint about one recording must honour (ACC-1 default deny, INT-1 errors)."""

    ok_status = 200

    def url(self, recording) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def request(self, client, url, **headers):
        return client.get(url, **headers)

    @pytest.mark.req("INT-1")
    def test_without_auth_denied_401(self, client, world):
        assert_error(self.request(client, self.url(world.recording)), 401, "unauthenticated")

    @pytest.mark.req("INT-1")
    def test_wrong_token_denied_401(self, client, world):
        response = self.request(
            client, self.url(world.recording), HTTP_AUTHORIZATION="Bearer avr_0000000000_nope"
        )
        assert_error(response, 401, "unauthenticated")

    @pytest.mark.req("INT-1")
    def test_outside_scope_not_found_404(self, client, world):
        response = self.request(client, self.url(world.recording), **bearer(world.outsider))
        assert_error(response, 404, "not_found")

    @pytest.mark.req("INT-1", "ACC-6")
    def test_administrator_sees_no_media_404(self, client, world):
        response = self.request(client, self.url(world.recording), **bearer(world.admin))
        assert_error(response, 404, "not_found")

    @pytest.mark.req("INT-1")
    def test_other_unit_head_not_found_404(self, client, world):
        response = self.request(client, self.url(world.recording), **bearer(world.unit_b_head))
        assert_error(response, 404, "not_found")

    @pytest.mark.req("INT-1")
    def test_missing_recording_not_found_404(self, client, world):
        response = self.request(
            client,
            self.url(type(world.recording)(pk=world.recording.pk + 999)),
            **bearer(world.officer),
        )
        assert_error(response, 404, "not_found")

    @pytest.mark.req("INT-1")
    def test_own_officer_by_token_allowed(self, client, world):
        response = self.request(client, self.url(world.recording), **bearer(world.officer))
        assert response.status_code == self.ok_status, response.content[:300]

    @pytest.mark.req("INT-1")
    def test_unit_custodian_by_session_allowed(self, client, world):
        client.force_login(world.custodian)
        response = self.request(client, self.url(world.recording))
        assert response.status_code == self.ok_status, response.content[:300]


class ListEndpointContract(ApiTestBase):
    """Every list: denied without auth; a bounded number of queries whatever the page size."""

    url = ""
    max_queries = 6

    def make_items(self, world, n: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @pytest.mark.req("INT-1")
    def test_without_auth_denied_401(self, client, world):
        assert_error(client.get(self.url), 401, "unauthenticated")

    @pytest.mark.req("INT-1")
    def test_list_query_budget_constant(self, client, world, django_assert_max_num_queries):
        self.make_items(world, 6)
        client.force_login(world.officer)
        with django_assert_max_num_queries(self.max_queries):
            response = client.get(self.url, {"limit": 50})
        assert response.status_code == 200
        assert response.json()["count"] >= 6

    @pytest.mark.req("INT-1")
    def test_bad_limit_invalid_input_422(self, client, world):
        client.force_login(world.officer)
        body = assert_error(client.get(self.url, {"limit": 0}), 422, "invalid_input")
        assert "limit" in body["message"]
