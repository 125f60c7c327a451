"""The /api/v1/recordings endpoints: scope, fields, Range, access register, custody history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import AccessEntry
from api.tests.base import (
    ApiTestBase,
    ListEndpointContract,
    RecordingEndpointContract,
    assert_error,
    bearer,
    ok_json,
)
from core.testing import make_recording
from custody.models import Event
from recordings.models import Recording


class TestRecordingList(ListEndpointContract):
    url = "/api/v1/recordings"
    max_queries = 6  # session, user, roles, whether the user holds any grant (access.rules.restrict), count, page

    def make_items(self, world, n):
        for _ in range(n):
            make_recording(world.officer)

    def ids(self, client, **headers) -> set[int]:
        response = client.get(self.url, **headers)
        assert response.status_code == 200, response.content[:300]
        return {item["id"] for item in response.json()["items"]}

    @pytest.mark.req("INT-1")
    def test_officer_sees_own_only(self, client, world):
        own = world.recording.pk
        other = make_recording(world.colleague).pk
        assert self.ids(client, **bearer(world.officer)) == {own}
        assert self.ids(client, **bearer(world.colleague)) == {other}

    @pytest.mark.req("INT-1")
    def test_custodian_sees_unit_recordings(self, client, world):
        mine = make_recording(world.colleague).pk
        elsewhere = make_recording(make_officer_in(world.unit_b)).pk
        ids = self.ids(client, **bearer(world.custodian))
        assert ids == {world.recording.pk, mine}
        assert elsewhere not in ids

    @pytest.mark.req("INT-1", "ACC-6")
    def test_outsider_and_admin_see_none(self, client, world):
        assert self.ids(client, **bearer(world.outsider)) == set()
        assert self.ids(client, **bearer(world.admin)) == set()
        assert self.ids(client, **bearer(world.auditor)) == set()

    @pytest.mark.req("INT-1")
    def test_filters_narrow_results(self, client, world):
        make_recording(world.officer, case_number="某市监处罚〔2026〕16号", party="另一家公司")
        headers = bearer(world.officer)
        response = client.get(self.url, {"case_number": "某市监处罚〔2026〕15号"}, **headers)
        assert [i["id"] for i in response.json()["items"]] == [world.recording.pk]
        response = client.get(self.url, {"party": "某某食品"}, **headers)
        assert [i["id"] for i in response.json()["items"]] == [world.recording.pk]

    @pytest.mark.req("INT-1")
    def test_timeliness_filter_separates_late(self, client, world):
        now = timezone.now()
        late = make_recording(world.officer, start_time=now - timedelta(days=3), received_at=now)
        on_time = make_recording(
            world.officer, start_time=now - timedelta(hours=2), received_at=now
        )
        headers = bearer(world.officer)
        late_ids = {
            i["id"] for i in ok_json(client.get(self.url, {"timeliness": "late"}, **headers))["items"]
        }
        on_time_ids = {
            i["id"]
            for i in ok_json(client.get(self.url, {"timeliness": "on_time"}, **headers))["items"]
        }
        assert late_ids == {late.pk}
        assert on_time_ids == {on_time.pk}

    @pytest.mark.req("INT-1")
    def test_unknown_sort_invalid_input_422(self, client, world):
        body = assert_error(
            client.get(self.url, {"sort": "password"}, **bearer(world.officer)),
            422,
            "invalid_input",
        )
        assert "sort" in body["message"]

    @pytest.mark.req("INT-1")
    def test_malformed_date_invalid_input_422(self, client, world):
        assert_error(
            client.get(self.url, {"date_from": "昨天"}, **bearer(world.officer)),
            422,
            "invalid_input",
        )

    @pytest.mark.req("INT-1")
    def test_pagination_limit_offset_and_count(self, client, world):
        self.make_items(world, 4)  # 5 in all
        headers = bearer(world.officer)
        first = ok_json(client.get(self.url, {"limit": 2, "offset": 0}, **headers))
        second = ok_json(client.get(self.url, {"limit": 2, "offset": 2}, **headers))
        assert first["count"] == 5 and first["count_capped"] is False
        assert len(first["items"]) == 2 and len(second["items"]) == 2
        assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}

    @pytest.mark.req("INT-1")
    def test_count_capped_flags_truncation(self, client, world, monkeypatch):
        import core.querysets

        self.make_items(world, 3)
        monkeypatch.setattr(core.querysets, "COUNT_CAP", 2)
        body = ok_json(client.get(self.url, **bearer(world.officer)))
        assert body["count"] == 2 and body["count_capped"] is True

    @pytest.mark.req("INT-1")
    def test_list_item_carries_digest_and_unit(self, client, world):
        item = ok_json(client.get(self.url, **bearer(world.officer)))["items"][0]
        assert item["sha256"] == world.recording.original.sha256
        assert item["size"] == world.recording.original.size
        assert item["unit"]["id"] == world.unit_a.pk
        assert item["primary_officer"]["full_name"] == "张伟"


def make_officer_in(unit):
    from core.testing import make_person

    return make_person("officer", unit=unit)


class TestRecordingDetail(RecordingEndpointContract):
    def url(self, recording):
        return f"/api/v1/recordings/{recording.pk}"

    @pytest.mark.req("INT-1", "ING-4")
    def test_detail_lists_metadata_digests_media_flags(self, client, world):
        body = ok_json(client.get(self.url(world.recording), **bearer(world.officer)))
        original = world.recording.original
        assert body["digests"] == {
            "sha256": original.sha256,
            "sm3": original.sm3,
            "size": original.size,
        }
        assert body["metadata"]["case_number"] == "某市监处罚〔2026〕15号"
        assert body["metadata"]["party"] == "某某食品有限公司"
        assert body["media"]["kind"] == "video" and body["media"]["kind_label"] == "视频"
        assert body["unit"]["id"] == world.unit_a.pk
        assert body["department"]["id"] == world.department.pk
        assert [p["id"] for p in body["officers"]] == [world.officer.pk]
        assert body["flags"] == {
            "flagged": False,
            "flag_reason": "",
            "items": [],
            "is_important": False,
            "late": False,
        }
        assert body["derivatives"] == []
        assert body["content_url"] == f"/api/v1/recordings/{world.recording.pk}/content"

    @pytest.mark.req("INT-1", "ING-3")
    def test_late_recording_shows_reason(self, client, world):
        now = timezone.now()
        late = make_recording(
            world.officer,
            start_time=now - timedelta(days=3),
            received_at=now,
            late_reason="off_site",
            late_reason_text="异地执法返回后上传",
        )
        body = ok_json(client.get(self.url(late), **bearer(world.officer)))
        assert body["timeliness"]["on_time"] is False
        assert body["timeliness"]["late_reason"] == "off_site"
        assert body["timeliness"]["late_reason_label"] == "异地执法"
        assert body["flags"]["late"] is True

    @pytest.mark.req("INT-1")
    def test_non_numeric_id_not_found_404(self, client, world):
        assert_error(
            client.get("/api/v1/recordings/abc", **bearer(world.officer)), 404, "not_found"
        )


class TestRecordingContent(RecordingEndpointContract):
    def url(self, recording):
        return f"/api/v1/recordings/{recording.pk}/content"

    def body(self, response) -> bytes:
        return b"".join(response.streaming_content)

    def original_bytes(self, recording) -> bytes:
        from storage.backends import get_vault

        with get_vault().open(recording.original.key) as handle:
            return handle.read()

    @pytest.mark.req("INT-1")
    def test_whole_file_served_bit_exact(self, client, world):
        response = client.get(self.url(world.recording), **bearer(world.officer))
        assert response.status_code == 200
        assert self.body(response) == self.original_bytes(world.recording)
        assert response["Accept-Ranges"] == "bytes"
        assert response["ETag"] == f'"{world.recording.original.sha256}"'

    @pytest.mark.req("INT-1")
    def test_range_request_partial_content_206(self, client, world):
        data = self.original_bytes(world.recording)
        response = client.get(
            self.url(world.recording), HTTP_RANGE="bytes=100-199", **bearer(world.officer)
        )
        assert response.status_code == 206
        assert response["Content-Range"] == f"bytes 100-199/{len(data)}"
        assert self.body(response) == data[100:200]

    @pytest.mark.req("INT-1")
    def test_unsatisfiable_range_416_not_registered(self, client, world):
        response = client.get(
            self.url(world.recording), HTTP_RANGE="bytes=999999-", **bearer(world.officer)
        )
        assert response.status_code == 416
        assert not AccessEntry.objects.exists()

    @pytest.mark.req("ACC-2")
    def test_full_get_registered_as_download(self, client, world):
        response = client.get(
            self.url(world.recording), {"purpose": "案件审查"}, **bearer(world.officer)
        )
        assert response.status_code == 200
        entry = AccessEntry.objects.get()
        assert (entry.person, entry.recording, entry.action, entry.purpose) == (
            world.officer,
            world.recording,
            "download",
            "案件审查",
        )
        event = Event.objects.filter(action="access.downloaded").get()
        assert event.actor_id == world.officer.pk and event.subject_id == str(world.recording.pk)

    @pytest.mark.req("ACC-2")
    def test_every_range_request_registered_as_its_own_play(self, client, world):
        """No token ties API range requests together: each is an entry, with its bytes."""
        headers = bearer(world.custodian)
        size = world.recording.original.size
        for header in ("bytes=0-", "bytes=100-199", "bytes=200-"):
            response = client.get(self.url(world.recording), HTTP_RANGE=header, **headers)
            assert response.status_code == 206
        entries = AccessEntry.objects.order_by("pk")
        assert [(e.person_id, e.action, e.bytes_served) for e in entries] == [
            (world.custodian.pk, "play", size),
            (world.custodian.pk, "play", 100),
            (world.custodian.pk, "play", size - 200),
        ]
        assert (
            Event.objects.filter(action="access.played", actor_id=world.custodian.pk).count() == 3
        )

    @pytest.mark.req("ACC-2")
    @pytest.mark.parametrize(
        ("header", "if_range", "action"),
        [
            ("bytes=1-", "", "play"),
            ("bytes=-500", "", "play"),
            ("bytes=0-0,1-", "", "download"),  # several ranges: the whole body
            ("bytes=1-", '"not-the-etag"', "download"),  # If-Range mismatch: the whole body
        ],
    )
    def test_no_range_form_escapes_the_register(self, client, world, header, if_range, action):
        extra = {"HTTP_IF_RANGE": if_range} if if_range else {}
        response = client.get(
            self.url(world.recording), HTTP_RANGE=header, **extra, **bearer(world.officer)
        )
        sent = len(self.body(response))
        assert sent > 0
        entry = AccessEntry.objects.get()
        assert (entry.action, entry.bytes_served) == (action, sent)

    @pytest.mark.req("ACC-5")
    def test_denied_read_is_an_event_and_still_404(self, client, world):
        assert_error(client.get(self.url(world.recording), **bearer(world.outsider)), 404, "not_found")
        event = Event.objects.get(action="access.denied")
        assert event.actor_id == world.outsider.pk
        assert event.subject_id == str(world.recording.pk)
        assert event.details["action"] == "play"

    @pytest.mark.req("ACC-2")
    def test_download_flag_registered_as_download_attachment(self, client, world):
        response = client.get(
            self.url(world.recording),
            {"download": 1},
            HTTP_RANGE="bytes=0-",
            **bearer(world.officer),
        )
        assert response.status_code == 206
        assert response["Content-Disposition"].startswith("attachment")
        assert list(AccessEntry.objects.values_list("action", flat=True)) == ["download"]

    @pytest.mark.req("ACC-2")
    def test_head_not_registered(self, client, world):
        response = client.head(self.url(world.recording), **bearer(world.officer))
        assert response.status_code == 200
        assert int(response["Content-Length"]) == world.recording.original.size
        assert not AccessEntry.objects.exists()

    @pytest.mark.req("ACC-2")
    def test_refused_request_not_registered(self, client, world):
        assert_error(client.get(self.url(world.recording), **bearer(world.outsider)), 404, "not_found")
        assert not AccessEntry.objects.exists()

    @pytest.mark.req("INT-1")
    @pytest.mark.filesystem_vault  # a locked S3 version cannot vanish through the S3 API
    def test_missing_bytes_json_404(self, client, world):
        import os

        from storage.backends import get_vault

        path = get_vault().local_path(world.recording.original.key)
        os.chmod(os.path.dirname(path), 0o755)
        os.unlink(path)
        assert_error(
            client.get(self.url(world.recording), **bearer(world.officer)), 404, "object_missing"
        )
        assert not AccessEntry.objects.exists()


class TestRecordingCustodyEvents(RecordingEndpointContract):
    def url(self, recording):
        return f"/api/v1/recordings/{recording.pk}/custody-events"

    @pytest.mark.req("INT-1", "ACC-5")
    def test_history_lists_logged_events_in_order(self, client, world):
        from custody.entries import digest_of
        from custody.sequencer import integrate_all

        headers = bearer(world.officer)
        assert client.get(f"/api/v1/recordings/{world.recording.pk}/content", **headers).status_code == 200
        body = ok_json(client.get(self.url(world.recording), **headers))
        actions = [e["action"] for e in body["items"]]
        assert actions == ["storage.stored", "recordings.catalogued", "access.downloaded"]
        ids = [e["id"] for e in body["items"]]
        assert ids == sorted(ids)
        assert all(e["leaf_index"] is None for e in body["items"])  # not yet integrated (no commit here)
        catalogued = body["items"][1]
        assert catalogued["action_label"] == "编目"
        assert catalogued["actor_name"] == "张伟"
        assert catalogued["details"]["sha256"] == world.recording.original.sha256
        assert catalogued["details_erased"] is False
        stored = Event.objects.select_related("details_row").get(pk=catalogued["id"])
        assert (catalogued["event_uid"], catalogued["details_digest"]) == (str(stored.event_uid), stored.details_digest)
        assert stored.details_digest == digest_of(stored.details_row.salt, catalogued["details"])

        integrate_all()
        body = ok_json(client.get(self.url(world.recording), **headers))
        leaves = [e["leaf_index"] for e in body["items"]]
        assert [e["id"] for e in body["items"]] == ids and leaves == sorted(leaves)
        assert leaves == [Event.objects.get(pk=pk).leaf.index for pk in ids]

    @pytest.mark.req("INT-1")
    def test_other_recordings_events_excluded(self, client, world):
        other = make_recording(world.officer)
        body = ok_json(client.get(self.url(world.recording), **bearer(world.officer)))
        assert all(
            e["subject_id"] != str(other.pk) or e["subject_type"] != "recording"
            for e in body["items"]
        )
        assert body["count"] == 2


class TestRecordingRestrictedRead(ApiTestBase):
    @pytest.mark.req("INT-1")
    def test_department_head_reads_department_recordings(self, client, world):
        from core.testing import make_person

        head = make_person("department_head", department=world.department)
        response = client.get(f"/api/v1/recordings/{world.recording.pk}", **bearer(head))
        assert response.status_code == 200
        assert Recording.objects.restrict(head, "view").filter(pk=world.recording.pk).exists()
