"""Browser tests' Chromium: Debian's package, driven by Playwright, the same way in every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",  # the browser's own widgets (date pickers) in Chinese: needs chromium-l10n
    "--autoplay-policy=no-user-gesture-required",
]
# bin/test installs Debian's chromium; a machine without it skips rather than downloading one.
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium not installed (bin/test installs it)"
)


def screenshot_dir(sub: str = "") -> Path:
    """Where browser tests leave screenshots for people to look at: $AVR_SCREENSHOTS, by
    default ./var/screenshots (a sub-folder per journey where given)."""
    root = Path(__file__).resolve().parent.parent
    folder = Path(os.environ.get("AVR_SCREENSHOTS", root / "var" / "screenshots")) / sub
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def launch_chromium(playwright):
    # Chromium draws date and time pickers in the process's UI language, which --lang alone
    # does not set on Linux: LANGUAGE does (with chromium-l10n's zh-CN pack installed).
    env = {**os.environ, "LANGUAGE": "zh_CN"}
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env
    )


# --- signing in through the forms, second factor included (orgs.twofactor) --------------------

# What a person's authenticator app holds, per platform and account: the key read from the
# enrolment page, and the last time step whose code was given (each code is accepted once).
_AUTHENTICATORS: dict[tuple[str, str], dict] = {}


def watched_page(browser, problems: list[str]):
    """A fresh context and page (1440 × 1000, zh-CN, 20 s timeouts) whose console errors and
    page errors are appended to ``problems`` — a journey asserts it empty at the end."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    return ctx, page


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def authenticator_code(base: str, username: str) -> str:
    """The code ``username``'s app shows now (after the enrolment page was passed in this run)."""
    from core.testing import totp_code_for_key

    app = _AUTHENTICATORS.get((_origin(base), username))
    assert app is not None, f"{username} has a second factor this test did not enrol"
    code, step = totp_code_for_key(app["key"], after_step=app["step"])
    app["step"] = step
    return code


def pass_second_factor(page, username: str) -> None:
    """After the password step: give the code at the second step, or — for a person who must
    have a second factor and has none — enrol one on the page the platform holds them on, as a
    person with an authenticator app would (read the key shown, type the code, keep the
    recovery codes, continue)."""
    import base64

    from core.testing import totp_code_for_key

    page.wait_for_load_state("load")
    base, path = _origin(page.url), _path(page.url)
    if path == "/login/verify/":
        page.fill("input[name=code]", authenticator_code(base, username))
        page.click("form button[type=submit].btn-primary")
        page.wait_for_load_state("load")
    elif path == "/security/totp/":
        secret = page.input_value("[data-otp-secret]").replace(" ", "")
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        code, step = totp_code_for_key(key)
        _AUTHENTICATORS[(base, username)] = {"key": key, "step": step}
        page.fill("input[name=code]", code)
        page.click("form button[type=submit].btn-primary")
        page.wait_for_load_state("load")
        page.click("[data-continue]")
        page.wait_for_load_state("load")


def password_step(page, base: str, username: str, password: str) -> None:
    """The first step of signing in: the sign-in page, the username and password, sent."""
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def sign_in(page, base: str, username: str, password: str) -> None:
    """Sign in through the forms, the second factor included (``pass_second_factor``)."""
    password_step(page, base, username, password)
    pass_second_factor(page, username)


# htmx has finished: no request in flight, nothing settling or swapping.
HTMX_SETTLED = """() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"""


def settle(page) -> None:
    """Wait until htmx has answered what the page asked for — what a person does before pressing
    a button (reads the preview). A form sent while a preview is in flight leaves the page with
    the preview's request aborted, which htmx reports on the console."""
    page.wait_for_function(HTMX_SETTLED)
