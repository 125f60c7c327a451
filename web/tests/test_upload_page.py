"""The upload page's "本次上传" shows the files sent from this page view, nothing earlier (issue 6).

Each view of /upload/ mints a batch id; upload.js sends it with every file as tus
Upload-Metadata ``batch``; the polled list shows the user's items of that batch only.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from core.testing import make_person, make_recording
from ingest.local import ingest_stream
from ingest.models import IngestItem

BATCH = "0123456789abcdef0123456789abcdef"
UPLOAD_JS = Path(__file__).resolve().parents[1] / "static" / "web" / "upload.js"


def _item(person, name, *, batch="", **fields):
    now = timezone.now()
    return IngestItem.objects.create(
        filename=name,
        created_by=person,
        created_at=now,
        updated_at=now,
        metadata={"batch": batch} if batch else {},
        **fields,
    )


@pytest.mark.req("ING-1")
def test_each_page_view_starts_a_new_empty_batch(officer_client, officer):
    ingest_stream(io.BytesIO(b"sent earlier by the API"), actor=officer, filename="earlier.bin", metadata={})
    first = officer_client.get(reverse("web:upload"))
    second = officer_client.get(reverse("web:upload"))
    assert first.status_code == 200
    batch = first.context["batch"]
    assert re.fullmatch(r"[0-9a-f]{32}", batch) and batch != second.context["batch"]
    text = first.content.decode()
    assert f'data-batch="{batch}"' in text
    assert f'hx-get="{reverse("web:upload_items")}?batch={batch}"' in text
    assert "earlier.bin" not in text and "暂无上传" in text


@pytest.mark.req("ING-1", "ING-6")
def test_fragment_lists_this_batch_with_status_and_nothing_else(officer_client, officer, unit):
    rec = make_recording(officer)
    _item(officer, "a.mp4", batch=BATCH, status="processing")
    _item(officer, "b.mp4", batch=BATCH, status="flagged", status_message="逾期上传", recording=rec)
    _item(officer, "c.mp4", batch=BATCH, status="failed", status_message="文件不完整")
    _item(officer, "earlier-page.mp4", batch="f" * 32, status="stored")
    _item(officer, "api-upload.mp4", status="stored")
    _item(make_person("officer", unit=unit), "someone-else.mp4", batch=BATCH)
    response = officer_client.get(reverse("web:upload_items"), {"batch": BATCH})
    assert response.status_code == 200
    assert [i.filename for i in response.context["ingest_items"]] == ["c.mp4", "b.mp4", "a.mp4"]
    text = response.content.decode()
    for expected in (
        "处理中",
        "已入库（有异常）",
        "逾期上传",
        "失败",
        "文件不完整",
        reverse("web:recording_detail", args=[rec.pk]),
        'hx-trigger="every 2s',
        f"?batch={BATCH}",
    ):
        assert expected in text
    for absent in ("earlier-page.mp4", "api-upload.mp4", "someone-else.mp4"):
        assert absent not in text


@pytest.mark.req("ING-1")
@pytest.mark.parametrize("query", [{}, {"batch": ""}, {"batch": "../x"}, {"batch": "A" * 32}])
def test_fragment_without_a_valid_batch_lists_nothing(officer_client, officer, query):
    _item(officer, "api-upload.mp4", status="stored")
    response = officer_client.get(reverse("web:upload_items"), query)
    assert response.status_code == 200
    assert response.context["ingest_items"] == []
    assert "api-upload.mp4" not in response.content.decode()


@pytest.mark.req("ING-1")
def test_batch_sent_as_metadata_reaches_the_list(officer_client, officer):
    """What upload.js sends (Upload-Metadata ``batch``) is what the list filters by."""
    ingest_stream(io.BytesIO(b"from this page"), actor=officer, filename="now.bin", metadata={"batch": BATCH})
    response = officer_client.get(reverse("web:upload_items"), {"batch": BATCH})
    assert [i.filename for i in response.context["ingest_items"]] == ["now.bin"]
    script = UPLOAD_JS.read_text(encoding="utf-8")
    assert '"batch"' in script and "meta.batch = BATCH" in script
    assert "target.dataset.batch" in script
