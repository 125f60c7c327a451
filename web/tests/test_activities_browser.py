"""执法活动 in a real Chromium against the real platform (REC-3, REC-4, SUP-2).

An officer signs in, finds the seizure they took part in under 需要处理, opens it: nothing is
linked yet, the platform suggests the three recordings made around it (theirs and their
colleague's, who named them on it). They link the suggestions; the timeline is drawn — three
lanes, the documents' start and end, and the seven-minute gap in red — and the finding
"记录中断未说明" is listed. Clicking the gap fills the interruption form; they mark the voice
statement on the resumed recording and register the interruption: the gap turns amber, the
finding is gone. The unit head reads the open findings by officer and type. No console error, no page
error (the CSP holds). Screenshots land in $AVR_SCREENSHOTS/activities.
"""

from __future__ import annotations

import json
import re

import pytest

from core.testing_browser import (
    launch_chromium,
    needs_chromium,
    screenshot_dir,
    settle,
    sign_in,
    watched_page,
)
from core.testing_server import Platform

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.req("REC-3"), pytest.mark.req("REC-4"),
              pytest.mark.req("SUP-2")]

PASSWORD = "Journey-pass-2026"

SEED = f"""
import json
from datetime import timedelta
from django.utils import timezone
from activities.catalog import effective_catalog
from activities.services import ActivityValues, create_activity
from core.testing import make_department, make_person, make_recording, make_unit
from recordings.choices import MarkerKind
from recordings.markers import add_marker

T0 = timezone.make_aware(timezone.datetime(2026, 11, 20, 9, 30))
at = lambda m: T0 + timedelta(minutes=m)
county = make_department("某区市场监督管理局", level="county")
jc = make_unit(county, name="执法稽查大队")
zhangwei = make_person("officer", unit=jc, username="zhangwei", full_name="张伟", password={PASSWORD!r})
lina = make_person("officer", unit=jc, username="lina", full_name="李娜", password={PASSWORD!r})
head = make_person("unit_head", unit=jc, username="liuyang", full_name="刘洋", password={PASSWORD!r})
seizure = next(e for e in effective_catalog(county) if e.matter.code == "seizure" and e.matter.scope == "samr")
activity = create_activity(jc, ActivityValues(
    matter_id=seizure.matter.pk, title="某贸易有限公司仓库查封现场", place="某区人民路88号仓库",
    party_name="某贸易有限公司", officer_ids=(zhangwei.pk, lina.pk), starts_at=at(0), ends_at=at(60)), actor=zhangwei)

def rec(officer, start, end, name, colleagues=()):
    return make_recording(officer, unit=jc, filename=name, start_time=at(start), end_time=at(end),
                          duration_s=(end - start) * 60, received_at=at(end + 60),
                          officer_ids=[officer.pk, *[c.pk for c in colleagues]])

first = rec(zhangwei, 0, 40, "DSJ-A0012345_10020301_20261120093000_0001.MP4")
second = rec(lina, 2, 38, "DSJ-A0012346_10020302_20261120093200_0001.MP4", colleagues=[zhangwei])
resumed = rec(zhangwei, 47, 60, "DSJ-A0012345_10020301_20261120101700_0002.MP4")
create_activity(jc, ActivityValues(
    matter_id=seizure.matter.pk, title="某超市扣押现场", place="某区中山路56号", officer_ids=(lina.pk,),
    starts_at=at(-1440), ends_at=at(-1400)), actor=lina)  # not recorded: 李娜's open finding
for point in activity.required_points:
    add_marker(first.pk, actor=head, offset_s=1, kind=MarkerKind.CONTENT_POINT, content_point=point)
print(json.dumps({{"activity": activity.pk, "first": first.pk, "second": second.pk, "resumed": resumed.pk}}))
"""


