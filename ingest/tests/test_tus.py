"""tus 1.0 contract at /api/v1/uploads/: creation, offsets, resume, checksum, termination,
and every bad input answered with a Chinese JSON error, never lost bytes (ING-1, ING-2, ING-6)."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.testing import staged_names, stored_digests
from custody.models import Event
from ingest import digesters, services, streams, tasks
from ingest.choices import IngestStatus, UploadStatus
from ingest.models import IngestItem, Upload
from ingest.services.items import STALLED_AFTER
from ingest.tasks import expire_stale_uploads_task
from ingest.tests.conftest import OCTET, TUS, encode_metadata, sha256_b64
from recordings.models import Recording
from storage.backends import get_vault
from storage.backends.filesystem import FilesystemBackend
from storage.models import StoredObject


def _payload(size: int) -> bytes:
    return (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]


def _staging(upload_url: str):
    upload = Upload.objects.get(pk=upload_url.rsplit("/", 1)[-1])
    return upload, get_vault().staging(upload.staging_name)


def _json(response) -> dict:
    return response.json()


def _vault_sha256(obj) -> str:
    with get_vault().open(obj.key) as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# --- discovery and creation ------------------------------------------------------


@pytest.mark.req("ING-1")
def test_options_advertises_tus_capabilities(client, settings):
    response = client.options("/api/v1/uploads/")
    assert response.status_code == 204
    assert response["Tus-Resumable"] == "1.0.0"
    assert response["Tus-Version"] == "1.0.0"
    extensions = response["Tus-Extension"].split(",")
    assert {"creation", "termination", "checksum"} <= set(extensions)
    assert response["Tus-Max-Size"] == str(settings.UPLOAD_MAX_BYTES)
    assert response["Tus-Checksum-Algorithm"] == "sha256,sha1,md5"


@pytest.mark.req("ING-1")
def test_create_answers_201_with_location_and_custody_event_with_metadata(tus, officer):
    response = tus.create(
        1000,
        {
            "filename": "现场.mp4",
            "case_number": "市监案〔2026〕12号",
            "party": "某公司",
            "handler": "张三",
            "place": "某路1号",
            "matter_type": "现场检查",
            "notes": "第一段",
        },
    )
    assert response.status_code == 201
    assert response["Location"].startswith("/api/v1/uploads/")
    assert response["Tus-Resumable"] == "1.0.0"
    upload = Upload.objects.get()
    assert response["Location"] == f"/api/v1/uploads/{upload.pk}"
    assert upload.created_by == officer and upload.length == 1000 and upload.offset == 0
    event = Event.objects.get(action="ingest.upload_started")
    assert event.subject_id == str(upload.pk) and event.actor_id == officer.pk
    assert event.details["metadata"]["case_number"] == "市监案〔2026〕12号"
    assert event.details["metadata"]["party"] == "某公司"
    assert event.details["filename"] == "现场.mp4" and event.details["length"] == 1000


@pytest.mark.req("ING-6")
def test_create_without_login_answers_401_in_chinese(db, client):
    response = client.post("/api/v1/uploads/", headers={**TUS, "Upload-Length": "10"})
    assert response.status_code == 401
    assert response["Tus-Resumable"] == "1.0.0"
    assert _json(response)["code"] == "not_authenticated"
    assert "登录" in _json(response)["message"]
    assert not Upload.objects.exists()


@pytest.mark.req("ING-6")
def test_create_without_upload_length_answers_400(tus):
    response = tus.create(None)
    assert response.status_code == 400
    assert _json(response)["code"] == "invalid_upload"
    assert "Upload-Length" in _json(response)["message"]
    assert not Upload.objects.exists()


@pytest.mark.req("ING-6")
@pytest.mark.parametrize("value", ["-5", "abc", "1.5", "99999999999999999999999"])
def test_create_with_invalid_upload_length_answers_400(tus, value):
    response = tus.client.post("/api/v1/uploads/", headers={**TUS, "Upload-Length": value})
    assert response.status_code == 400
    assert _json(response)["code"] == "invalid_upload"


@pytest.mark.req("ING-6")
def test_zero_byte_file_rejected_whole_at_creation(tus):
    """A zero-byte file has no bytes that could be kept as an original, so ING-6's
    "rejected whole with a clear error" applies: 400 at creation, nothing stored, no upload row."""
    response = tus.create(0, {"filename": "empty.mp4"})
    assert response.status_code == 400
    body = _json(response)
    assert body["code"] == "empty_file" and "0 字节" in body["message"]
    assert not Upload.objects.exists() and not StoredObject.objects.exists()


@pytest.mark.req("ING-1")
def test_upload_above_max_size_answers_413(tus, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = tus.create(1001, {"filename": "big.mp4"})
    assert response.status_code == 413
    assert _json(response)["code"] == "too_large" and "上限" in _json(response)["message"]
    assert not Upload.objects.exists()
    assert tus.create(1000, {"filename": "fits.mp4"}).status_code == 201  # the limit itself is fine


@pytest.mark.req("ING-6")
def test_declared_length_beyond_free_space_answers_507(tus, monkeypatch):
    monkeypatch.setattr(type(get_vault()), "free_bytes", lambda self: 5000)
    response = tus.create(6000, {"filename": "big.mp4"})
    assert response.status_code == 507
    assert _json(response)["code"] == "insufficient_space"
    assert "空间不足" in _json(response)["message"]
    assert not Upload.objects.exists()


@pytest.mark.req("ING-1")
def test_missing_tus_resumable_header_answers_412(tus):
    response = tus.client.post("/api/v1/uploads/", headers={"Upload-Length": "10"})
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"
    assert _json(response)["code"] == "tus_version_unsupported"
    assert not Upload.objects.exists()


@pytest.mark.req("ING-6")
def test_metadata_with_bad_base64_answers_400(tus):
    response = tus.client.post(
        "/api/v1/uploads/",
        headers={**TUS, "Upload-Length": "10", "Upload-Metadata": "filename !!!notbase64"},
    )
    assert response.status_code == 400
    assert "Base64" in _json(response)["message"]


@pytest.mark.req("ING-4")
def test_metadata_with_unknown_late_reason_answers_400(tus):
    response = tus.create(10, {"filename": "a.mp4", "late_reason": "lazy"})
    assert response.status_code == 400
    assert "逾期原因" in _json(response)["message"]


@pytest.mark.req("ING-4")
def test_metadata_naming_a_unit_of_another_department_answers_403(tus):
    from core.testing import make_unit

    other = make_unit()
    response = tus.create(10, {"filename": "a.mp4", "unit_id": other.pk})
    assert response.status_code == 403  # access.rules: not a unit one may file into
    assert "采集机构" in _json(response)["message"]


# --- HEAD --------------------------------------------------------------------------


@pytest.mark.req("ING-6")
def test_head_reports_offset_length_and_no_store(tus):
    url = tus.create(100, {"filename": "a.mp4"})["Location"]
    response = tus.head(url)
    assert response.status_code == 200
    assert response["Upload-Offset"] == "0" and response["Upload-Length"] == "100"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.req("ING-6")
def test_head_of_another_persons_upload_answers_404(tus, unit):
    from core.testing import make_person

    url = tus.create(100, {"filename": "a.mp4"})["Location"]
    other = Client()
    other.force_login(make_person("officer", unit=unit))
    assert other.head(url, headers=TUS).status_code == 404
    assert (
        other.patch(
            url, b"x", content_type=OCTET, headers={**TUS, "Upload-Offset": "0"}
        ).status_code
        == 404
    )


@pytest.mark.req("ING-6")
def test_head_of_unknown_upload_answers_404(tus):
    assert tus.head("/api/v1/uploads/00000000-0000-0000-0000-000000000000").status_code == 404


# --- PATCH ---------------------------------------------------------------------------


@pytest.mark.req("ING-2")
def test_single_patch_completes_with_digests_recorded_before_acknowledgement(tus):
    data = _payload(300_000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    response = tus.patch(url, data, 0)
    assert response.status_code == 204
    assert response["Upload-Offset"] == str(len(data))
    item = IngestItem.objects.get(pk=int(response["X-Ingest-Item"]))
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert len(item.sm3) == 64
    completed = Event.objects.get(action="ingest.upload_completed")
    assert completed.details["sha256"] == item.sha256 and completed.details["sm3"] == item.sm3
    assert completed.details["size"] == len(data)
    stored = StoredObject.objects.get(area="originals")
    assert (stored.sha256, stored.sm3, stored.size) == (item.sha256, item.sm3, len(data))
    assert stored_digests(stored) == stored.digests


@pytest.mark.req("ING-6")
def test_upload_cut_at_half_resumes_from_head_offset_and_digest_matches(tus):
    data = _payload(400_000)
    half = len(data) // 2
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    assert tus.patch(url, data[:half], 0).status_code == 204
    digesters.forget(
        Upload.objects.get().pk.hex
    )  # as after a restart: digest state rebuilt from disk
    head = tus.head(url)
    assert head["Upload-Offset"] == str(half)
    response = tus.patch(url, data[half:], int(head["Upload-Offset"]))
    assert response.status_code == 204
    item = IngestItem.objects.get()
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert StoredObject.objects.get().sha256 == item.sha256


@pytest.mark.req("ING-6")
def test_connection_dropped_mid_patch_keeps_what_arrived(tus, monkeypatch):
    monkeypatch.setattr(streams, "READ_CHUNK", 64 * 1024)
    data = _payload(500_000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]

    class Dropping(io.BytesIO):
        def read(self, size=-1):
            if self.tell() >= 200_000:
                raise OSError("connection reset by peer")
            return super().read(size)

    response = tus.client.patch(
        url,
        data=b"",
        content_type=OCTET,
        headers={**TUS, "Upload-Offset": "0"},
        CONTENT_LENGTH=str(len(data)),
        CONTENT_TYPE=OCTET,
        **{"wsgi.input": Dropping(data)},
    )
    kept = int(tus.head(url)["Upload-Offset"])
    assert response.status_code == 204
    assert 0 < kept < len(data) and kept % (64 * 1024) == 0
    upload, staging = _staging(url)
    assert staging.size() == kept and list(staging.read_prefix(kept)) and upload.offset == kept
    assert tus.patch(url, data[kept:], kept).status_code == 204
    assert IngestItem.objects.get().sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.req("ING-6")
def test_patch_at_wrong_offset_answers_409(tus):
    url = tus.create(100, {"filename": "a.bin"})["Location"]
    response = tus.patch(url, b"x" * 10, 5)
    assert response.status_code == 409
    assert _json(response)["code"] == "offset_mismatch"
    assert response["Upload-Offset"] == "0"


@pytest.mark.req("ING-6")
def test_patch_with_wrong_content_type_answers_415(tus):
    url = tus.create(100, {"filename": "a.bin"})["Location"]
    response = tus.client.patch(
        url, b"x", content_type="application/octet-stream", headers={**TUS, "Upload-Offset": "0"}
    )
    assert response.status_code == 415
    assert _json(response)["code"] == "unsupported_media_type"
    upload, staging = _staging(url)
    assert staging.size() == 0 and upload.offset == 0


@pytest.mark.req("ING-6")
def test_wrong_upload_checksum_answers_460_discards_bytes_and_resume_works(tus):
    data = _payload(200_000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    assert tus.patch(url, data[:100_000], 0, checksum=sha256_b64(data[:100_000])).status_code == 204
    bad = tus.patch(url, data[100_000:], 100_000, checksum=sha256_b64(b"something else"))
    assert bad.status_code == 460
    assert _json(bad)["code"] == "checksum_mismatch" and "校验" in _json(bad)["message"]
    assert bad["Upload-Offset"] == "100000"
    upload, staging = _staging(url)
    assert staging.size() == 100_000 and upload.offset == 100_000
    good = tus.patch(url, data[100_000:], 100_000, checksum=sha256_b64(data[100_000:]))
    assert good.status_code == 204
    assert IngestItem.objects.get().sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.req("ING-6")
def test_checksum_with_unsupported_algorithm_answers_400(tus):
    url = tus.create(10, {"filename": "a.bin"})["Location"]
    response = tus.patch(url, b"x" * 10, 0, checksum="crc32 AAAAAA==")
    assert response.status_code == 400
    assert _json(response)["code"] == "checksum_algorithm_unsupported"
    upload, staging = _staging(url)
    assert staging.size() == 0 and upload.offset == 0 and not IngestItem.objects.exists()


@pytest.mark.req("ING-6")
def test_sha1_and_md5_checksums_accepted(tus):
    data = _payload(1000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    sha1 = "sha1 " + base64.b64encode(hashlib.sha1(data[:500]).digest()).decode()  # noqa: S324
    md5 = "md5 " + base64.b64encode(hashlib.md5(data[500:]).digest()).decode()  # noqa: S324
    assert tus.patch(url, data[:500], 0, checksum=sha1).status_code == 204
    assert tus.patch(url, data[500:], 500, checksum=md5).status_code == 204


@pytest.mark.req("ING-6")
def test_body_longer_than_declared_length_answers_413_and_writes_nothing(tus):
    url = tus.create(100, {"filename": "a.bin"})["Location"]
    response = tus.patch(url, b"x" * 150, 0)
    assert response.status_code == 413
    assert "超出" in _json(response)["message"]
    upload, staging = _staging(url)
    assert staging.size() == 0 and upload.offset == 0 and upload.status == UploadStatus.RECEIVING


@pytest.mark.req("ING-6")
def test_chunked_body_that_overruns_length_is_cut_back_and_resume_works(tus, monkeypatch):
    monkeypatch.setattr(streams, "READ_CHUNK", 16 * 1024)
    data = _payload(100_000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    assert tus.patch(url, data[:40_000], 0).status_code == 204
    liar = io.BytesIO(data[40_000:] + b"extra bytes the client never declared" * 1000)
    response = tus.client.patch(
        url,
        data=b"",
        content_type=OCTET,
        headers={**TUS, "Upload-Offset": "40000"},
        CONTENT_LENGTH="",
        CONTENT_TYPE=OCTET,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": liar},
    )
    assert response.status_code == 413
    upload, staging = _staging(url)
    assert staging.size() == 40_000 and upload.offset == 40_000
    assert tus.patch(url, data[40_000:], 40_000).status_code == 204
    assert IngestItem.objects.get().sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.req("ING-6")
@pytest.mark.filesystem_vault  # a full local disk; S3's refusals are in storage/tests/test_s3.py
def test_disk_full_while_writing_answers_507_catalogues_nothing_and_resumes(tus, monkeypatch):
    monkeypatch.setattr(streams, "READ_CHUNK", 32 * 1024)
    data = _payload(300_000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    budget = {"left": 100_000}
    real_write = FilesystemBackend.os_write

    def full_disk(fd, view):
        if budget["left"] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real_write(fd, view[: budget["left"]])
        budget["left"] -= n
        return n

    monkeypatch.setattr(FilesystemBackend, "os_write", staticmethod(full_disk))
    response = tus.patch(url, data, 0)
    assert response.status_code == 507
    assert _json(response)["code"] == "vault_full" and "空间不足" in _json(response)["message"]
    upload, staging = _staging(url)
    good = upload.offset
    assert good == staging.size() and good > 0 and good % (32 * 1024) == 0
    assert response["Upload-Offset"] == str(good)
    assert not StoredObject.objects.exists() and not Recording.objects.exists()
    assert not IngestItem.objects.exists()
    # space freed: resume from the last good offset
    monkeypatch.setattr(FilesystemBackend, "os_write", staticmethod(real_write))
    assert tus.head(url)["Upload-Offset"] == str(good)
    assert tus.patch(url, data[good:], good).status_code == 204
    item = IngestItem.objects.get()
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert StoredObject.objects.get().sha256 == item.sha256


@pytest.mark.req("ING-6")
def test_declared_whole_file_sha256_mismatch_rejects_upload_whole(tus):
    data = _payload(5000)
    url = tus.create(
        len(data), {"filename": "a.bin", "sha256": hashlib.sha256(b"other").hexdigest()}
    )["Location"]
    response = tus.patch(url, data, 0)
    assert response.status_code == 460
    assert "SHA-256" in _json(response)["message"]
    upload, staging = _staging(url)
    assert upload.status == UploadStatus.REJECTED and staging.size() == 0
    assert not StoredObject.objects.exists()
    assert Event.objects.filter(action="ingest.upload_rejected", subject_id=str(upload.pk)).exists()
    assert tus.head(url).status_code == 410


@pytest.mark.req("ING-6")
def test_declared_whole_file_sha256_match_accepted(tus):
    data = _payload(5000)
    item = tus.upload(data, "a.bin", sha256=hashlib.sha256(data).hexdigest())
    item.refresh_from_db()
    assert item.declared_sha256 == item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.upload.status == UploadStatus.COMPLETE
    assert item.recording is not None and item.recording.original.sha256 == item.sha256
    assert not Event.objects.filter(action="ingest.upload_rejected").exists()


@pytest.mark.req("ING-6")
def test_repeating_final_patch_is_idempotent(tus):
    data = _payload(5000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    first = tus.patch(url, data, 0)
    again = tus.patch(url, b"", len(data))
    assert again.status_code == 204 and again["X-Ingest-Item"] == first["X-Ingest-Item"]
    assert IngestItem.objects.count() == 1 and StoredObject.objects.count() == 1


@pytest.mark.req("ING-1")
def test_creation_with_upload_accepts_first_bytes_in_post(tus):
    data = _payload(3000)
    with tus.capture(execute=True):
        response = tus.client.post(
            "/api/v1/uploads/",
            data=data,
            content_type=OCTET,
            headers={
                **TUS,
                "Upload-Length": "3000",
                "Upload-Metadata": encode_metadata({"filename": "a.bin"}),
            },
        )
    assert response.status_code == 201
    assert response["Upload-Offset"] == "3000"
    assert IngestItem.objects.get().sha256 == hashlib.sha256(data).hexdigest()


# --- termination and expiry ------------------------------------------------------------


@pytest.mark.req("ING-6")
def test_delete_discards_staging_and_is_idempotent(tus, officer):
    url = tus.create(1000, {"filename": "a.bin"})["Location"]
    tus.patch(url, b"x" * 500, 0)
    upload, staging = _staging(url)
    assert staging.size() == 500
    assert tus.delete(url).status_code == 204
    assert staging.size() == 0 and upload.staging_name not in staged_names()
    assert Upload.objects.get().status == UploadStatus.TERMINATED
    event = Event.objects.get(action="ingest.upload_terminated")
    assert event.actor_id == officer.pk and event.details["offset"] == 500
    assert tus.delete(url).status_code == 204
    assert tus.head(url).status_code == 410
    assert tus.patch(url, b"x", 500).status_code == 410


@pytest.mark.req("ING-6")
def test_delete_of_completed_upload_refused_original_kept(tus):
    data = _payload(1000)
    url = tus.create(len(data), {"filename": "a.bin"})["Location"]
    assert tus.patch(url, data, 0).status_code == 204
    response = tus.delete(url)
    assert response.status_code == 409
    assert _json(response)["code"] == "upload_complete" and "不能删除" in _json(response)["message"]
    assert Upload.objects.get().status == UploadStatus.COMPLETE
    stored = StoredObject.objects.get()
    assert _vault_sha256(stored) == hashlib.sha256(data).hexdigest()
    assert not Event.objects.filter(action="ingest.upload_terminated").exists()


@pytest.mark.req("ING-6")
def test_stale_uploads_expire_with_staging_discarded_and_custody_event(tus):
    url = tus.create(1000, {"filename": "a.bin"})["Location"]
    tus.patch(url, b"x" * 300, 0)
    upload, staging = _staging(url)
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    fresh_url = tus.create(1000, {"filename": "b.bin"})["Location"]
    assert services.expire_stale_uploads() == 1
    assert staging.size() == 0 and upload.staging_name not in staged_names()
    assert Upload.objects.get(pk=upload.pk).status == UploadStatus.EXPIRED
    event = Event.objects.get(action="ingest.upload_terminated", subject_id=str(upload.pk))
    assert event.details["reason"] == "expired" and event.details["offset"] == 300
    assert tus.head(url).status_code == 410
    assert tus.head(fresh_url).status_code == 200


@pytest.mark.req("ING-6")
def test_expiry_task_runs_the_service(tus):
    url = tus.create(1000, {"filename": "a.bin"})["Location"]
    upload, _staging_file = _staging(url)
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expire_stale_uploads_task.call_local()
    assert Upload.objects.get(pk=upload.pk).status == UploadStatus.EXPIRED


# --- authentication ------------------------------------------------------------------------


@pytest.mark.req("ING-1")
def test_session_upload_requires_csrf_token(officer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    refused = client.post("/api/v1/uploads/", headers={**TUS, "Upload-Length": "10"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    client.get("/api/v1/uploads/")  # any response; the cookie is set below
    token = "a" * 32
    client.cookies["csrftoken"] = token
    accepted = client.post(
        "/api/v1/uploads/", headers={**TUS, "Upload-Length": "10", "X-CSRFToken": token}
    )
    assert accepted.status_code == 201


@pytest.mark.req("ING-1")
def test_bearer_token_upload_needs_no_csrf_and_is_marked_api(
    officer, django_capture_on_commit_callbacks
):
    from orgs.services import issue_api_token

    _row, token = issue_api_token(officer, "采集站", actor=officer)
    client = Client(enforce_csrf_checks=True)
    auth = {**TUS, "Authorization": f"Bearer {token}"}
    data = _payload(2000)
    created = client.post(
        "/api/v1/uploads/",
        headers={
            **auth,
            "Upload-Length": "2000",
            "Upload-Metadata": encode_metadata({"filename": "a.bin"}),
        },
    )
    assert created.status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        done = client.patch(
            created["Location"], data, content_type=OCTET, headers={**auth, "Upload-Offset": "0"}
        )
    assert done.status_code == 204
    item = IngestItem.objects.get()
    assert item.source == "api" and item.created_by == officer
    bad = Client().post(
        "/api/v1/uploads/",
        headers={**TUS, "Upload-Length": "10", "Authorization": "Bearer avr_x_y"},
    )
    assert bad.status_code == 401


@pytest.mark.req("ING-6")
def test_busy_upload_answers_423(tus):
    url = tus.create(100, {"filename": "a.bin"})["Location"]
    upload = Upload.objects.get()
    held, done = threading.Event(), threading.Event()

    def other_request():  # another thread: its own database session, as another node has
        from django.db import connection

        try:
            with services.upload_write_lock(upload.pk):
                held.set()
                done.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=other_request)
    holder.start()
    assert held.wait(10)
    try:
        response = tus.patch(url, b"x" * 10, 0)
    finally:
        done.set()
        holder.join()
    assert response.status_code == 423
    assert tus.patch(url, b"x" * 10, 0).status_code == 204


@pytest.mark.req("ING-6")
def test_item_status_flow_ends_in_final_state(tus):
    item = tus.upload(_payload(1000), "a.bin")
    # bytes that are no media: kept, catalogued and flagged, every step recorded in order
    assert item.status == IngestStatus.FLAGGED and item.is_final and item.finished_at is not None
    assert [s["name"] for s in item.steps] == [
        "store", "dedupe", "probe", "metadata", "catalogue", "poster", "proxy"
    ]
    assert [s["outcome"] for s in item.steps][:5] == ["ok"] * 5
    assert item.recording is not None and item.recording.flagged
    assert Event.objects.filter(action="ingest.flagged", subject_id=str(item.recording_id)).exists()


@pytest.mark.req("ING-6")
def test_queue_down_at_the_last_patch_still_acknowledges_and_the_sweep_runs_the_item(
    tus, monkeypatch, caplog
):
    """Redis unreachable when the finished upload is handed to the workers: the upload is
    complete, so the client is told so (204, never 500); the item waits as received and the
    stalled-item sweep runs it once the queue is back."""
    import redis

    real_task = tasks.run_ingest_item_task

    def queue_down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(tasks, "run_ingest_item_task", queue_down)
    data = _payload(200_000)
    url = tus.create(len(data), {"filename": "队列中断.bin"})["Location"]
    response = tus.patch(url, data, 0)
    assert response.status_code == 204
    assert response["Upload-Offset"] == str(len(data))
    item = IngestItem.objects.get(pk=int(response["X-Ingest-Item"]))
    assert item.status == IngestStatus.RECEIVED and item.recording_id is None
    assert "could not enqueue ingest item" in caplog.text

    monkeypatch.setattr(tasks, "run_ingest_item_task", real_task)  # the queue is back
    assert tasks.requeue_stalled_items(now=timezone.now() + STALLED_AFTER * 2) == 1
    item.refresh_from_db()
    # catalogued (flagged: random bytes are no media, and are kept as an original all the same)
    assert item.status == IngestStatus.FLAGGED and item.recording_id is not None
