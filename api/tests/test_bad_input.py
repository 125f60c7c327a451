"""Bounded API parameters: impossible ids and dates are a 422 with the field named (INT-1)."""

from __future__ import annotations

import pytest

from api.tests.base import ApiTestBase, assert_error, bearer


class TestBoundedParameters(ApiTestBase):
    url = "/api/v1/recordings"

    @pytest.mark.req("INT-1")
    @pytest.mark.parametrize(
        "params, field",
        [
            ({"date_from": "0001-01-01"}, "date_from"),
            ({"date_to": "9999-12-31"}, "date_to"),
            ({"unit_id": "9999999999999999999999999"}, "unit_id"),
            ({"officer_id": "9999999999999999999999999"}, "officer_id"),
            ({"unit_id": "0"}, "unit_id"),
            ({"q": "案" * 3000}, "q"),
            ({"q": "a\x00b"}, "q"),
            ({"device_serial": "DSJ\x00"}, "device_serial"),
            ({"party": "某\x07公司"}, "party"),
        ],
    )
    def test_out_of_range_filter_is_422_naming_the_field(self, client, world, params, field):
        body = assert_error(client.get(self.url, params, **bearer(world.officer)), 422, "invalid_input")
        assert field in body["message"]

    @pytest.mark.req("INT-1")
    def test_out_of_range_path_id_is_a_client_error(self, client, world):
        response = client.get(f"{self.url}/99999999999999999999999999", **bearer(world.officer))
        assert response.status_code in (404, 422)
        response = client.get("/api/v1/ingest-items/99999999999999999999999999", **bearer(world.officer))
        assert response.status_code in (404, 422)

    @pytest.mark.req("INT-1")
    def test_bounds_themselves_are_accepted(self, client, world):
        response = client.get(
            self.url,
            {"date_from": "1970-01-01", "date_to": "2099-12-31", "unit_id": str(2**63 - 1)},
            **bearer(world.officer),
        )
        assert response.status_code == 200
        assert response.json()["count"] == 0

    @pytest.mark.req("ACC-2", "INT-1")
    def test_nul_in_a_purpose_is_422_and_registers_nothing(self, client, world):
        from access.models import AccessEntry

        url = f"{self.url}/{world.recording.pk}/content"
        body = assert_error(
            client.get(url, {"purpose": "审\x00查"}, **bearer(world.officer)), 422, "invalid_input"
        )
        assert "purpose" in body["message"]
        assert not AccessEntry.objects.exists()
