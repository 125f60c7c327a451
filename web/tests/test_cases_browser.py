"""案件, 事项目录 and 检查设置 in a real Chromium against the real platform (REC-9, REC-2, INT-1).

An officer opens 案件: nothing yet. They register a case; a 统一社会信用代码 with a wrong check
character is refused beside the field in Chinese, with what was typed kept; corrected, the case's
page shows its four stages. They upload a 现场笔录 (a PDF) into 调查取证 — listed there with its
download — and advance the case to that stage. A recording they made earlier named the case with
other brackets (某市监处罚[2026]15号): it is listed on the case's page, and its own page links back
to the case, showing what was written. The department head tightens a national entry of the
catalog (one more content point: the department's version is listed) and is refused, in Chinese,
when lowering the level of a 全过程 entry; on 检查设置 they set the tolerance to 10 minutes and add a
webhook endpoint, whose secret is shown once and not on the next GET. No console error, no page
error (the CSP holds). Screenshots land in $AVR_SCREENSHOTS/cases.
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

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.req("REC-9"), pytest.mark.req("REC-2"),
              pytest.mark.req("INT-1")]

PASSWORD = "Journey-pass-2026"
CASE_NUMBER = "某市监处罚〔2026〕15号"
WRITTEN_NUMBER = "某市监处罚[2026]15号"  # as the officer typed it on the recording
PARTY = "某食品贸易有限公司"
BAD_USCC = "91110000600037341X"
GOOD_USCC = "91110000600037341L"

SEED = f"""
import json
from datetime import timedelta
from django.utils import timezone
from activities.catalog import effective_catalog
from core.testing import make_department, make_person, make_recording, make_unit, make_video

T0 = timezone.make_aware(timezone.datetime(2026, 11, 20, 9, 30))
county = make_department("某区市场监督管理局", level="county")
jc = make_unit(county, name="执法稽查大队")
zhangwei = make_person("officer", unit=jc, username="zhangwei", full_name="张伟", password={PASSWORD!r})
head = make_person("department_head", department=county, username="zhaolei", full_name="赵磊",
                   password={PASSWORD!r})
recording = make_recording(zhangwei, unit=jc, data=make_video(2.0),
                           filename="DSJ-A0012345_10020301_20261120093000_0001.MP4",
                           case_number={WRITTEN_NUMBER!r}, party={PARTY!r}, start_time=T0,
                           end_time=T0 + timedelta(seconds=2), received_at=T0 + timedelta(hours=2))
samr = {{e.matter.code: e.matter.pk for e in effective_catalog(county) if e.matter.scope == "samr"}}
print(json.dumps({{"recording": recording.pk, "county": county.pk, "seizure": samr["seizure"],
                  "sampling": samr["sampling_art28"]}}))
