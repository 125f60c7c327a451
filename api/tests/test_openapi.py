"""The documented data interface (INT-1): OpenAPI schema and docs page."""

from __future__ import annotations

import pytest

from api.tests.base import ApiTestBase, assert_error, bearer, ok_json

ENDPOINTS = {
    "/api/v1/recordings": "get",
    "/api/v1/recordings/{recording_id}": "get",
    "/api/v1/recordings/{recording_id}/content": "get",
    "/api/v1/recordings/{recording_id}/custody-events": "get",
    "/api/v1/ingest-items": "get",
    "/api/v1/ingest-items/{item_id}": "get",
    "/api/v1/custody/verify": "get",
}


class TestOpenApi(ApiTestBase):
    @pytest.mark.req("INT-1")
    def test_schema_lists_endpoints(self, client, world):
        response = client.get("/api/v1/openapi.json", **bearer(world.officer))
        assert response.status_code == 200
        schema = response.json()
        for path, method in ENDPOINTS.items():
            assert method in schema["paths"].get(path, {}), path
        assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])

    @pytest.mark.req("INT-1")
    def test_schema_documents_tus_uploads(self, client, world):
        description = ok_json(client.get("/api/v1/openapi.json", **bearer(world.officer)))["info"]["description"]
        assert "tus 1.0" in description and "/api/v1/uploads/" in description
        for key in (
            "filename",
            "filetype",
            "unit_id",
            "case_number",
            "party",
            "handler",
            "place",
            "matter_type",
            "notes",
            "officer_ids",
            "late_reason",
            "late_reason_text",
            "sha256",
        ):
            assert f"`{key}`" in description, key

    @pytest.mark.req("INT-1")
    def test_detail_schema_lists_digests(self, client, world):
        components = ok_json(client.get("/api/v1/openapi.json", **bearer(world.officer)))["components"]["schemas"]
        assert set(components["DigestsOut"]["properties"]) == {"sha256", "sm3", "size"}
        assert {"metadata", "digests", "media", "timeliness", "flags", "derivatives"} <= set(
            components["RecordingDetail"]["properties"]
        )

    @pytest.mark.req("INT-1")
    def test_docs_page_loads(self, client, world):
        client.force_login(world.officer)
        assert client.get("/api/v1/docs").status_code == 200

    @pytest.mark.req("ACC-6")
    def test_schema_and_docs_need_a_sign_in(self, client, world):
        for path in ("/api/v1/openapi.json", "/api/v1/docs"):
            assert_error(client.get(path), 401, "unauthenticated")
            assert_error(client.get(path, HTTP_AUTHORIZATION="Bearer avr_bogus"), 401, "unauthenticated")
        page = client.get("/api/v1/docs", HTTP_ACCEPT="text/html")
        assert page.status_code == 302 and "/login" in page["Location"]
