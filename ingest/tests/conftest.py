"""Fixtures for ingest tests: a unit, an officer logged in, and a small tus client."""

from __future__ import annotations

import base64
import hashlib

import pytest

from core.testing import make_person, make_unit
from ingest.models import IngestItem

TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"


def encode_metadata(values: dict) -> str:
    parts = []
    for key, value in values.items():
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
        parts.append(f"{key} {base64.b64encode(raw).decode('ascii')}")
    return ",".join(parts)


class TusClient:
    """Drives /api/v1/uploads/ with Django's test Client; runs on-commit work (the pipeline) inline."""

    def __init__(self, client, capture):
        self.client = client
        self.capture = capture

    def create(self, length, metadata=None, **headers):
        head = {**TUS, **headers}
        if length is not None:
            head["Upload-Length"] = str(length)
        if metadata:
            head["Upload-Metadata"] = encode_metadata(metadata)
        return self.client.post("/api/v1/uploads/", headers=head)

    def head(self, url, **headers):
        return self.client.head(url, headers={**TUS, **headers})

    def patch(self, url, data: bytes, offset: int, *, checksum: str | None = None, **extra):
        headers = {**TUS, "Upload-Offset": str(offset)}
        if checksum:
            headers["Upload-Checksum"] = checksum
        with self.capture(execute=True):
            return self.client.patch(
                url,
                data=data,
                content_type=OCTET,
                headers=headers,
                **{"CONTENT_TYPE": OCTET, **extra},
            )

    def delete(self, url):
        return self.client.delete(url, headers=TUS)

    def upload(self, data: bytes, filename="clip.mp4", **metadata):
        """Create and send in one PATCH; return the IngestItem the upload became."""
        response = self.create(len(data), {"filename": filename, **metadata})
        assert response.status_code == 201, response.content
        url = response["Location"]
        response = self.patch(url, data, 0)
        assert response.status_code == 204, response.content
        return IngestItem.objects.get(pk=int(response["X-Ingest-Item"]))


@pytest.fixture
def unit(db):
    return make_unit()


@pytest.fixture
def officer(unit):
    return make_person("officer", unit=unit)


@pytest.fixture
def tus(client, officer, django_capture_on_commit_callbacks):
    client.force_login(officer)
    return TusClient(client, django_capture_on_commit_callbacks)


def sha256_b64(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()
