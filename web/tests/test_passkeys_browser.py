"""In a real Chromium with its virtual authenticator (DevTools' WebAuthn domain): an officer adds
a passkey on the 账号安全 page, keeps the recovery codes, signs out, and signs in again with the
password and the passkey; a department head held on the enrolment page adds a passkey instead
of a 动态口令 — with django-otp-webauthn's own script, no CSP violation or console error on the
way (ACC-6).

WebAuthn needs a host name (a browser refuses an IP address as relying party) and a secure
context: the platform is reached as http://localhost:<port>, the one plain-HTTP secure context.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.testing_browser import launch_chromium, needs_chromium, password_step
from core.testing_server import Platform
from web.tests.english import english_words

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.req("ACC-6")]

PASSWORD = "Officer-pass-2026"
SEED = f"""
from core.testing import make_person, make_unit
unit = make_unit(name="执法稽查大队")
make_person("officer", unit=unit, username="zhangsan", full_name="张三", password={PASSWORD!r})
make_person("department_head", department=unit.department, username="machao", full_name="马超",
            password={PASSWORD!r})
"""
PASSKEYS = (
    "from django_otp_webauthn.models import WebAuthnCredential as W;"
    "print([(c.user.username, c.name, c.last_used_at is not None) for c in W.objects.order_by('pk')])"
)
SHOTS = Path(os.environ.get("AVR_OTP_SCREENSHOTS", "/tmp"))
AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                 "hasUserVerification": True, "isUserVerified": True}


def _text(page) -> str:
    return page.evaluate("() => document.title + '\\n' + document.body.innerText")


def _browser_page(browser, problems):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})["authenticatorId"]
    return context, page, cdp, authenticator


def test_an_officer_adds_a_passkey_and_signs_in_with_it(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.shell(SEED)
        browser = launch_chromium(pw)
        context, page, cdp, authenticator = _browser_page(browser, problems)
        base = f"http://localhost:{platform.port}"

        # 1. signed in with the password alone, the 账号安全 page offers a passkey
        password_step(page, base, "zhangsan", PASSWORD)
        expect(page).to_have_url(f"{base}/")
        page.goto(f"{base}/security/")
        button = page.locator("#passkey-register-button")
        expect(button).to_be_visible()  # put there by the library's script: WebAuthn is offered
        expect(button).to_have_text("添加通行密钥")
        page.screenshot(path=SHOTS / "passkey-security-before.png", full_page=True)
        assert english_words(_text(page), also_allowed={"zhangsan"}) == []

        # 2. added (the virtual authenticator answers), then the recovery codes, once
        button.click()
        expect(page.locator("body")).to_contain_text("请保存您的恢复码")
        assert len(page.locator("#recovery-codes li").all_inner_texts()) == 10
        assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
        page.screenshot(path=SHOTS / "passkey-recovery-codes.png", full_page=True)
        page.click("[data-continue]")
        expect(page).to_have_url(f"{base}/security/")
        expect(page.locator("#passkeys")).to_contain_text("通行密钥（谷歌浏览器")
        expect(page.locator("#passkeys")).to_contain_text("尚未使用")
        expect(page.locator(".card-header .badge").first).to_have_text("已启用")
        page.screenshot(path=SHOTS / "passkey-security-after.png", full_page=True)
        assert english_words(_text(page), also_allowed={"zhangsan"}) == []
        assert "[('zhangsan', '通行密钥（谷歌浏览器" in platform.shell(PASSKEYS)

        # 3. signed out and in again: the password, then the passkey
        page.locator("[data-bs-toggle=dropdown]").first.click()
        page.get_by_role("button", name="退出登录").click()
        expect(page).to_have_url(f"{base}/login/")
        password_step(page, base, "zhangsan", PASSWORD)
        expect(page).to_have_url(f"{base}/login/verify/")
        expect(page.locator("h1")).to_have_text("第二步：验证通行密钥")
        verify = page.locator("#passkey-verification-button")
        expect(verify).to_be_visible()
        expect(verify).to_have_text("使用通行密钥")
        page.screenshot(path=SHOTS / "passkey-second-step.png", full_page=True)
        assert english_words(_text(page), also_allowed={"zhangsan"}) == []
        page.goto(f"{base}/")  # not signed in yet
        expect(page).to_have_url(f"{base}/login/?next=/")
        page.goto(f"{base}/login/verify/")
        page.locator("#passkey-verification-button").click()
        expect(page).to_have_url(f"{base}/")
        expect(page.locator("body")).to_contain_text("张三")
        assert platform.shell(PASSKEYS).strip().endswith("True)]")  # the one passkey, used now

        # 4. the 账号安全 page: last used now, this session the current one
        page.goto(f"{base}/security/")
        expect(page.locator("#passkeys")).not_to_contain_text("尚未使用")
        expect(page.locator(".sessions-table")).to_contain_text("当前会话")
        context.close()
        browser.close()
    assert problems == [], "\n".join(problems)


def test_a_department_head_held_on_enrolment_adds_a_passkey_instead(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.shell(SEED)
        browser = launch_chromium(pw)
        context, page, _cdp, _authenticator = _browser_page(browser, problems)
        base = f"http://localhost:{platform.port}"
        password_step(page, base, "machao", PASSWORD)
        expect(page).to_have_url(f"{base}/security/totp/")
        expect(page.locator("#passkeys")).to_contain_text("或者：使用通行密钥")
        page.screenshot(path=SHOTS / "passkey-enrol-held.png", full_page=True)
        assert english_words(_text(page), also_allowed={"machao"}) == []
        page.locator("#passkey-register-button").click()
        expect(page.locator("body")).to_contain_text("请保存您的恢复码")
        page.click("[data-continue]")
        expect(page).to_have_url(f"{base}/")
        expect(page.locator("body")).to_contain_text("马超")
        page.goto(f"{base}/recordings/")  # held no longer
        expect(page).to_have_url(f"{base}/recordings/")
        context.close()
        browser.close()
    assert problems == [], "\n".join(problems)
