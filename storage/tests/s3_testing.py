"""The S3 vault in tests: Ceph RGW started by bin/test (or bin/ceph), one key prefix per test.

``AVR_TEST_S3_ENDPOINT`` (with ``AVR_TEST_S3_ACCESS_KEY`` / ``AVR_TEST_S3_SECRET_KEY``) points at
the gateway; ``AVR_TEST_CEPH_CONF`` at the cluster's ceph.conf, for tests that reach under the S3
API (a byte flipped in RADOS, as decay or an intruder with cluster access would). Without an
endpoint, S3 tests skip — and in bin/test's PostgreSQL pass a skipped ``s3`` test fails the run.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

ENDPOINT = os.environ.get("AVR_TEST_S3_ENDPOINT", "")
ACCESS_KEY = os.environ.get("AVR_TEST_S3_ACCESS_KEY", "")
SECRET_KEY = os.environ.get("AVR_TEST_S3_SECRET_KEY", "")
CEPH_CONF = os.environ.get("AVR_TEST_CEPH_CONF", "")
BUCKET = "avr-test-originals"
DERIVATIVE_BUCKET = "avr-test-derivatives"

needs_s3 = pytest.mark.skipif(not ENDPOINT, reason="no S3 endpoint (AVR_TEST_S3_ENDPOINT); bin/test starts Ceph RGW")


def s3_config(prefix: str | None = None, **overrides) -> dict:
    config = {
        "endpoint": ENDPOINT,
        "region": "us-east-1",
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "bucket": BUCKET,
        "derivative_bucket": DERIVATIVE_BUCKET,
        "prefix": prefix if prefix is not None else f"t-{uuid.uuid4().hex[:12]}/",
        "addressing": "path",
        "lock_mode": "COMPLIANCE",
        "create_buckets": True,
    }
    config.update(overrides)
    return config


def make_backend(prefix: str | None = None, **overrides):
    from storage.backends.s3 import S3Backend

    backend = S3Backend(**s3_config(prefix, **overrides))
    backend.check()
    return backend


def rados(*args: str, input: bytes | None = None) -> bytes:
    if not CEPH_CONF:
        pytest.fail("AVR_TEST_CEPH_CONF is not set: cannot reach under the S3 API")
    return subprocess.run(["rados", "-c", CEPH_CONF, *args], input=input, capture_output=True,
                          check=True, timeout=60).stdout


def flip_byte_in_rados(backend, key: str, position: int = 7) -> None:
    """Change one byte of the stored version inside the cluster, behind the S3 gateway's back."""
    _bucket, name = backend._locate(key)
    pool = "default.rgw.buckets.data"
    listing = rados("-p", pool, "ls").decode().splitlines()
    # a multipart object keeps its bytes in its parts; a plain one in its head
    candidates = [line for line in listing if f"__multipart_{name}." in line]
    candidates += [line for line in listing if line.endswith("_" + name) and "__shadow_" not in line]
    if not candidates:
        pytest.fail(f"no RADOS head object for {name}")
    for obj in candidates:
        data = bytearray(rados("-p", pool, "get", obj, "-"))
        if len(data) > position:
            data[position] ^= 0xFF
            rados("-p", pool, "put", obj, "-", input=bytes(data))
            return
    pytest.fail(f"no RADOS object of {name} holds byte {position}")
