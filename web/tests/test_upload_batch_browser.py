"""In a real Chromium: "本次上传" lists the file sent from this page view, not earlier uploads,
and starts empty again on the next view (issue 6). Proves upload.js sends the page's batch."""

from __future__ import annotations

import os

import pytest

from core.testing_browser import launch_chromium, needs_chromium, password_step
from core.testing_server import Platform

PASSWORD = "Batch-pass-2026"

SEED = f"""
from core.testing import make_person, make_unit
from ingest.local import ingest_stream
person = make_person("officer", unit=make_unit(name="城区市场监管所"), username="wangfang",
                     full_name="王芳", password={PASSWORD!r})
ingest_stream(b"sent by the API before the page was opened", actor=person,
              filename="earlier-api-upload.bin", metadata={{}}, source="api")
"""

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]


@pytest.mark.req("ING-1")
def test_this_batch_list_shows_only_files_sent_from_this_page_view(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    upload = tmp_path / "this-page-file.bin"
    upload.write_bytes(os.urandom(64 * 1024))
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.shell(SEED)
        browser = launch_chromium(pw)
        page = browser.new_context(locale="zh-CN").new_page()
        page.set_default_timeout(20_000)
        base = platform.base_url
        password_step(page, base, "wangfang", PASSWORD)
        expect(page.locator("body")).to_contain_text("王芳")

        page.goto(f"{base}/upload/")
        listing = page.locator("#ingest-items")
        expect(listing).to_contain_text("暂无上传")
        batch = page.locator("#uppy-dashboard").get_attribute("data-batch")
        page.locator("#uppy-dashboard input[type=file]").first.set_input_files(str(upload))
        page.locator(".uppy-StatusBar-actionBtn--upload").click()
        expect(listing).to_contain_text("this-page-file.bin", timeout=60_000)
        expect(listing.locator(".badge", has_text="已入库")).to_have_count(1, timeout=60_000)
        expect(listing).not_to_contain_text("earlier-api-upload.bin")

        sent = platform.shell(
            "from ingest.models import IngestItem;"
            "print(IngestItem.objects.get(filename='this-page-file.bin').metadata.get('batch'))"
        )
        assert sent.split()[-1] == batch

        page.goto(f"{base}/upload/")  # a new page view is a new batch
        expect(page.locator("#ingest-items")).to_contain_text("暂无上传")
        expect(page.locator("#ingest-items")).not_to_contain_text("this-page-file.bin")
        browser.close()
