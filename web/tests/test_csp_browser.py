"""The Content-Security-Policy holds on every page in Chromium, with no console errors (ACC-6).

The demo data is loaded into a real platform; each role signs in and opens every page its
navigation offers, a recording's detail page with its player (and plays it), the upload page,
and the API docs. Any CSP violation, console error or uncaught page error fails the test, and
every page is checked for the headers: the policy itself and ``Cache-Control: no-store``.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlparse

import pytest

from core.testing_browser import launch_chromium, needs_chromium, screenshot_dir, sign_in
from core.testing_server import Platform

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.req("ACC-6")]

DEMO_PASSWORD = "Demo-2026!"
ROLES = ("zhangwei", "wangqiang", "machao", "zhulin", "sysadmin", "secadmin", "auditadmin")


def _sign_in(page, base, username):
    sign_in(page, base, username, DEMO_PASSWORD)  # department heads and administrators enrol first
    page.wait_for_load_state("networkidle")


def _nav_links(page, base) -> list[str]:
    hrefs = page.eval_on_selector_all("nav a[href], .navbar a[href]", "els => els.map(e => e.getAttribute('href'))")
    links = []
    for href in hrefs:
        url = urljoin(base + "/", href)
        if urlparse(url).netloc == urlparse(base).netloc and "/logout" not in url and url not in links:
            links.append(url.split("#")[0])
    return links


def test_every_page_of_every_role_passes_the_policy(tmp_path):
    from playwright.sync_api import sync_playwright

    shots = screenshot_dir("csp")
    problems: list[str] = []
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.manage("seed_demo")
        browser = launch_chromium(pw)
        base = platform.base_url
        visited = 0
        for username in ROLES:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(20_000)
            where = {"url": ""}
            page.on("console", lambda m, u=username, w=where: m.type == "error" and problems.append(
                f"{u} {w['url']}: console {m.text}"))
            page.on("pageerror", lambda e, u=username, w=where: problems.append(f"{u} {w['url']}: {e}"))
            _sign_in(page, base, username)
            pages = _nav_links(page, base)
            if username == "zhangwei":
                pages += [f"{base}/upload/", f"{base}/ingest/"]
            for url in pages:
                where["url"] = url
                response = page.goto(url)
                page.wait_for_load_state("networkidle")
                visited += 1
                headers = response.all_headers()
                if "default-src 'self'" not in headers.get("content-security-policy", ""):
                    problems.append(f"{username} {url}: no CSP header")
                if "no-store" not in headers.get("cache-control", ""):
                    problems.append(f"{username} {url}: Cache-Control {headers.get('cache-control')!r}")
            if username in ("zhangwei", "machao"):  # a recording, its player, a play
                page.goto(f"{base}/recordings/")
                detail = page.eval_on_selector_all(
                    "a[href]", "els => els.map(e => e.getAttribute('href')).find(h => /^\\/recordings\\/\\d+\\/$/.test(h))")
                assert detail, f"{username}: no recording in the demo catalogue"
                where["url"] = detail
                page.goto(urljoin(base, detail))
                page.wait_for_load_state("networkidle")
                player = page.locator("video, audio").first
                if player.count():  # app.js registers the play (ACC-2): the access note turns
                    player.evaluate("m => { m.muted = true; return m.play().catch(() => null); }")
                    page.locator("#access-note [data-played]").wait_for(state="visible")
                page.screenshot(path=shots / f"{username}-detail.png")
                visited += 1
            page.screenshot(path=shots / f"{username}-last.png")
            context.close()
        browser.close()
    assert visited >= 30, visited
    assert problems == [], "\n".join(problems)
