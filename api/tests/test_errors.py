"""One error shape for every refusal: {code, message (Chinese), request_id}; never a 500 for bad input."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from api.ninja import api
from api.tests.base import ApiTestBase, assert_error, bearer
from core.errors import ConflictError, DomainError, PermissionDeniedError


class TestErrorShape(ApiTestBase):
    @pytest.mark.req("INT-1")
    def test_unknown_api_path_json_404(self, client, world):
        assert_error(client.get("/api/v1/no-such-thing", **bearer(world.officer)), 404, "not_found")

    @pytest.mark.req("INT-1")
    def test_request_id_echoed(self, client, world):
        response = client.get(
            "/api/v1/recordings/999999", HTTP_X_REQUEST_ID="abcdef123456", **bearer(world.officer)
        )
        body = assert_error(response, 404, "not_found")
        # the server's own id is the request id; the client's is kept beside it, marked as such
        assert body["request_id"] == response["X-Request-ID"] != "abcdef123456"
        assert response["X-Client-Request-ID"] == "abcdef123456"

    @pytest.mark.req("INT-1")
    @pytest.mark.parametrize(
        "params",
        [
            {"limit": "many"},
            {"limit": 100000},
            {"offset": -1},
            {"officer_id": "x"},
            {"status": "deleted"},
            {"date_to": "2026-13-45"},
            {"case_number": "x" * 500},
        ],
    )
    def test_bad_query_invalid_input_422(self, client, world, params):
        body = assert_error(
            client.get("/api/v1/recordings", params, **bearer(world.officer)), 422, "invalid_input"
        )
        assert body["errors"]

    @pytest.mark.req("INT-1")
    def test_bad_content_params_invalid_input_422(self, client, world):
        url = f"/api/v1/recordings/{world.recording.pk}/content"
        assert_error(
            client.get(url, {"download": "perhaps"}, **bearer(world.officer)), 422, "invalid_input"
        )

    @pytest.mark.req("INT-1")
    @pytest.mark.parametrize(
        "exc, status, code",
        [
            (DomainError("不行"), 400, "domain_error"),
            (ConflictError("已存在"), 409, "conflict"),
            (PermissionDeniedError("无权"), 403, "permission_denied"),
            (DomainError("自定义", code="custom_code", status=410), 410, "custom_code"),
        ],
    )
    def test_domain_errors_mapped_by_class(self, exc, status, code):
        request = RequestFactory().get("/api/v1/x")
        request.request_id = "rid12345"
        response = api.on_exception(request, exc)
        assert response.status_code == status
        import json

        body = json.loads(response.content)
        assert body == {"code": code, "message": exc.message, "request_id": "rid12345"}

    @pytest.mark.req("INT-1")
    def test_unexpected_error_json_500(self):
        request = RequestFactory().get("/api/v1/x")
        request.request_id = "rid12345"
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            response = api.on_exception(request, exc)
        import json

        body = json.loads(response.content)
        assert response.status_code == 500 and body["code"] == "internal_error"
        assert "boom" not in body["message"]