def test_an_officer_links_the_suggestions_and_reads_the_timeline(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = screenshot_dir("activities")
    problems: list[str] = []
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        seed = json.loads(platform.shell(SEED).strip().splitlines()[-1])
        base = platform.base_url
        browser = launch_chromium(pw)

        def context():
            return watched_page(browser, problems)

        # 1. the officer: 执法活动 in the navigation, the seizure under 需要处理
        officer_ctx, officer = context()
        sign_in(officer, base, "zhangwei", PASSWORD)
        officer.wait_for_load_state("load")
        officer.locator("aside .nav-link", has_text="执法活动").click()
        officer.wait_for_load_state("load")
        expect(officer.locator("#activities-table")).to_contain_text("某贸易有限公司仓库查封现场")
        officer.locator("#tab-attention").click()
        officer.wait_for_load_state("load")
        row = officer.locator("#activities-table tbody tr", has_text="某贸易有限公司仓库查封现场")
        expect(row).to_contain_text("全过程记录")
        expect(row.locator(".badge.bg-red")).to_have_text("1")  # 应当记录而未记录
        officer.screenshot(path=shots / "01-list-attention.png", full_page=True)
        row.locator("a", has_text="某贸易有限公司仓库查封现场").click()
        officer.wait_for_load_state("load")
        activity_url = officer.url
        assert activity_url.endswith(f"/activities/{seed['activity']}/"), activity_url

        # 2. nothing linked yet: the three recordings are suggested, all pre-checked
        expect(officer.locator("#findings")).to_contain_text("应当记录而未记录")
        suggestions = officer.locator("#suggestions-table tbody tr")
        expect(suggestions).to_have_count(3)
        expect(officer.locator("#suggestions-table")).to_contain_text("本活动执法人员")
        assert officer.locator("#suggestions-table input[type=checkbox]:checked").count() == 3
        officer.screenshot(path=shots / "02-suggestions.png", full_page=True)
        officer.click("#link-selected-button")
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("已关联 3 段记录")
        expect(officer.locator("#recordings-table tbody tr[data-recording-row]")).to_have_count(3)
        expect(officer.locator("#suggestions-none")).to_be_visible()

        # 3. the timeline: drawn, three lanes, the documents' times, the gap in red with its length
        chart = officer.locator("svg#timeline-chart")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 800 and box["height"] > 150, box
        expect(chart.locator(".timeline-lane")).to_have_count(3)
        expect(chart.locator(".timeline-stated")).to_have_count(2)
        expect(chart).to_contain_text("文书记载开始 09:30:00")
        gap = chart.locator("[data-gap]")
        expect(gap).to_have_count(1)
        gap_box = gap.locator("[data-gap-bar]").bounding_box()
        assert gap_box and gap_box["width"] > 20 and gap_box["height"] > 5, gap_box  # 7 of ~66 minutes
        assert gap.locator("[data-gap-bar]").get_attribute("fill") == "#d63939"
        expect(gap).to_contain_text("缺口 约 7 分钟")
        # the gap lies between the first officer's two recordings, right where they stop and resume
        bars = [chart.locator(f".timeline-lane[data-recording-id='{seed[k]}'] [data-bar]").bounding_box()
                for k in ("first", "resumed")]
        assert abs(bars[0]["x"] + bars[0]["width"] - gap_box["x"]) < 2, (bars, gap_box)
        assert abs(gap_box["x"] + gap_box["width"] - bars[1]["x"]) < 2, (bars, gap_box)
        expect(officer.locator("#timeline-gaps")).to_contain_text("10:10:00 至 10:17:00 没有任何记录")
        finding = officer.locator("#findings-list [data-finding-code=gap_unexplained]")
        expect(finding).to_contain_text("中断约 7 分钟")
        expect(finding).to_contain_text("REC-4")
        expect(officer.locator("#findings-list")).not_to_contain_text("应当记录而未记录")
        settle(officer)
        officer.screenshot(path=shots / "03-timeline-gap.png", full_page=True)
        chart.screenshot(path=shots / "03b-timeline-chart.png")

        # the unit head reads the open findings by officer and type, and follows a count
        head_ctx, head = context()
        sign_in(head, base, "liuyang", PASSWORD)
        head.goto(f"{base}/activities/findings/")
        matrix = head.locator("#findings-matrix")
        expect(matrix.locator("tbody tr")).to_have_count(2)
        expect(matrix.locator("tbody tr", has_text="李娜")).to_contain_text("2")
        expect(head.locator("#summary-open")).to_contain_text("2")
        head.screenshot(path=shots / "07-findings-summary.png", full_page=True)
        matrix.locator("tbody tr", has_text="张伟").locator("a.badge").first.click()
        head.wait_for_load_state("load")
        expect(head.locator("#activities-table tbody tr")).to_have_count(1)
        expect(head.locator("#activities-table")).to_contain_text("某贸易有限公司仓库查封现场")

        # 4. the gap, clicked, fills the interruption form; the voice statement is marked first
        gap.click()
        expect(officer.locator("#id_voice-starts_at")).to_have_value(re.compile(r"^2026-11-20T10:10(:00)?$"))
        expect(officer.locator("#id_voice-ends_at")).to_have_value(re.compile(r"^2026-11-20T10:17(:00)?$"))
        officer.select_option("#id_recording", str(seed["resumed"]))
        officer.select_option("#id_kind", "resume_statement")
        officer.fill("#id_offset_s", "3")
        officer.fill("#id_note", "电池耗尽，更换备用电池后继续记录")
        officer.locator("#marker-form button[type=submit]").click()
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("标记已添加")
        expect(officer.locator("svg#timeline-chart polygon")).to_have_count(2)  # the marker and its legend
        officer.locator("#timeline-gaps [data-gap-fill]").click()
        expect(officer.locator("#id_voice-starts_at")).to_have_value(re.compile(r"^2026-11-20T10:10(:00)?$"))
        officer.select_option("#id_voice-reason", "battery")
        marker_value = officer.locator("#id_voice-marker option").nth(1).get_attribute("value")
        officer.select_option("#id_voice-marker", marker_value)
        officer.screenshot(path=shots / "04-interruption-form.png", full_page=True)
        officer.locator("#interruption-voice button[type=submit]").click()
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("记录中断已登记")
        expect(officer.locator("#interruptions-list")).to_contain_text("电量耗尽")
        expect(officer.locator("#findings-none")).to_be_visible()
        gap = officer.locator("svg#timeline-chart [data-gap]")
        expect(gap).to_contain_text("已登记中断 约 7 分钟")
        assert gap.locator("[data-gap-bar]").get_attribute("fill") == "#f59f00"
        officer.screenshot(path=shots / "05-gap-explained.png", full_page=True)
        officer.locator("svg#timeline-chart").screenshot(path=shots / "05b-timeline-chart.png")

        # 5. the registration form, refused in Chinese with what was typed kept
        officer.goto(f"{base}/activities/new")
        officer.select_option("#id_matter", str(platform.shell(
            "from activities.models import Activity;"
            f"print(Activity.objects.get(pk={seed['activity']}).matter_id)").strip().splitlines()[-1]))
        expect(officer.locator("#matter-info")).to_contain_text("第三条")
        officer.fill("#id_title", "某食品公司现场检查")
        officer.fill("#id_starts_at", "2026-11-21T10:00:00")
        officer.fill("#id_ends_at", "2026-11-21T09:00:00")
        settle(officer)
        officer.click("#submit-activity")
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("结束时间须晚于开始时间")
        expect(officer.locator("#id_title")).to_have_value("某食品公司现场检查")
        officer.screenshot(path=shots / "06-new-refused.png", full_page=True)
        # the refused form answers 400 on purpose (Chrome logs every 4xx)
        problems[:] = [p for p in problems if not p.endswith("status of 400 (Bad Request)")]

        # 6. the unit head: the activity as they see it (all three recordings)
        head.goto(activity_url)
        expect(head.locator("svg#timeline-chart .timeline-lane")).to_have_count(3)
        expect(head.locator("#findings-none")).to_be_visible()
        head.screenshot(path=shots / "08-unit-head.png", full_page=True)

        assert problems == [], "\n".join(problems)
        officer_ctx.close()
        head_ctx.close()
        browser.close()
