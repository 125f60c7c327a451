"""调阅申请 in a real Chromium against the real platform (issue 9, ACC-1).

An officer of another unit of the same department asks for a colleague's recording (the form
pre-filled from ``?recording=`` shows only the id), watches the approval route change as the
form changes, submits; the department head signs in (with the second factor), approves from
the home page's 待我审批 card; the officer plays the recording (the player's Range requests);
the head revokes (after a confirmation dialog: cancelled once, then accepted), and the very next
Range request under the same play token is refused. Then a party's copy application (ACC-4):
the officer attaches the party's written application (a PDF), the head downloads it.
Screenshots land in $AVR_SCREENSHOTS/access-requests for people to look at.
"""

from __future__ import annotations

import json
import re

import pytest

from core.testing_browser import (
    launch_chromium,
    needs_chromium,
    password_step,
    screenshot_dir,
    settle,
    watched_page,
)
from core.testing_server import Platform

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.req("ACC-1"), pytest.mark.req("ACC-4")]

PASSWORD = "Journey-pass-2026"
PARTY_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
FILENAME = "DSJ-A0012345_10020301_20260305093000_0001.MP4"

SEED = f"""
import json
from core.testing import make_department, make_person, make_recording, make_unit, make_video
county = make_department("某区市场监督管理局", level="county")
far = make_department("某县市场监督管理局", level="county")
jc = make_unit(county, name="执法稽查大队")
cq = make_unit(county, name="城区市场监管所")
far_unit = make_unit(far, name="某县稽查大队")
zhangwei = make_person("officer", unit=jc, username="zhangwei", full_name="张伟", password={PASSWORD!r})
make_person("officer", unit=cq, username="zhoujie", full_name="周杰", password={PASSWORD!r})
head = make_person("department_head", department=county, username="machao", full_name="马超",
                   password={PASSWORD!r})
rec = make_recording(zhangwei, data=make_video(6.0, width=640, height=360, fps=15),
                     filename={FILENAME!r}, case_number="某市监处罚〔2026〕15号")
key = ""
try:
    from core.testing import enrol_totp
    key = enrol_totp(head).key
except ImportError:  # no two-factor sign-in in this build
    pass
print(json.dumps({{"rec": rec.pk, "county": county.pk, "far": far.pk, "far_unit": far_unit.name,
                  "cq": cq.pk, "key": key}}))
"""


def _totp(key_hex: str, used: set[str]) -> str:
    """The code an authenticator app shows for the head's key (each code is accepted once)."""
    import time

    from django_otp.oath import hotp

    while True:
        step = int(time.time()) // 30
        for t in (step, step + 1):  # the platform accepts one step of clock difference
            code = f"{hotp(bytes.fromhex(key_hex), t, digits=6):06d}"
            if code not in used:
                used.add(code)
                return code
        time.sleep(30 - time.time() % 30 + 0.1)


def _sign_in(page, base, username, key_hex="", used=None):
    password_step(page, base, username, PASSWORD)
    page.wait_for_load_state("load")
    if "/login/verify/" in page.url:
        assert key_hex, f"{username} is asked for a second factor but has no device in the seed"
        page.fill("input[name=code]", _totp(key_hex, used if used is not None else set()))
        page.click("button[type=submit]:not([name=cancel])")
        page.wait_for_load_state("load")
    assert "/login/" not in page.url, f"{username} could not sign in: {page.url}"


