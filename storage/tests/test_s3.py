"""The S3 object-lock vault passes the shared contract on Ceph RGW, plus what only S3 can show:
the *server* refuses to destroy a locked original (INT-2, ING-2)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from botocore.exceptions import ClientError

from storage.backends.base import (
    Area,
    CommitChecksumError,
    VaultError,
    VaultUnavailableError,
)
from storage.tests.contract import VaultContract, expected_digests, payload, read_all
from storage.tests.s3_testing import flip_byte_in_rados, make_backend, needs_s3

pytestmark = [needs_s3, pytest.mark.s3]


class TestS3Vault(VaultContract):
    @pytest.fixture
    def backend(self):
        return make_backend()

    def object_identity(self, backend, key):
        bucket, name = backend._locate(key)
        listing = backend.client.list_object_versions(Bucket=bucket, Prefix=name)
        return sorted((v["VersionId"], v["ETag"], v["Size"]) for v in listing.get("Versions", []))

    def tamper(self, backend, key):
        flip_byte_in_rados(backend, key)

    def fill_disk_after(self, backend, monkeypatch, budget):
        remaining = [budget]
        real_put = backend.client.put_object

        def put_object(**kwargs):
            size = len(kwargs.get("Body", b""))
            if size > remaining[0]:
                raise ClientError({"Error": {"Code": "QuotaExceeded", "Message": "quota"}}, "PutObject")
            remaining[0] -= size
            return real_put(**kwargs)

        monkeypatch.setattr(backend.client, "put_object", put_object)


@pytest.mark.req("INT-2")
class TestObjectLockOnTheServer:
    """Not our code refusing: the S3 server itself, asked directly with the platform's own keys."""

    @pytest.fixture
    def backend(self):
        return make_backend()

    def _version(self, backend, key):
        bucket, name = backend._locate(key)
        versions = backend.client.list_object_versions(Bucket=bucket, Prefix=name)["Versions"]
        assert len(versions) == 1
        return bucket, name, versions[0]["VersionId"]

    def test_original_is_locked_in_compliance_mode(self, backend):
        key = backend.write([b"locked by the store"]).key
        retention = backend.retention(key)
        assert retention.mode == "COMPLIANCE" and retention.enforced_by_store
        bucket, name, version = self._version(backend, key)
        head = backend.client.head_object(Bucket=bucket, Key=name, VersionId=version)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC) + dt.timedelta(days=700)

    def test_server_refuses_to_delete_a_locked_version(self, backend):
        data = payload(100_000, seed=21)
        key = backend.write([data]).key
        bucket, name, version = self._version(backend, key)
        for extra in ({}, {"BypassGovernanceRetention": True}):
            with pytest.raises(ClientError) as refused:
                backend.client.delete_object(Bucket=bucket, Key=name, VersionId=version, **extra)
            assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert read_all(backend, key) == data

    def test_server_refuses_to_shorten_the_lock(self, backend):
        key = backend.write([b"no shortening"]).key
        bucket, name, version = self._version(backend, key)
        until = backend.retention(key).until
        with pytest.raises(ClientError):
            backend.client.put_object_retention(
                Bucket=bucket, Key=name, VersionId=version,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until - dt.timedelta(days=30)},
            )
        assert backend.retention(key).until == until

    def test_a_delete_marker_or_a_new_version_does_not_change_what_we_read(self, backend):
        data = payload(50_000, seed=22)
        key = backend.write([data]).key
        bucket, name, _version = self._version(backend, key)
        backend.client.delete_object(Bucket=bucket, Key=name)  # allowed: only adds a marker
        fresh = make_backend(prefix=backend.prefix)  # another node, nothing cached
        assert read_all(fresh, key) == data
        assert fresh.verify(key, expected_digests(data)).status == "pass"
        backend.client.put_object(Bucket=bucket, Key=name, Body=b"forged")
        fresh = make_backend(prefix=backend.prefix)
        assert b"".join(fresh.open_range(key)) == data
        assert fresh.stat(key).size == len(data)

    def test_derivatives_are_not_locked(self, backend):
        key = backend.write([b"a poster"], area=Area.DERIVATIVE).key
        retention = backend.retention(key)
        assert retention.until is None and not retention.enforced_by_store
        bucket, name = backend._locate(key)
        assert bucket == backend.derivative_bucket != backend.bucket


@pytest.mark.req("INT-2")
class TestS3Staging:
    def test_an_upload_begun_on_one_node_resumes_on_another(self):
        data = payload(3 * 1024 * 1024 + 5, seed=23)
        node_a = make_backend()
        node_b = make_backend(prefix=node_a.prefix)  # same store, nothing shared in memory
        node_a.staging("shared-upload").append([data[:1_000_000]], offset=0)
        resumed = node_b.staging("shared-upload")
        assert resumed.size() == 1_000_000
        assert b"".join(resumed.read_prefix(1_000_000)) == data[:1_000_000]
        resumed.append([data[1_000_000:]], offset=1_000_000)
        result = node_b.commit(resumed, expected_digests(data))
        assert read_all(node_a, result.key) == data

    def test_a_large_upload_is_streamed_in_segments(self, monkeypatch):
        from storage.backends import s3

        monkeypatch.setattr(s3, "SEGMENT_SIZE", 5 * 1024 * 1024)
        backend = make_backend()
        data = payload(11 * 1024 * 1024 + 3, seed=24)
        staging = backend.staging("segmented")
        chunks = [data[i : i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024)]
        staging.append(chunks, offset=0)
        assert len(staging.segments()) == 3
        result = backend.commit(staging, expected_digests(data))
        assert backend.verify(result.key, expected_digests(data)).status == "pass"
        bucket, name = backend._locate(result.key)
        head = backend.client.head_object(Bucket=bucket, Key=name)
        assert head["ETag"].strip('"').endswith("-3")  # three parts, never the whole file at once
        assert staging.size() == 0


