"""The audit administrator in Chromium on the demo data: the log, verifications, the register.

Screenshots land in $AVR_SCREENSHOTS (default ./var/screenshots) for people to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.testing_browser import launch_chromium, needs_chromium
from core.testing_server import ROOT, Platform

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def shots():
    folder = Path(os.environ.get("AVR_SCREENSHOTS", ROOT / "var" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.req("ACC-2", "ACC-5", "ACC-6")
def test_audit_admin_reads_log_verifications_and_register(tmp_path, shots):
    from playwright.sync_api import expect, sync_playwright

    from orgs.management.commands.seed_demo import DEMO_PASSWORD

    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.manage("seed_demo")
        # a few register entries, as officers' views, plays and downloads write them
        platform.shell(
            "from access.services import register_access\n"
            "from recordings.models import Recording\n"
            "for n, r in enumerate(Recording.objects.order_by('pk')[:4]):\n"
            "    who = r.primary_officer\n"
            "    register_access(r, actor=who, action='view', client='web 10.2.3.4 Mozilla/5.0')\n"
            "    register_access(r, actor=who, action='play', purpose='案件审核', client='web 10.2.3.4')\n"
            "    if n == 0:\n"
            "        register_access(r, actor=who, action='download', purpose='移送司法机关',"
            " approval_ref='审批〔2026〕3号', client='api 10.2.3.9')\n"
        )
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        base = platform.base_url

        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "auditadmin")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("body")).to_contain_text("林峰")
        nav = page.locator("#sidebar-menu")
        for label in ("审计日志", "校验结果", "查阅登记"):
            expect(nav).to_contain_text(label)

        # the log browser, then filtered by action
        nav.get_by_text("审计日志").click()
        expect(page.locator("h2.page-title")).to_have_text("审计日志")
        expect(page.locator(".audit-events-table tbody tr").first).to_be_visible()
        page.screenshot(path=shots / "audit-01-events.png", full_page=False)
        page.select_option("#id_action", "auth.login")
        page.click("#filter-form button[type=submit]")
        page.wait_for_load_state("load")
        assert "action=auth.login" in page.url
        badges = page.locator(".audit-events-table tbody tr td:nth-child(4)").all_inner_texts()
        assert badges and set(badges) == {"登录"}, badges
        page.locator("details.technical-details summary").first.click()
        expect(page.locator("details.technical-details pre").first).to_contain_text('"hash"')
        expect(page.locator("details.technical-details pre").first).to_be_visible()
        page.screenshot(path=shots / "audit-02-events-filtered.png", full_page=False)
        # a refused filter says why in Chinese and lists nothing
        page.goto(f"{base}/audit/events/?date_from=2026-03-02&date_to=2026-03-01")
        expect(page.locator("#filter-errors")).to_contain_text("结束日期不能早于开始日期")
        expect(page.locator(".audit-events-table")).to_have_count(0)

        # verifications: run one now
        nav.get_by_text("校验结果").click()
        page.click("#verify-form button[type=submit]")
        page.wait_for_load_state("load")
        expect(page.locator(".messages")).to_contain_text("校验完成")
        expect(page.locator(".verifications-table tbody tr").first).to_contain_text("人工执行")
        page.screenshot(path=shots / "audit-03-verifications.png", full_page=False)

        # the access register, filtered, and its export
        nav.get_by_text("查阅登记").click()
        expect(page.locator("h2.page-title")).to_have_text("查阅登记")
        page.screenshot(path=shots / "audit-04-access.png", full_page=False)
        page.select_option("#id_action", "view")
        page.click("#filter-form button[type=submit]")
        page.wait_for_load_state("load")
        assert "action=view" in page.url
        with page.expect_download() as download:
            page.click("#export-xlsx")
        path = tmp_path / "register.xlsx"
        download.value.save_as(path)
        from openpyxl import load_workbook

        rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        assert rows[0][0] == "登记编号"
        assert all(r[5] == "查看" for r in rows[1:] if r), rows[:3]
        page.screenshot(path=shots / "audit-05-access-filtered.png", full_page=False)
        browser.close()
