"""The officer's journey in a real Chromium against the real platform (gunicorn + Huey worker).

log in → upload two generated clips with visible progress → see them processed →
open one → play and seek (the video's currentTime moves) → the custody history shows the play.
Screenshots land in $AVR_SCREENSHOTS (default ./var/screenshots) for people to look at.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.testing import make_video
from core.testing_browser import launch_chromium, needs_chromium, screenshot_dir
from core.testing_server import Platform

PASSWORD = "Journey-pass-2026"

SEED = f"""
from core.testing import make_person, make_unit
unit = make_unit(name="城区市场监管所")
make_person("officer", unit=unit, username="zhangwei", full_name="张伟", password={PASSWORD!r})
make_person("officer", unit=unit, username="lina", full_name="李娜")
"""

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
]


@pytest.fixture
def shots():
    return screenshot_dir()


@pytest.fixture
def clips(tmp_path):
    """Two 4-second clips named like a body camera writes them, recorded minutes ago."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    paths = []
    for seq, minutes_ago in ((1, 30), (2, 20)):
        stamp = (now - timedelta(minutes=minutes_ago)).strftime("%Y%m%d%H%M%S")
        path = tmp_path / f"DSJA0012345_{seq:06d}_{stamp}_{seq:04d}.MP4"
        path.write_bytes(make_video(4.0, width=640, height=360, fps=15, variant=seq))
        paths.append(path)
    return paths


@pytest.mark.req("ING-1", "ING-2", "ING-4", "ACC-2", "ACC-5")
def test_officer_uploads_plays_and_sees_custody(tmp_path, clips, shots):
    from playwright.sync_api import expect, sync_playwright

    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.shell(SEED)
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        base = platform.base_url

        # 1. log in
        page.goto(f"{base}/login/")
        expect(page.locator("body")).to_contain_text("执法音像记录管理平台")
        page.screenshot(path=shots / "01-login.png")
        page.fill("input[name=username]", "zhangwei")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("body")).to_contain_text("张伟")
        page.screenshot(path=shots / "02-home.png")

        # 2. upload two clips with visible progress (upload throttled so progress can be seen)
        page.goto(f"{base}/upload/")
        page.fill("#id_case_number", "某市监处罚〔2026〕15号")
        page.fill("#id_party", "某某食品有限公司")
        page.fill("#id_place", "城区人民路88号")
        page.locator("#uppy-dashboard input[type=file]").first.set_input_files([str(p) for p in clips])
        expect(page.locator(".uppy-Dashboard-Item")).to_have_count(2)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 150 * 1024,
        })
        page.locator(".uppy-StatusBar-actionBtn--upload").click()
        progress = page.locator(".uppy-StatusBar-percentage, .uppy-StatusBar-statusPrimary").first
        expect(progress).to_be_visible()
        page.wait_for_function(
            "() => { const b = document.querySelector('.uppy-StatusBar-progress');"
            " if (!b) return false; const w = parseFloat(b.style.width || '0'); return w > 5 && w < 95; }"
        )
        page.screenshot(path=shots / "03-uploading.png")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
        })

        # 3. both processed: the status list polls until each is catalogued
        stored = page.locator("#ingest-items .badge", has_text="已入库")
        expect(stored).to_have_count(2, timeout=60_000)
        expect(page.locator("#ingest-items")).not_to_contain_text("失败")
        page.screenshot(path=shots / "04-processed.png")

        # 4. open one recording
        page.locator("#ingest-items a", has_text="查看记录").first.click()
        expect(page.locator("body")).to_contain_text("SHA-256")
        expect(page.locator("body")).to_contain_text("SM3")
        expect(page.locator("body")).to_contain_text("某市监处罚〔2026〕15号")
        expect(page.locator("body")).to_contain_text("DSJA0012345")

        # 5. the page preloads metadata: that is the view, not a play (ACC-2)
        video = page.locator("video.player")
        expect(video).to_be_visible()
        page.wait_for_function("() => document.querySelector('video.player').readyState >= 1")
        preload_plays = platform.shell(
            "from access.models import AccessEntry;"
            "print(AccessEntry.objects.filter(action='play').count(),"
            " AccessEntry.objects.filter(action='view').count())"
        )
        assert preload_plays.split()[-2:] == ["0", "1"], preload_plays

        # 6. play, then seek: currentTime must move both times
        page.evaluate("() => { const v = document.querySelector('video.player'); v.muted = true; return v.play(); }")
        page.wait_for_function("() => document.querySelector('video.player').currentTime > 0.3")
        page.evaluate(
            "() => new Promise(done => { const v = document.querySelector('video.player');"
            " v.addEventListener('seeked', () => done(v.currentTime), {once: true}); v.currentTime = 3.0; })"
        )
        position = page.evaluate("() => document.querySelector('video.player').currentTime")
        assert position >= 2.9, f"seek did not move the playhead: currentTime={position}"
        page.evaluate("() => document.querySelector('video.player').pause()")
        page.screenshot(path=shots / "05-playing.png")

        # 7. the custody history shows the play (and the view)
        history = page.locator("#history-panel")
        history.locator("button", has_text="刷新").click()
        expect(page.locator("#history-panel")).to_contain_text("播放")
        expect(page.locator("#history-panel")).to_contain_text("查看")
        expect(page.locator("#history-panel")).to_contain_text("张伟")
        page.locator("#history-panel").scroll_into_view_if_needed()
        page.screenshot(path=shots / "06-custody.png", full_page=True)
        # the sidebar's dark column runs the whole height of a page longer than the window
        heights = page.evaluate(
            "() => [parseFloat(getComputedStyle(document.querySelector('.page'), '::before').height),"
            " document.documentElement.scrollHeight, window.innerHeight]"
        )
        assert heights[1] > heights[2], heights  # the page is longer than the window
        assert heights[0] >= heights[1] - 1, f"sidebar backdrop stops part-way: {heights}"

        # 8. the catalogue lists both
        page.goto(f"{base}/recordings/")
        expect(page.locator("body")).to_contain_text("某某食品有限公司")
        page.screenshot(path=shots / "07-catalogue.png")
        browser.close()

    # the server side agrees: one play registered in the access register and the chain verifies
    out = platform.shell(
        "from access.models import AccessEntry; from recordings.models import Recording;"
        "print(Recording.objects.count(), AccessEntry.objects.filter(action='play').count())"
    )
    recordings, plays = map(int, out.split()[-2:])
    assert recordings == 2
    assert plays == 1
    assert "保管链完整" in platform.manage("verify_custody")