def _corrupting(position: int):
    """A botocore before-send hook that flips one byte of the request body in transit."""

    def corrupt(request, **kwargs):
        body = bytearray(request.body if isinstance(request.body, bytes) else request.body.read())
        body[position] ^= 0xFF
        request.body = bytes(body)

    return corrupt


@pytest.mark.req("INT-2")
class TestS3Faults:
    def test_a_part_the_server_received_corrupted_is_refused_and_nothing_is_stored(self):
        backend = make_backend()
        data = payload(200_000, seed=25)

        corrupt = _corrupting(10)
        backend.client.meta.events.register("before-send.s3.UploadPart", corrupt)
        staging = backend.staging("corrupted-in-transit")
        staging.append([data], offset=0)
        with pytest.raises(CommitChecksumError) as caught:
            backend.commit(staging, expected_digests(data))
        assert "不一致" in caught.value.message
        assert backend.stat(backend.key_for(expected_digests(data).sha256, Area.ORIGINAL)) is None
        assert staging.size() == len(data)  # the upload is still there to try again
        backend.client.meta.events.unregister("before-send.s3.UploadPart", corrupt)
        assert backend.commit(staging, expected_digests(data)).created

    def test_a_staging_segment_the_server_received_corrupted_is_refused(self):
        # the signed payload (SigV4 with the body's SHA-256) is what guards a staging PUT
        backend = make_backend()
        data = payload(300_000, seed=26)
        written = []
        corrupt = _corrupting(7)
        backend.client.meta.events.register("before-send.s3.PutObject", corrupt)
        staging = backend.staging("segment-corrupted-in-transit")
        try:
            with pytest.raises(VaultError):
                staging.append([data], offset=0, on_written=written.append)
        finally:
            backend.client.meta.events.unregister("before-send.s3.PutObject", corrupt)
        assert staging.size() == 0 and written == []  # nothing durable, nothing hashed
        staging.append([data], offset=0, on_written=written.append)
        assert b"".join(written) == data
        assert backend.commit(staging, expected_digests(data)).created

    def test_unreachable_store_is_a_clear_error(self):
        from storage.backends.s3 import S3Backend
        from storage.tests.s3_testing import s3_config

        backend = S3Backend(**s3_config(endpoint="http://127.0.0.1:9"))
        for probe in (backend.check, backend.ping):  # at start, and the health endpoint
            with pytest.raises(VaultUnavailableError) as caught:
                probe()
            assert "无法连接" in caught.value.message

    def test_wrong_key_is_a_clear_error(self):
        from storage.backends.s3 import S3Backend
        from storage.tests.s3_testing import s3_config

        backend = S3Backend(**s3_config(secret_key="not-the-secret"))
        for probe in (backend.check, backend.ping):
            with pytest.raises(VaultUnavailableError) as caught:
                probe()
            assert "密钥" in caught.value.message

    def test_bucket_without_object_lock_is_refused(self):
        import uuid

        from storage.backends.s3 import S3Backend
        from storage.tests.s3_testing import s3_config

        name = f"avr-test-nolock-{uuid.uuid4().hex[:8]}"
        probe = make_backend()
        probe.client.create_bucket(Bucket=name)
        backend = S3Backend(**s3_config(bucket=name, derivative_bucket=f"{name}-d"))
        with pytest.raises(VaultError) as caught:
            backend.check()
        assert "对象锁定" in caught.value.message

    def test_missing_bucket_is_refused_when_creation_is_off(self):
        from storage.backends.s3 import S3Backend
        from storage.tests.s3_testing import s3_config

        backend = S3Backend(**s3_config(bucket="avr-test-absent-bucket", create_buckets=False))
        with pytest.raises(VaultError) as caught:
            backend.check()
        assert "不存在" in caught.value.message

    def test_store_down_mid_append_keeps_what_was_durable(self, monkeypatch):
        from botocore.exceptions import EndpointConnectionError

        from storage.backends import s3

        monkeypatch.setattr(s3, "SEGMENT_SIZE", 64 * 1024)
        backend = make_backend()
        data = payload(64 * 1024 * 3, seed=26)
        chunks = [data[i : i + 64 * 1024] for i in range(0, len(data), 64 * 1024)]
        calls = {"n": 0}
        real_put = backend.client.put_object

        def flaky(**kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise EndpointConnectionError(endpoint_url=backend.endpoint)
            return real_put(**kwargs)

        monkeypatch.setattr(backend.client, "put_object", flaky)
        seen = []
        staging = backend.staging("store-down")
        with pytest.raises(VaultUnavailableError):
            staging.append(chunks, offset=0, on_written=seen.append)
        assert seen == chunks[:1] and staging.size() == 64 * 1024
        monkeypatch.setattr(backend.client, "put_object", real_put)  # back up
        staging.append(chunks[1:], offset=staging.size())
        assert read_all(backend, backend.commit(staging, expected_digests(data)).key) == data

    def test_write_from_file_object_never_reads_it_whole(self):
        backend = make_backend()

        class Counting(io.BytesIO):
            biggest = 0

            def read(self, size=-1):
                assert size is not None and size > 0
                Counting.biggest = max(Counting.biggest, size)
                return super().read(size)

        data = payload(2_000_000, seed=27)
        result = backend.write(Counting(data))
        assert Counting.biggest <= 4 * 1024 * 1024
        assert read_all(backend, result.key) == data
