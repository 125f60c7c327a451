"""tus 1.0 MUSTs the protocol test suite of another server found missing, and ids in
Upload-Metadata that cannot exist (issue 6; ING-1, ING-4, ING-6)."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client

from custody.models import Event
from ingest import tasks
from ingest.models import IngestItem, Upload
from ingest.tests.conftest import OCTET, TUS, encode_metadata

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _b64(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


# --- creation extension: HEAD answers Upload-Metadata as sent ----------------------------


@pytest.mark.req("ING-1")
def test_head_returns_upload_metadata_exactly_as_sent(tus):
    header = f"filename {_b64('现场.mp4')},is_confidential, case_number {_b64('案1')},x-app {_b64('dock/2.1')}"
    created = tus.client.post(
        "/api/v1/uploads/", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": header}
    )
    assert created.status_code == 201, created.content
    head = tus.head(created["Location"])
    assert head.status_code == 200
    assert head["Upload-Metadata"] == header


@pytest.mark.req("ING-1")
def test_head_without_metadata_at_creation_sends_no_upload_metadata(tus):
    created = tus.create(10)
    head = tus.head(created["Location"])
    assert head.status_code == 200 and "Upload-Metadata" not in head


# --- metadata keys the platform does not know are kept ----------------------------------------


@pytest.mark.req("ING-1", "ING-4")
def test_unknown_metadata_keys_kept_as_client_metadata_on_upload_and_item(tus):
    data = b"y" * 100
    url = tus.create(
        len(data),
        {
            "filename": "a.bin",
            "case_number": "案2",
            "relativePath": "DCIM/100/a.bin",
            "name": "a.bin",
            "flag": b"",
            "odd": b"\xff\x00ok",
        },
    )["Location"]
    upload = Upload.objects.get()
    expected = {"relativePath": "DCIM/100/a.bin", "name": "a.bin", "flag": "", "odd": "\\xff\\x00ok"}
    assert upload.client_metadata == expected
    assert upload.metadata["case_number"] == "案2" and "relativePath" not in upload.metadata
    started = Event.objects.get(action="ingest.upload_started")
    assert started.details["client_metadata"] == expected
    response = tus.patch(url, data, 0)
    assert response.status_code == 204
    item = IngestItem.objects.get(pk=int(response["X-Ingest-Item"]))
    assert item.client_metadata == expected
    detail = tus.client.get(f"/api/v1/ingest-items/{item.pk}")
    assert detail.status_code == 200 and detail.json()["client_metadata"] == expected


@pytest.mark.req("ING-6")
@pytest.mark.parametrize(
    "header",
    [
        "filename " + "A" * 8200,  # longer than any header field gunicorn accepts
        "filename YQ==\x00",
        "名字 YQ==",
    ],
)
def test_metadata_header_too_long_or_not_ascii_answers_400_in_chinese(tus, header):
    response = tus.client.post(
        "/api/v1/uploads/", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": header}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_upload"
    assert CHINESE.search(response.json()["message"])
    assert not Upload.objects.exists()


@pytest.mark.req("ING-6")
def test_nul_byte_in_filename_is_kept_escaped_not_a_500(tus):
    """PostgreSQL text cannot hold NUL: the raw name keeps it as \\x00, the shown name drops it."""
    item = tus.upload(b"n" * 20, b"a\x00b.mp4")
    assert item.raw_filename == "a\\x00b.mp4" and item.filename == "ab.mp4"
    assert Upload.objects.get().raw_filename == "a\\x00b.mp4"


# --- X-HTTP-Method-Override on any method ---------------------------------------------------


@pytest.mark.req("ING-1")
@pytest.mark.parametrize("carrier", ["get", "post", "put"])
def test_method_override_to_head_is_honoured_on_any_method(tus, carrier):
    url = tus.create(100, {"filename": "a.bin"})["Location"]
    response = getattr(tus.client, carrier)(
        url, headers={**TUS, "X-HTTP-Method-Override": "HEAD"}
    )
    assert response.status_code == 200
    assert response["Upload-Offset"] == "0" and response["Upload-Length"] == "100"


@pytest.mark.req("ING-1")
@pytest.mark.parametrize("carrier", ["get", "post"])
def test_method_override_to_patch_appends_whatever_the_carrier(tus, carrier):
    url = tus.create(10, {"filename": "a.bin"})["Location"]
    with tus.capture(execute=True):
        response = tus.client.generic(
            carrier.upper(),
            url,
            b"0123456789",
            content_type=OCTET,
            headers={**TUS, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"},
        )
    assert response.status_code == 204, response.content
    assert response["Upload-Offset"] == "10"
    assert IngestItem.objects.get().size == 10


@pytest.mark.req("ING-1")
def test_method_override_to_delete_terminates(tus):
    url = tus.create(100, {"filename": "a.bin"})["Location"]
    response = tus.client.get(url, headers={**TUS, "X-HTTP-Method-Override": "DELETE"})
    assert response.status_code == 204
    assert Upload.objects.get().status == "terminated"


@pytest.mark.req("ING-1")
def test_overridden_method_is_csrf_checked_as_the_method_that_runs(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    token = "b" * 32
    client.cookies["csrftoken"] = token
    created = client.post(
        "/api/v1/uploads/",
        headers={
            **TUS,
            "Upload-Length": "10",
            "X-CSRFToken": token,
            "Upload-Metadata": encode_metadata({"filename": "a.bin"}),
        },
    )
    assert created.status_code == 201
    # a GET dressed as a PATCH without the token is refused like a PATCH
    refused = client.get(
        created["Location"],
        headers={**TUS, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"},
    )
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert Upload.objects.get().offset == 0


# --- ids that cannot exist: a clear 400, never a 500 ------------------------------------------


@pytest.mark.req("ING-4", "ING-6")
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("officer_ids", "9" * 40),
        ("officer_ids", "1,99999999999999999999"),
        ("officer_ids", "0"),
        ("officer_ids", "-3"),
        ("officer_ids", "abc"),
        ("unit_id", "9" * 40),
        ("unit_id", "9223372036854775808"),  # one beyond the largest database id
        ("unit_id", "1.5"),
    ],
)
def test_impossible_id_in_metadata_answers_400_in_chinese(tus, key, value):
    response = tus.create(10, {"filename": "a.mp4", key: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_upload"
    assert "编号" in body["message"] and "无效" in body["message"]
    assert not Upload.objects.exists()


@pytest.mark.req("ING-4")
def test_too_many_officers_in_metadata_answers_400(tus):
    response = tus.create(10, {"filename": "a.mp4", "officer_ids": ",".join(["1"] * 51)})
    assert response.status_code == 400
    assert "执法人员" in response.json()["message"]


@pytest.mark.req("ING-4")
def test_largest_possible_id_is_looked_up_and_refused_as_unknown(tus):
    response = tus.create(10, {"filename": "a.mp4", "officer_ids": str(2**63 - 1)})
    assert response.status_code == 400
    assert response.json()["message"] == "只能关联本采集机构的执法人员。"  # unknown or outside: one answer


# --- the upload page's batch ------------------------------------------------------------------


@pytest.mark.req("ING-1")
def test_batch_in_metadata_is_kept_on_the_item(tus):
    item = tus.upload(b"z" * 50, "a.bin", batch="0123456789abcdef0123456789abcdef")
    assert item.metadata["batch"] == "0123456789abcdef0123456789abcdef"


@pytest.mark.req("ING-6")
def test_malformed_batch_answers_400(tus):
    response = tus.create(10, {"filename": "a.bin", "batch": "../../etc"})
    assert response.status_code == 400 and "批次" in response.json()["message"]


# --- the edge enqueues the pipeline, once ------------------------------------------------------


@pytest.mark.req("ING-6")
def test_completing_patch_enqueues_the_pipeline_once_after_commit(tus, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "enqueue_pipeline", queued.append)
    data = b"q" * 64
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    with tus.capture(execute=False) as callbacks:
        first = tus.client.patch(
            url, data, content_type=OCTET, headers={**TUS, "Upload-Offset": "0"}
        )
    assert first.status_code == 204 and queued == []  # not before commit
    for callback in callbacks:
        callback()
    assert queued == [int(first["X-Ingest-Item"])]
    again = tus.patch(url, b"", len(data))  # the client repeats the final PATCH
    assert again.status_code == 204 and queued == [int(first["X-Ingest-Item"])]