"""


def test_a_case_is_registered_documented_and_the_department_keeps_its_settings(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = screenshot_dir("cases")
    problems: list[str] = []
    pdf = tmp_path / "现场笔录.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        seed = json.loads(platform.shell(SEED).strip().splitlines()[-1])
        base = platform.base_url
        browser = launch_chromium(pw)

        def context():
            return watched_page(browser, problems)

        def shot(page, name):
            # from the top: a full-page capture of a scrolled page draws the sticky sidebar halfway down
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=shots / name, full_page=True)

        def refused_on_purpose():
            # a refused form answers 400 on purpose (Chrome logs every 4xx)
            problems[:] = [p for p in problems if not p.endswith("status of 400 (Bad Request)")]

        # 1. the officer: 案件 in the navigation, nothing yet
        officer_ctx, officer = context()
        sign_in(officer, base, "zhangwei", PASSWORD)
        officer.locator("aside .nav-link", has_text=re.compile(r"^\s*案件\s*$")).click()
        officer.wait_for_load_state("load")
        assert officer.url.endswith("/cases/"), officer.url
        expect(officer.locator("#cases-empty")).to_contain_text("还没有您可查看的案件")
        shot(officer, "01-cases-empty.png")
        officer.locator("#cases-empty .empty-action a", has_text="登记案件").click()
        officer.wait_for_load_state("load")
        assert officer.url.endswith("/cases/new"), officer.url

        # 2. a 统一社会信用代码 with a wrong check character: refused beside the field, nothing lost
        officer.fill("#id_number", CASE_NUMBER)
        officer.fill("#id_title", "销售过期食品案")
        expect(officer.locator("#id_party_kind_organization")).to_be_checked()
        officer.fill("#id_party_name", PARTY)
        officer.fill("#id_party_uscc", BAD_USCC)
        expect(officer.locator("#id_handler option:checked")).to_contain_text("张伟")
        settle(officer)
        officer.click("#submit-case")
        officer.wait_for_load_state("load")
        expect(officer.locator("#uscc-error")).to_contain_text("统一社会信用代码校验位不正确（第 18 位应为 L）")
        expect(officer.locator("#id_party_uscc")).to_have_class(re.compile(r"\bis-invalid\b"))
        expect(officer.locator("#id_party_uscc")).to_have_value(BAD_USCC)
        expect(officer.locator("#id_number")).to_have_value(CASE_NUMBER)
        expect(officer.locator("#id_party_name")).to_have_value(PARTY)
        expect(officer.locator("#id_title")).to_have_value("销售过期食品案")
        shot(officer, "02-new-case-uscc-refused.png")
        refused_on_purpose()

        # 3. corrected: the case's page with its four stages, the recording that named it listed
        officer.fill("#id_party_uscc", GOOD_USCC)
        settle(officer)
        officer.click("#submit-case")
        officer.wait_for_load_state("load")
        assert re.search(r"/cases/\d+/$", officer.url), officer.url
        case_url = officer.url
        expect(officer.locator("body")).to_contain_text("案件已登记")
        expect(officer.locator("#case-number")).to_have_text(CASE_NUMBER)
        expect(officer.locator("#case-uscc")).to_have_text(GOOD_USCC)
        expect(officer.locator("#case-handler")).to_contain_text("张伟")
        steps = officer.locator("#case-steps .step-item")
        expect(steps).to_have_text(["启动", "调查取证", "审查决定", "送达执行"])
        expect(officer.locator("#case-steps .step-item.active")).to_have_text("启动")
        expect(officer.locator("#case-stage")).to_have_text("启动")
        row = officer.locator(f"#case-recordings tr[data-recording='{seed['recording']}']")
        expect(row).to_contain_text("DSJ-A0012345_10020301_20261120093000_0001.MP4")
        expect(row).to_contain_text(WRITTEN_NUMBER)
        expect(row).to_contain_text("张伟")
        shot(officer, "03-case-registered.png")

        # 4. a 现场笔录 (a PDF) into 调查取证
        officer.locator("#stages [data-bs-target='#document-new']").click()
        expect(officer.locator("#document-new.collapse.show")).to_be_visible()  # opened, not still opening
        form = officer.locator("#document-form")
        form.locator("select[name=doc_type]").select_option("site_record")
        form.locator("select[name=stage]").select_option("investigation")
        form.locator("input[name=number]").fill("某市监现〔2026〕88号")
        form.locator("input[name=doc_date]").fill("2026-11-20")
        form.locator("input[name=stated_start]").fill("2026-11-20T09:30:00")
        form.locator("input[name=stated_end]").fill("2026-11-20T10:30:00")
        form.locator("input[name=file]").set_input_files(str(pdf))
        shot(officer, "04-document-form.png")
        settle(officer)
        officer.click("#submit-document")
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("文书已登记，原件已存入文件库")
        investigation = officer.locator("#stage-investigation")
        document = investigation.locator("tr[data-document-row]")
        expect(document).to_have_count(1)
        expect(document).to_contain_text("现场笔录")
        expect(document).to_contain_text("某市监现〔2026〕88号")
        expect(document).to_contain_text("2026-11-20")
        download = document.locator("a[data-document-download]")
        expect(download).to_have_text(re.compile("下载原件"))
        expect(officer.locator("#stage-start")).to_contain_text("该阶段尚未登记文书")
        expect(officer.locator("#stages .card-actions")).to_contain_text("共 1 份文书")
        answer = officer.request.get(f"{base}{download.get_attribute('href')}")
        assert answer.status == 200 and answer.body() == pdf.read_bytes(), answer.status
        assert "attachment" in answer.headers.get("content-disposition", "")
        shot(officer, "05-document-listed.png")

        # 5. the case advances to 调查取证
        stage_form = officer.locator("#stage-form")
        stage_form.locator("select[name=stage]").select_option("investigation")
        settle(officer)
        stage_form.locator("button[type=submit]").click()
        officer.wait_for_load_state("load")
        expect(officer.locator("body")).to_contain_text("案件已进入“调查取证”阶段")
        expect(officer.locator("#case-stage")).to_have_text("调查取证")
        expect(officer.locator("#case-steps .step-item.active")).to_have_text("调查取证")
        expect(officer.locator("#stage-investigation")).to_contain_text("当前阶段")
        expect(officer.locator("#stage-form select[name=stage] option")).to_have_text(["审查决定", "送达执行"])
        shot(officer, "06-stage-investigation.png")

        # 6. the recording filed to the case by what was written on it, and back
        officer.locator(f"#case-recordings tr[data-recording='{seed['recording']}'] a").click()
        officer.wait_for_load_state("load")
        assert officer.url.endswith(f"/recordings/{seed['recording']}/"), officer.url
        filed = officer.locator("#filed-case")
        expect(filed.locator("a")).to_have_text(CASE_NUMBER)
        expect(filed).to_contain_text(f"原填写：{WRITTEN_NUMBER}")
        expect(officer.locator("#filed-party")).to_have_text(PARTY)  # the case's party: no 未关联
        shot(officer, "07-recording-filed.png")
        filed.locator("a").click()
        officer.wait_for_load_state("load")
        assert officer.url == case_url, officer.url

        # 7. the department head: the national catalog, an entry tightened
        head_ctx, head = context()
        head_ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        sign_in(head, base, "zhaolei", PASSWORD)
        head.locator("aside .nav-link", has_text="执法活动").click()
        head.wait_for_load_state("load")
        head.click("#catalog-link")
        head.wait_for_load_state("load")
        assert head.url.endswith("/activities/catalog/"), head.url
        national = head.locator("[data-catalog-scope=samr]")
        expect(national).to_contain_text("全国（市场监管总局规定第三条）")
        seizure = head.locator(f"#matter-{seed['seizure']}")
        expect(seizure).to_contain_text("实施查封或者扣押等强制措施的现场执法活动和场所")
        expect(seizure).to_contain_text("第三条第一款")
        expect(seizure.locator("[data-level]")).to_have_text("全过程")
        expect(head.locator("#own-empty")).to_contain_text("本部门还没有补充事项")
        shot(head, "08-catalog.png")
        seizure.locator(f"[data-tighten='{seed['seizure']}']").click()
        head.wait_for_load_state("load")
        entry = head.locator("#entry-form")
        expect(entry).to_be_visible()
        expect(head.locator("#id_tightens")).to_have_value(str(seed["seizure"]))
        expect(head.locator("#id_name")).to_have_value("实施查封或者扣押等强制措施的现场执法活动和场所")
        expect(head.locator("#id_level")).to_have_value("full_process")
        show_id = entry.locator("input[name=content_points][value=show_id]")
        expect(show_id).not_to_be_checked()
        expect(entry.locator("input[name=content_points][value=scene]")).to_be_checked()
        show_id.check()
        head.fill("#id_article", "某区市场监督管理局执法音像记录实施细则第五条")
        head.fill("#id_reason", "查封扣押现场须先亮证表明身份")
        shot(head, "09-catalog-tighten-form.png")
        settle(head)
        head.click("#entry-submit")
        head.wait_for_load_state("load")
        expect(head.locator("body")).to_contain_text("已从严补充上级事项")
        own = head.locator(f"[data-catalog-scope='dept:{seed['county']}']")
        expect(own).to_contain_text("本部门补充")
        stricter = own.locator("[data-matter-code]")
        expect(stricter).to_have_count(1)
        expect(stricter).to_contain_text("从严补充")
        expect(stricter).to_contain_text("第 1 版")
        expect(stricter).to_contain_text("亮证表明身份")
        expect(stricter).to_contain_text("某区市场监督管理局执法音像记录实施细则第五条")
        expect(stricter.locator(f"[data-tightens='{seed['seizure']}']")).to_contain_text("原要求：全过程记录")
        expect(head.locator(f"#matter-{seed['seizure']}[data-tightened-by]")).to_contain_text("本部门已从严补充")
        stricter.locator("details.matter-versions summary").click()
        expect(stricter.locator("tr[data-version='1']")).to_contain_text("查封扣押现场须先亮证表明身份")
        shot(head, "10-catalog-tightened.png")

        # 8. lowering a 全过程 entry's level: refused in Chinese, nothing saved
        head.locator(f"[data-tighten='{seed['sampling']}']").click()
        head.wait_for_load_state("load")
        expect(head.locator("#id_tightens")).to_have_value(str(seed["sampling"]))
        expect(head.locator("#id_level")).to_have_value("full_process")
        head.select_option("#id_level", "optional")
        head.fill("#id_article", "某区市场监督管理局执法音像记录实施细则第六条")
        settle(head)
        head.click("#entry-submit")
        head.wait_for_load_state("load")
        refusal = head.locator("#entry-form [data-entry-error]")
        expect(refusal).to_contain_text("不能降低上级规定的记录要求（上级为“全过程记录”）")
        expect(head.locator("#id_level")).to_have_value("optional")
        expect(head.locator("#id_article")).to_have_value("某区市场监督管理局执法音像记录实施细则第六条")
        expect(head.locator(f"[data-catalog-scope='dept:{seed['county']}'] [data-matter-code]")).to_have_count(1)
        shot(head, "11-catalog-loosening-refused.png")
        refused_on_purpose()

        # 9. 检查设置: the tolerance, then an endpoint whose secret is shown once
        head.click("#settings-link")
        head.wait_for_load_state("load")
        assert head.url.endswith("/activities/settings/"), head.url
        expect(head.locator("#endpoints-empty")).to_contain_text("还没有推送地址")
        head.fill("#id_time_tolerance_minutes", "10")
        settle(head)
        head.locator("#tolerances-form button[type=submit]").click()
        head.wait_for_load_state("load")
        expect(head.locator("body")).to_contain_text("合规检查设置已保存")
        expect(head.locator("#current-time-tolerance")).to_have_text("10 分钟")
        expect(head.locator("#tolerances-changed")).to_contain_text("赵磊")
        expect(head.locator("#id_time_tolerance_minutes")).to_have_value("10")
        shot(head, "12-settings-tolerance-saved.png")

        head.click("#endpoint-add")
        expect(head.locator("#endpoint-form.collapse.show")).to_be_visible()
        head.fill("#id_name", "办案系统")
        head.fill("#id_url", "https://case.example.gov.cn/hooks/avr")
        settle(head)
        head.locator("#endpoint-form button[type=submit]").click()
        head.wait_for_load_state("load")
        expect(head.locator("body")).to_contain_text("推送地址已添加并启用")
        expect(head.locator("#webhook-secret")).to_contain_text("“办案系统”的签名密钥")
        secret_field = head.locator("#webhook-secret-value")
        secret = secret_field.input_value()
        assert len(secret) >= 32, secret
        expect(secret_field).to_have_attribute("readonly", "")
        expect(head.locator("#endpoints-table")).to_contain_text("https://case.example.gov.cn/hooks/avr")
        expect(head.locator("#endpoints-table tbody tr[data-active='1']")).to_contain_text("办案系统")
        copy = head.locator("#webhook-secret button[data-copy-from='#webhook-secret-value']")
        copy.click()
        expect(copy).to_have_text("已复制")
        assert head.evaluate("navigator.clipboard.readText()") == secret
        shot(head, "13-settings-webhook-secret.png")

        head.goto(f"{base}/activities/settings/")
        head.wait_for_load_state("load")
        expect(head.locator("#webhook-secret")).to_have_count(0)
        expect(head.locator("#endpoints-table")).to_contain_text("办案系统")
        assert secret not in head.content()
        expect(head.locator("#current-time-tolerance")).to_have_text("10 分钟")
        shot(head, "14-settings-secret-gone.png")

        assert problems == [], "\n".join(problems)
        officer_ctx.close()
        head_ctx.close()
        browser.close()
