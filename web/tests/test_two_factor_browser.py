"""In a real Chromium: a department head is held on the enrolment page after the password,
enrols an authenticator (QR code and key), keeps the recovery codes, and signs in the next time
with the password and a 动态口令 — no CSP violation or console error on the way (ACC-6)."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

from core.testing_browser import launch_chromium, needs_chromium, password_step
from core.testing_server import Platform
from web.tests.english import english_words

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.req("ACC-6")]

PASSWORD = "Head-pass-2026"
SEED = f"""
from core.testing import make_person, make_unit
make_person("department_head", department=make_unit(name="执法稽查大队").department, username="machao",
            full_name="马超", password={PASSWORD!r})
"""
DEVICE_KEY = (
    "from django_otp.plugins.otp_totp.models import TOTPDevice;"
    "d = TOTPDevice.objects.get(user__username='machao', confirmed=True); print(d.key, d.last_t)"
)
SHOTS = Path(os.environ.get("AVR_OTP_SCREENSHOTS", "/tmp"))


def _text(page) -> str:
    return page.evaluate("() => document.title + '\\n' + document.body.innerText")


def test_a_department_head_enrols_and_signs_in_with_a_code(tmp_path):
    from django_otp.oath import TOTP, totp
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.shell(SEED)
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        expected = {"400": 0}  # the wrong code answers 400, which Chromium logs as a console error

        def console(message):
            if message.type != "error":
                return
            if "status of 400" in message.text and expected["400"]:
                expected["400"] -= 1
                return
            problems.append(f"console: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        base = platform.base_url

        # 1. the password, then the enrolment page — and nothing else
        password_step(page, base, "machao", PASSWORD)
        expect(page).to_have_url(f"{base}/security/totp/")
        expect(page.locator("body")).to_contain_text("您的角色须使用双因素认证")
        qr = page.locator("img.otp-qr")
        expect(qr).to_be_visible()
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
        page.screenshot(path=SHOTS / "otp-enrol.png", full_page=True)
        assert english_words(_text(page), also_allowed={"machao"}) == []
        page.goto(f"{base}/recordings/")
        expect(page).to_have_url(f"{base}/security/totp/")  # every other page sends back here

        # 2. the app reads the key; the code it shows confirms it
        secret = page.input_value("[data-otp-secret]").replace(" ", "")
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        page.fill("input[name=code]", f"{totp(key):06d}")
        page.click("form button[type=submit].btn-primary")
        expect(page.locator("body")).to_contain_text("请保存您的恢复码")
        codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10
        page.screenshot(path=SHOTS / "otp-recovery-codes.png", full_page=True)
        stored_key, enrolled_step = platform.shell(DEVICE_KEY).split()[-2:]
        assert bytes.fromhex(stored_key) == key
        page.click("[data-continue]")
        expect(page.locator("body")).to_contain_text("马超")
        expect(page).to_have_url(f"{base}/")

        # 3. signed out and in again: the second step, a wrong code, then the right one
        page.locator("[data-bs-toggle=dropdown]").first.click()
        page.get_by_role("button", name="退出登录").click()
        expect(page).to_have_url(f"{base}/login/")
        password_step(page, base, "machao", PASSWORD)
        expect(page).to_have_url(f"{base}/login/verify/")
        expect(page.locator("body")).to_contain_text("第二步：验证动态口令")
        page.screenshot(path=SHOTS / "otp-second-step.png", full_page=True)
        assert english_words(_text(page), also_allowed={"machao"}) == []
        page.goto(f"{base}/")  # not signed in yet: the sign-in page
        expect(page).to_have_url(f"{base}/login/?next=/")
        page.goto(f"{base}/login/verify/")
        page.fill("input[name=code]", "000000")
        expected["400"] = 1
        page.click("form button[type=submit].btn-primary")
        expect(page.locator(".alert-danger")).to_contain_text("动态口令不正确")
        page.screenshot(path=SHOTS / "otp-wrong-code.png", full_page=True)
        time.sleep(1.2)  # django-otp slows the next try down for a second after a failure
        # each code is accepted once: while the step used to enrol is still the current one, the
        # next step's code (one step of clock difference is accepted)
        drift = max(0, int(enrolled_step) + 1 - TOTP(key).t())
        page.fill("input[name=code]", f"{totp(key, drift=drift):06d}")
        page.click("form button[type=submit].btn-primary")
        expect(page).to_have_url(f"{base}/")
        expect(page.locator("body")).to_contain_text("马超")

        # 4. the 账号安全 page: enabled, this session listed as the current one
        page.locator("[data-bs-toggle=dropdown]").first.click()
        page.get_by_role("link", name="账号安全").click()
        expect(page.locator("body")).to_contain_text("已启用")
        expect(page.locator(".sessions-table")).to_contain_text("当前会话")
        expect(page.locator(".sessions-table")).to_contain_text("谷歌浏览器")
        page.screenshot(path=SHOTS / "otp-security.png", full_page=True)
        assert english_words(_text(page), also_allowed={"machao"}) == []
        context.close()
        browser.close()
    assert problems == [], "\n".join(problems)
