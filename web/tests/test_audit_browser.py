"""The audit administrator in Chromium on the demo data: the log, checkpoints and witnesses, a
proof bundle, verifications, the register; the system administrator reaches none of it.

Screenshots land in $AVR_SCREENSHOTS/audit (default ./var/screenshots/audit) for people to look at.
"""

from __future__ import annotations

import json
import re

import pytest

from core.testing_browser import launch_chromium, needs_chromium, screenshot_dir, sign_in
from core.testing_server import Platform
from web.tests.english import english_words, in_context

pytestmark = [pytest.mark.browser, needs_chromium]

WITNESS = "audit.example.gov.cn/witness"
# identifiers that are data on these pages, not language: the witness's name (and the demo
# accounts, as in test_no_english)
DATA_WORDS = {"audit.example.gov.cn", "witness"}


@pytest.fixture
def shots():
    return screenshot_dir("audit")


@pytest.fixture
def witness_key(tmp_path):
    """A witness's Ed25519 key (PEM file) and its verifier key text for AVR_LOG_WITNESSES."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from custody.verifier import note

    private = Ed25519PrivateKey.generate()
    path = tmp_path / "witness.key"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return path, note.VerifierKey.make(WITNESS, public, note.ALG_COSIGNATURE_V1).text()


# A checkpoint of the demo's log, co-signed by the witness as ``custody.witness poll`` does.
COSIGN = """
import time
from cryptography.hazmat.primitives import serialization
from custody.checkpoints import add_cosignature, make_checkpoint
from custody.keys import ensure_log_keys
from custody.verifier import note
from custody.witness import cosign
ensure_log_keys()
cp = make_checkpoint(trigger="scheduled")
private = serialization.load_pem_private_key(open({path!r}, "rb").read(), password=None)
add_cosignature(cp, cosign(private, {name!r}, note.parse_checkpoint(cp.note).body, int(time.time())))
print(cp.size)
"""

REGISTER = (
    "from access.services import register_access\n"
    "from recordings.models import Recording\n"
    "for n, r in enumerate(Recording.objects.order_by('pk')[:4]):\n"
    "    who = r.primary_officer\n"
    "    register_access(r, actor=who, action='view', client='web 10.2.3.4 Mozilla/5.0')\n"
    "    register_access(r, actor=who, action='play', purpose='案件审核', client='web 10.2.3.4')\n"
    "    if n == 0:\n"
    "        register_access(r, actor=who, action='download', purpose='移送司法机关',"
    " approval_ref='审批〔2026〕3号', client='api 10.2.3.9')\n"
    "print(Recording.objects.order_by('pk').first().pk)\n"
)


def _no_english(page, where: str) -> None:
    from web.tests.test_no_english import DEMO_ROLES, READ_PAGE

    text = page.evaluate(READ_PAGE)
    words = english_words(text, also_allowed=DATA_WORDS | {d.username for d in DEMO_ROLES})
    assert words == [], (where, [in_context(text, w) for w in words])


def _sign_in(page, base, username, password):
    sign_in(page, base, username, password)  # the audit administrator enrols a second factor first


@pytest.mark.req("ACC-2", "ACC-5", "ACC-6")
def test_audit_admin_reads_log_checkpoints_verifications_and_register(tmp_path, shots, witness_key):
    from playwright.sync_api import expect, sync_playwright

    from custody.verifier.check import FAIL, check_bundle
    from orgs.management.commands.seed_demo import DEMO_PASSWORD

    key_path, key_text = witness_key
    env = {"AVR_LOG_WITNESSES": key_text}
    with Platform(tmp_path / "var", extra_env=env) as platform, sync_playwright() as pw:
        platform.manage("seed_demo")
        platform.shell("from custody.keys import ensure_log_keys; ensure_log_keys()")
        browser = launch_chromium(pw)
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        base = platform.base_url

        _sign_in(page, base, "auditadmin", DEMO_PASSWORD)
        expect(page.locator("body")).to_contain_text("林峰")
        page.screenshot(path=shots / "audit-00-home.png", full_page=True)
        nav = page.locator("#sidebar-menu")
        for label in ("审计日志", "校验结果", "查阅登记"):
            expect(nav).to_contain_text(label)

        # before any witness co-signed: the whole log relies on the database guards
        page.goto(f"{base}/audit/checkpoints/")
        expect(page.locator("#exposure-text")).to_contain_text("尚无经见证人联署的检查点")
        expect(page.locator("#exposure")).to_contain_text("如何设立见证人")
        _no_english(page, "检查点（未经见证）")
        page.screenshot(path=shots / "audit-00-checkpoints-unwitnessed.png", full_page=True)

        witnessed_size = int(
            platform.shell(COSIGN.format(path=str(key_path), name=WITNESS)).split()[-1]
        )
        # register entries after the witnessed checkpoint: the exposure window is not empty
        recording_id = int(platform.shell(REGISTER).split()[-1])

        # the log browser, then filtered by action
        nav.get_by_text("审计日志").click()
        expect(page.locator("h2.page-title")).to_have_text("审计日志")
        expect(page.locator(".audit-events-table tbody tr").first).to_be_visible()
        _no_english(page, "审计日志")
        page.screenshot(path=shots / "audit-01-events.png", full_page=False)
        page.select_option("#id_action", "auth.login")
        page.click("#filter-form button[type=submit]")
        page.wait_for_load_state("load")
        assert "action=auth.login" in page.url
        badges = page.locator(".audit-events-table tbody tr td:nth-child(4)").all_inner_texts()
        assert badges and set(badges) == {"登录"}, badges
        page.locator("details.technical-details summary").first.click()
        expect(page.locator("details.technical-details pre").first).to_contain_text(
            '"details_digest"'
        )
        expect(page.locator("details.technical-details pre").first).to_be_visible()
        page.screenshot(path=shots / "audit-02-events-filtered.png", full_page=False)
        # a refused filter says why in Chinese and lists nothing
        page.goto(f"{base}/audit/events/?date_from=2026-03-02&date_to=2026-03-01")
        expect(page.locator("#filter-errors")).to_contain_text("结束日期不能早于开始日期")
        expect(page.locator(".audit-events-table")).to_have_count(0)

        # one recording's events, and its proof bundle, which the offline verifier accepts
        page.goto(f"{base}/audit/events/?subject_type=recording&subject_id={recording_id}")
        expect(page.locator(".audit-events-table tbody tr").first).to_be_visible()
        page.screenshot(path=shots / "audit-03-events-subject.png", full_page=False)
        with page.expect_download() as download:
            page.click("#download-bundle")
        assert download.value.suggested_filename == f"custody-bundle-recording-{recording_id}.json"
        bundle_path = tmp_path / "bundle.json"
        download.value.save_as(bundle_path)
        bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
        assert bundle["subject"] == ["recording", str(recording_id)] and bundle["entries"]
        results = check_bundle(bundle)
        assert [r for r in results if r.status == FAIL] == [], results
        assert bundle["consistency"], "proved from the witnessed checkpoint"

        # checkpoints: keys, the witness, the exposure window; sign one now
        page.locator(".page-header").get_by_role("link", name="检查点").click()
        expect(page.locator("h2.page-title")).to_have_text("检查点与见证")
        expect(page.locator("#exposure-text")).to_contain_text("最近一个经见证的检查点之后的事件：")
        expect(page.locator("#exposure-text")).to_contain_text("最早发生于")
        expect(page.locator("#witnesses")).to_contain_text(WITNESS)
        expect(page.locator("#log-keys")).to_contain_text("平台签名公钥")
        # the size cell must equal the witnessed size (a substring match would let "8" find "89")
        size_cell = page.locator("td:first-child", has_text=re.compile(rf"^\s*{witnessed_size:,}\s*$"))
        witnessed_row = page.locator(".checkpoints-table tbody tr", has=size_cell)
        expect(witnessed_row.first).to_contain_text(WITNESS)
        expect(witnessed_row.first).to_contain_text("有效")
        _no_english(page, "检查点")
        page.screenshot(path=shots / "audit-04-checkpoints.png", full_page=True)
        page.click("#checkpoint-form button[type=submit]")
        page.wait_for_load_state("load")
        expect(page.locator(".messages")).to_contain_text("已签发检查点")
        expect(page.locator(".checkpoints-table tbody tr").first).to_contain_text("人工执行")
        page.screenshot(path=shots / "audit-05-checkpoint-signed.png", full_page=False)
        with page.expect_download() as download:
            page.locator(".checkpoints-table tbody tr").first.get_by_role(
                "link", name="签名文本"
            ).click()
        assert download.value.suggested_filename.startswith("checkpoint-")
        note_path = tmp_path / "note.txt"
        download.value.save_as(note_path)
        assert "\n\n\u2014 " in note_path.read_text(encoding="utf-8")
        # bad input for a bundle: a Chinese 400 page
        response = page.goto(f"{base}/audit/bundle/?subject_type=spaceship&subject_id=1")
        assert response.status == 400
        expect(page.locator("body")).to_contain_text("证明包的参数有误")
        _no_english(page, "证明包参数有误")

        # verifications: run one now
        page.goto(f"{base}/audit/verifications/")
        page.click("#verify-form button[type=submit]")
        page.wait_for_load_state("load")
        # the worker runs it (a full verification reads every event); the page says it started,
        # or already shows the result when the worker was quicker than the redirect
        expect(page.locator(".messages")).to_contain_text(re.compile("已开始校验|校验完成"))
        for _attempt in range(60):
            page.goto(f"{base}/audit/verifications/")
            if page.locator(".verifications-table tbody tr").count():
                break
            page.wait_for_timeout(1000)
        expect(page.locator(".verifications-table tbody tr").first).to_contain_text("通过")
        expect(page.locator(".verifications-table tbody tr").first).to_contain_text("人工执行")
        expect(page.locator(".verifications-table tbody tr").first).to_contain_text("树大小")
        _no_english(page, "校验结果")
        page.screenshot(path=shots / "audit-06-verifications.png", full_page=False)

        # the access register, filtered, and its export
        nav.get_by_text("查阅登记").click()
        expect(page.locator("h2.page-title")).to_have_text("查阅登记")
        _no_english(page, "查阅登记")
        page.screenshot(path=shots / "audit-07-access.png", full_page=False)
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
        page.screenshot(path=shots / "audit-08-access-filtered.png", full_page=False)
        context.close()

        # the system administrator: no audit menu, 403 on the pages
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        _sign_in(page, base, "sysadmin", DEMO_PASSWORD)
        menu = page.locator("#sidebar-menu").inner_text()
        for label in ("审计日志", "检查点", "校验结果", "查阅登记"):
            assert label not in menu, (label, menu)
        for path in (
            "/audit/checkpoints/",
            "/audit/events/",
            "/audit/bundle/?subject_type=recording&subject_id=1",
        ):
            response = page.goto(base + path)
            assert response.status == 403, path
            expect(page.locator("body")).to_contain_text("仅供审计管理员使用")
        page.screenshot(path=shots / "audit-09-sysadmin-403.png", full_page=False)
        browser.close()
