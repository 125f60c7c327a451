"""/api/v1/ingest-items: people follow their own uploads, nobody else's."""

from __future__ import annotations

import pytest
from django.utils import timezone

from api.tests.base import ListEndpointContract, assert_error, bearer, ok_json
from ingest.models import IngestItem


def make_item(person, status="stored", recording=None, **fields):
    now = timezone.now()
    return IngestItem.objects.create(
        filename=fields.pop("filename", "DSJ-A0012345_10020301_20260315093000_0001.MP4"),
        size=1024,
        status=status,
        created_by=person,
        created_at=now,
        updated_at=now,
        recording=recording,
        steps=[{"step": "digest", "status": "done"}],
        **fields,
    )


class TestIngestItems(ListEndpointContract):
    url = "/api/v1/ingest-items"
    max_queries = 5

    def make_items(self, world, n):
        for _ in range(n):
            make_item(world.officer)

    @pytest.mark.req("INT-1")
    def test_own_items_only(self, client, world):
        mine = make_item(world.officer, recording=world.recording)
        theirs = make_item(world.colleague)
        body = ok_json(client.get(self.url, **bearer(world.officer)))
        assert [i["id"] for i in body["items"]] == [mine.pk]
        assert body["items"][0]["recording_id"] == world.recording.pk
        assert_error(
            client.get(f"{self.url}/{theirs.pk}", **bearer(world.officer)), 404, "not_found"
        )

    @pytest.mark.req("INT-1", "ING-6")
    def test_detail_shows_status_steps_and_duplicate(self, client, world):
        item = make_item(
            world.officer,
            status="stored",
            duplicate_of=world.recording,
            status_message="与已有记录重复，已关联",
        )
        body = ok_json(client.get(f"{self.url}/{item.pk}", **bearer(world.officer)))
        assert body["status"] == "stored" and body["status_label"] == "已入库"
        assert body["status_message"] == "与已有记录重复，已关联"
        assert body["steps"] == [{"step": "digest", "status": "done"}]
        assert body["duplicate_of_id"] == world.recording.pk

    @pytest.mark.req("INT-1")
    def test_status_filter(self, client, world):
        failed = make_item(world.officer, status="failed")
        make_item(world.officer, status="stored")
        body = ok_json(client.get(self.url, {"status": "failed"}, **bearer(world.officer)))
        assert [i["id"] for i in body["items"]] == [failed.pk]
        assert_error(
            client.get(self.url, {"status": "nope"}, **bearer(world.officer)), 422, "invalid_input"
        )

    @pytest.mark.req("INT-1")
    def test_detail_without_auth_401(self, client, world):
        item = make_item(world.officer)
        assert_error(client.get(f"{self.url}/{item.pk}"), 401, "unauthenticated")

    @pytest.mark.req("INT-1")
    def test_custodian_follows_unit_uploads(self, client, world):
        colleague_item = make_item(world.colleague)
        outsider_item = make_item(world.outsider)
        ids = {i["id"] for i in ok_json(client.get(self.url, **bearer(world.custodian)))["items"]}
        assert colleague_item.pk in ids and outsider_item.pk not in ids