def test_request_approve_play_revoke_in_the_browser(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = screenshot_dir("access-requests")
    problems: list[str] = []
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        seed = json.loads(platform.shell(SEED).strip().splitlines()[-1])
        rec = seed["rec"]
        base = platform.base_url
        browser = launch_chromium(pw)

        def context():
            return watched_page(browser, problems)

        # 1. the officer of the other unit opens the form from a record link
        officer_ctx, officer = context()
        _sign_in(officer, base, "zhoujie")
        nav = officer.locator("aside .nav-link", has_text="调阅申请")
        expect(nav).to_be_visible()
        officer.goto(f"{base}/access/requests/new?recording={rec}")
        expect(officer.locator("#id_recording_ids")).to_have_value(str(rec))
        # it may not view the record: nothing about it is shown, only the id it typed
        assert FILENAME not in officer.content() and "某市监处罚" not in officer.content()
        route = officer.locator("#route-preview")
        expect(route).to_contain_text("部门负责人（某区市场监督管理局")
        expect(route).to_contain_text("第十七条第三款")

        # the route follows the form (htmx): another department, then external provision
        officer.select_option("#id_department", str(seed["far"]))
        expect(officer.locator("#id_unit")).to_contain_text(seed["far_unit"])
        expect(officer.locator("#id_unit")).not_to_contain_text("城区市场监管所")
        expect(route).to_contain_text("部门负责人（某县市场监督管理局")
        officer.select_option("#id_department", str(seed["county"]))
        expect(officer.locator("#id_unit")).to_contain_text("城区市场监管所")
        officer.locator("label.form-selectgroup-item", has_text="对外提供").click()
        expect(route).to_contain_text("第十七条第五款")
        officer.locator("label.form-selectgroup-item", has_text="调阅、复制").click()
        expect(route).to_contain_text("第十七条第三款")
        # changes faster than the answers (a slow line): the later one waits for the earlier
        # instead of cancelling it, which htmx would report on the console as an error
        settle(officer)
        officer.evaluate("""() => {
          const department = document.getElementById('id_department');
          for (let i = 0; i < 3; i++) department.dispatchEvent(new Event('change', {bubbles: true}));
        }""")
        settle(officer)
        expect(route).to_contain_text("第十七条第三款")
        assert problems == [], "\n".join(problems)

        settle(officer)
        officer.screenshot(path=shots / "req-form-route.png", full_page=True)
        # submitted without a purpose: refused in Chinese, what was typed kept
        settle(officer)
        officer.click("#submit-request")
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("请选择事由类别")
        expect(officer.locator("#id_recording_ids")).to_have_value(str(rec))
        officer.select_option("#id_purpose_code", "case_handling")
        officer.fill("#id_purpose_text", "核对某市监处罚〔2026〕15号现场检查过程")
        expect(route).to_contain_text("第十七条第三款")
        officer.screenshot(path=shots / "req-form.png", full_page=True)
        settle(officer)
        officer.click("#submit-request")
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("申请已提交，等待审批。")
        expect(officer.locator("#items-hidden")).to_contain_text("审批人将核对所列记录")
        assert FILENAME not in officer.content()
        request_url = officer.url
        request_id = re.search(r"/access/requests/(\d+)/", request_url).group(1)
        officer.screenshot(path=shots / "req-detail-requester.png", full_page=True)

        # 2. the department head approves from the home page card
        head_ctx, head = context()
        _sign_in(head, base, "machao", seed["key"], set())
        card = head.locator("#pending-requests")
        expect(card).to_contain_text("待我审批")
        expect(card).to_contain_text("周杰")
        head.screenshot(path=shots / "req-home-card.png", full_page=True)
        card.locator(f"a[href='/access/requests/{request_id}/']").click()
        head.wait_for_load_state("load")
        expect(head.locator("#request-items")).to_contain_text(FILENAME)
        expect(head.locator("#request-approver")).to_contain_text("部门负责人")
        head.fill("#id_decide_comment", "同意调阅，限办案使用")
        head.screenshot(path=shots / "req-detail-approver.png", full_page=True)
        # pressed twice in a row: sent once, to the pressed button's own formaction
        posts: list[str] = []
        head.on("request", lambda r: r.method == "POST" and posts.append(r.url))
        sent = head.evaluate("""() => {
            let sent = 0;
            document.addEventListener("submit", (e) => { if (!e.defaultPrevented) sent++; });
            const button = document.querySelector("#approve-button");
            button.click();
            button.click();
            return sent;
        }""")
        assert sent == 1, sent
        head.wait_for_load_state("load")
        expect(head.locator("body")).to_contain_text("已批准该申请。")
        approvals_sent = platform.shell(
            "from custody.models import Event;"
            "print(Event.objects.filter(action='access.approved').count())"
        ).strip().splitlines()[-1]
        assert approvals_sent == "1", approvals_sent
        assert [p.split("/access/requests/", 1)[-1] for p in posts] == [f"{request_id}/approve"], posts
        expect(head.locator("#request-status")).to_have_text("已批准")
        expect(head.locator("#request-timeline")).to_contain_text("马超")

        # 3. the officer now sees the records and plays the recording
        officer.goto(request_url)
        expect(officer.locator("#request-items")).to_contain_text(FILENAME)
        ranges: list[tuple[str, str]] = []
        officer.on("request", lambda r: "/content" in r.url and ranges.append((r.url, r.headers.get("range", ""))))
        officer.locator(f"#request-items a[href='/recordings/{rec}/']").click()
        officer.wait_for_load_state("load")
        video = officer.locator("video.player")
        expect(video).to_be_visible()
        src = video.get_attribute("src")
        assert src and "/content?t=" in src, src
        officer.evaluate("() => { const v = document.querySelector('video.player'); v.muted = true; return v.play(); }")
        officer.wait_for_function("() => document.querySelector('video.player').currentTime > 0.3")
        officer.evaluate("() => document.querySelector('video.player').pause()")
        # the player's requests were ranged, and registered under the grant (ACC-2)
        served = platform.shell(
            "from access.models import AccessEntry, ServedRange;"
            f"e = AccessEntry.objects.filter(recording_id={rec}, person__username='zhoujie', action='play').first();"
            "print(e.basis, ServedRange.objects.filter(entry__recording_id=e.recording_id).count(),"
            " ServedRange.objects.filter(entry__recording_id=e.recording_id, whole=False).count())"
        ).strip().splitlines()[-1].split()
        assert served[0] == "grant" and int(served[2]) >= 1, served
        assert not ranges or any(r.startswith("bytes=") for _u, r in ranges), ranges
        officer.screenshot(path=shots / "req-playing.png", full_page=True)
        # the one expected: the form refused on purpose answers 400 (Chrome logs every 4xx)
        problems = [p for p in problems if not p.endswith("status of 400 (Bad Request)")]
        assert problems == [], "\n".join(problems)

        # 4. the head revokes (a confirmation first: cancelled, nothing is sent; then accepted);
        # the next Range request under the same token is refused
        head.fill("#id_revoke_comment", "案件已办结")
        dialogs: list[str] = []

        def dismiss(dialog):
            dialogs.append(dialog.message)
            dialog.dismiss()

        head.once("dialog", dismiss)
        head.click("#revoke-button")
        head.wait_for_timeout(300)
        expect(head.locator("#request-status")).to_have_text("已批准")
        assert dialogs and "确定撤销授权" in dialogs[0], dialogs
        head.once("dialog", lambda dialog: dialog.accept())
        head.click("#revoke-button")
        head.wait_for_load_state("load")
        expect(head.locator("#request-status")).to_have_text("已撤销")
        status = officer.evaluate(
            "src => fetch(src, {headers: {Range: 'bytes=0-1023'}, credentials: 'same-origin'}).then(r => r.status)",
            src,
        )
        assert status == 404, status

        # 5. the list, as the head reads it
        head.goto(f"{base}/access/requests/?tab=decided")
        expect(head.locator("table.requests-table")).to_contain_text("已撤销")
        head.screenshot(path=shots / "req-list.png", full_page=True)
        officer.goto(f"{base}/access/requests/")
        expect(officer.locator("table.requests-table")).to_contain_text("已撤销")
        officer.screenshot(path=shots / "req-list-requester.png", full_page=True)

        # 6. a party's copy application (ACC-4): the written application attached as a PDF
        problems.clear()  # step 4's refused Range request is a 404 on purpose
        officer.goto(f"{base}/access/requests/new?recording={rec}")
        officer.locator("label.form-selectgroup-item", has_text="当事人申请复制").click()
        expect(route).to_contain_text("部门负责人（某区市场监督管理局")
        officer.select_option("#id_purpose_code", "reconsideration")
        officer.fill("#id_purpose_text", "当事人申请复制现场检查录像，用于行政复议")
        officer.fill("#id_recipient", "某贸易有限公司（当事人）")
        officer.set_input_files("#id_party_application", files=[{
            "name": "当事人复制申请书.pdf", "mimeType": "application/pdf", "buffer": PARTY_PDF}])
        expect(officer.locator("#party-confidential-note")).to_contain_text("依法应保密的记录不予复制")
        settle(officer)
        officer.screenshot(path=shots / "req-party-form.png", full_page=True)
        settle(officer)
        officer.click("#submit-request")
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("申请已提交，等待审批。")
        party_url = officer.url
        head.goto(party_url)
        link = head.locator("#request-application a")
        expect(link).to_contain_text("下载当事人书面申请")
        head.screenshot(path=shots / "req-party-detail.png", full_page=True)
        with head.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
        with open(download.path(), "rb") as fh:
            assert fh.read() == PARTY_PDF
        problems = [p for p in problems if not p.endswith("status of 400 (Bad Request)")]
        assert problems == [], "\n".join(problems)
        officer_ctx.close()
        head_ctx.close()
        browser.close()
