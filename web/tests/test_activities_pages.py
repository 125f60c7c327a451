"""执法活动 pages through the Django test client (REC-3, REC-4, REC-6, REC-9, SUP-2).

The seizure scenario of activities/tests/test_findings.py, as people meet it on the pages: two
officers register a seizure, the first records 0–40 min, the second 2–38, the first again 47–60;
the page draws the seven-minute gap in red and lists the finding; the suggested recordings are
linked by POST; the officer explains, the unit head accepts. Who may not see the activity gets
a 404; bad ids and bad input a 4xx with a Chinese message, never a 500.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.catalog import effective_catalog
from activities.choices import FindingCode, FindingState, InterruptionForm, LinkSource
from activities.models import Activity, ActivityRecording, ComplianceFinding, Interruption
from activities.services import ActivityValues, create_activity, link_recording
from core.testing import make_department, make_person, make_recording, make_unit
from recordings.choices import MarkerKind
from recordings.markers import add_marker

pytestmark = [pytest.mark.django_db, pytest.mark.req("SUP-2")]

T0 = timezone.make_aware(timezone.datetime(2026, 11, 20, 9, 30))


def at(minutes: float):
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def org():
    city = make_department()
    unit = make_unit(city)
    o = {
        "city": city, "unit": unit,
        "a": make_person("officer", unit=unit, full_name="张伟"),
        "b": make_person("officer", unit=unit, full_name="李娜"),
        "unit_head": make_person("unit_head", unit=unit, full_name="刘洋"),
        "custodian": make_person("custodian", unit=unit, full_name="王强"),
        "outsider": make_person("officer", unit=make_unit(city), full_name="外机构人员"),
        "stranger": make_person("officer", unit=make_unit(make_department()), full_name="外部门人员"),
    }
    catalog = effective_catalog(city)
    o["seizure"] = next(e for e in catalog if e.matter.code == "seizure" and e.matter.scope == "samr")
    return o


def _activity(org, **kw):
    values = {"matter_id": org["seizure"].matter.pk, "title": "某贸易有限公司查封现场", "place": "某区人民路88号",
              "party_name": "某贸易有限公司", "officer_ids": (org["a"].pk, org["b"].pk),
              "starts_at": at(0), "ends_at": at(60)}
    values.update(kw)
    return create_activity(org["unit"], ActivityValues(**values), actor=org["a"])


def _recording(org, officer, start, end, **kw):
    return make_recording(officer, unit=org["unit"], start_time=at(start), end_time=at(end),
                          duration_s=(end - start) * 60, received_at=at(end + 60), **kw)


def _seizure_with_gap(org, link=True):
    """The seizure, its three recordings (linked unless ``link`` is False), content points marked."""
    activity = _activity(org)
    recs = [_recording(org, org["a"], 0, 40), _recording(org, org["b"], 2, 38), _recording(org, org["a"], 47, 60)]
    if link:
        for rec in recs:
            link_recording(activity.pk, rec.pk, actor=org["a"] if rec.primary_officer_id == org["a"].pk else org["b"])
        for point in activity.required_points:
            add_marker(recs[0].pk, actor=org["unit_head"], offset_s=1, kind=MarkerKind.CONTENT_POINT,
                       content_point=point)
    return activity, recs


def _as(client, person):
    client.force_login(person)
    return client


def _detail(activity):
    return reverse("web:activity_detail", args=[activity.pk])


# ---------------------------------------------------------------------------- the list


@pytest.mark.req("REC-9")
def test_the_list_shows_only_the_activities_one_may_see(client, org):
    mine = _activity(org, title="本人参与的查封现场")
    other = create_activity(org["outsider"].unit, ActivityValues(
        matter_id=org["seizure"].matter.pk, title="其他机构的查封现场", officer_ids=(org["outsider"].pk,),
        starts_at=at(120)), actor=org["outsider"])
    body = _as(client, org["a"]).get(reverse("web:activity_list")).content.decode()
    assert "本人参与的查封现场" in body and "其他机构的查封现场" not in body
    # the unit head sees the unit's, not the other unit's; the outsider only their own
    assert "本人参与的查封现场" in _as(client, org["unit_head"]).get(reverse("web:activity_list")).content.decode()
    response = _as(client, org["outsider"]).get(reverse("web:activity_list"))
    rows = [a.pk for a in response.context["rows"]]
    assert rows == [other.pk] and mine.pk not in rows
    # one who sees none: the empty state, in Chinese
    body = _as(client, org["stranger"]).get(reverse("web:activity_list")).content.decode()
    assert "还没有您可查看的执法活动" in body


@pytest.mark.req("REC-3")
def test_a_row_counts_its_recordings_and_open_findings_and_the_filters_apply(client, org):
    activity, _recs = _seizure_with_gap(org)
    quiet = _activity(org, title="另一次查封现场", starts_at=at(-600), ends_at=at(-540))
    response = _as(client, org["a"]).get(reverse("web:activity_list"))
    assert response.status_code == 200
    rows = {a.pk: a for a in response.context["rows"]}
    assert list(rows) == [activity.pk, quiet.pk]  # newest first
    # 张伟 may view two of its three recordings (李娜's is hers): the count says two (ACC-3)
    assert rows[activity.pk].link_count == 2 and rows[activity.pk].open_count == 1
    assert rows[activity.pk].officer_names == "张伟、李娜"
    assert rows[quiet.pk].link_count == 0 and rows[quiet.pk].open_count == 1  # mandatory, not recorded
    ids = lambda r: [a.pk for a in r.context["rows"]]  # noqa: E731
    list_url = reverse("web:activity_list")
    assert ids(client.get(list_url, {"code": FindingCode.GAP_UNEXPLAINED})) == [activity.pk]
    assert ids(client.get(list_url, {"officer": org["b"].pk, "date_from": "2026-11-20", "date_to": "2026-11-20"})) \
        == [activity.pk]
    assert ids(client.get(list_url, {"level": "optional"})) == []
    assert ids(client.get(list_url, {"findings": "none"})) == []
    # 需要处理: the officer's activities with open findings
    response = client.get(list_url, {"tab": "attention"})
    assert ids(response) == [activity.pk, quiet.pk] and response.context["attention_count"] == 2
    assert "需要处理" in response.content.decode()


@pytest.mark.parametrize("params", [
    {"date_from": "0001-01-01"}, {"date_from": "2026-12-31", "date_to": "2026-01-01"},
    {"officer": "99999999999999999999999"}, {"officer": "abc"}, {"level": "nonsense"}, {"code": "x" * 500},
])
def test_bad_filters_are_refused_in_chinese_and_list_nothing(client, org, params):
    _activity(org)
    response = _as(client, org["a"]).get(reverse("web:activity_list"), params)
    assert response.status_code == 400
    assert response.context["rows"] == []
    assert "筛选条件有误" in response.content.decode()


def test_page_numbers_out_of_range_are_not_errors(client, org):
    _activity(org)
    for page in ("0", "-3", "999999999999999999999999", "abc"):
        assert _as(client, org["a"]).get(reverse("web:activity_list"), {"page": page}).status_code == 200


def test_administrators_neither_see_nor_reach_the_pages(client, org):
    admin = make_person("system_admin", department=org["city"])
    _as(client, admin)
    links = {item["name"] for item in client.get(reverse("web:home")).context["nav_items"]}
    assert "activity_list" not in links
    assert client.get(reverse("web:activity_list")).status_code == 403
    assert client.get(reverse("web:activity_new")).status_code == 403
    links = {item["name"] for item in _as(client, org["a"]).get(reverse("web:home")).context["nav_items"]}
    assert "activity_list" in links


# ---------------------------------------------------------------------------- registering


@pytest.mark.req("REC-9")
def test_the_form_offers_the_departments_catalog_and_people(client, org):
    response = _as(client, org["a"]).get(reverse("web:activity_new"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "查封" in body and "全过程记录" in body  # the catalog, with the level
    assert '<optgroup label="全国（市场监管总局规定第三条）">' in body
    assert f'value="{org["a"].pk}" class="form-selectgroup-input" id="id_officers_{org["a"].pk}" checked' in body
    assert "李娜" in body and "外部门人员" not in body
    # the live hint for a matter (htmx)
    hint = client.get(reverse("web:activity_matter"), {"matter": org["seizure"].matter.pk, "unit": org["unit"].pk})
    assert hint.status_code == 200 and org["seizure"].matter.article in hint.content.decode()
    assert client.get(reverse("web:activity_matter"), {"matter": "9" * 30}).status_code == 200


@pytest.mark.req("REC-9")
def test_the_form_refuses_in_chinese_beside_the_fields_and_keeps_what_was_typed(client, org):
    response = _as(client, org["a"]).post(reverse("web:activity_new"), {
        "unit": org["unit"].pk, "matter": org["seizure"].matter.pk, "title": "某食品公司仓库查封",
        "place": "某区人民路88号", "starts_at": "2026-11-20T10:00:00", "ends_at": "2026-11-20T09:00:00",
    })
    assert response.status_code == 400
    body = response.content.decode()
    assert "结束时间须晚于开始时间" in body and "请至少选择一名执法人员" in body
    assert 'value="某食品公司仓库查封"' in body and 'value="某区人民路88号"' in body
    assert 'value="2026-11-20T10:00:00"' in body
    form = response.context["form"]
    assert "ends_at" in form.errors and "officers" in form.errors
    # bad ids: form errors, not 500s
    response = client.post(reverse("web:activity_new"), {
        "unit": "99999999999999999999", "matter": "abc", "title": "", "starts_at": "0001-01-01T00:00",
        "officers": ["-1", "1" * 40]})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写活动名称" in body and "日期须在" in body
    assert not Activity.objects.exists()


@pytest.mark.req("REC-9")
def test_registering_an_activity_leads_to_its_page(client, org):
    response = _as(client, org["a"]).post(reverse("web:activity_new"), {
        "unit": org["unit"].pk, "matter": org["seizure"].matter.pk, "title": "某食品公司仓库查封",
        "place": "某区人民路88号", "party_name": "某食品有限公司",
        "starts_at": "2026-11-20T09:30:00", "ends_at": "2026-11-20T10:30",
        "officers": [org["a"].pk, org["b"].pk],
    })
    activity = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(activity)
    assert activity.starts_at == T0 and activity.ends_at == at(60)  # local time, Asia/Shanghai
    assert set(activity.officers.all()) == {org["a"], org["b"]}
    assert activity.required_level == "full_process"
    body = client.get(response["Location"]).content.decode()
    assert "执法活动已登记" in body and "某食品公司仓库查封" in body and "应当记录而未记录" in body


def test_a_unit_one_does_not_belong_to_is_refused(client, org):
    response = _as(client, org["a"]).post(reverse("web:activity_new"), {
        "unit": org["outsider"].unit.pk, "matter": org["seizure"].matter.pk, "title": "越权登记",
        "starts_at": "2026-11-20T09:30:00", "officers": [org["a"].pk]})
    assert response.status_code == 400
    assert not Activity.objects.exists()


# ---------------------------------------------------------------------------- the activity's page


@pytest.mark.req("REC-3")
@pytest.mark.req("REC-4")
def test_the_page_draws_the_seizure_with_its_gap_and_lists_the_finding(client, org):
    activity, recs = _seizure_with_gap(org)
    response = _as(client, org["unit_head"]).get(_detail(activity))  # the unit head sees all three
    assert response.status_code == 200
    chart = response.context["chart"]
    assert [lane["id"] for lane in chart["lanes"]] == [r.pk for r in recs]
    assert [lane["officer"] for lane in chart["lanes"]] == ["张伟", "李娜", "张伟"]
    assert len(chart["gaps"]) == 1
    gap = chart["gaps"][0]
    assert (gap["start"], gap["end"]) == ("2026-11-20T10:10:00", "2026-11-20T10:17:00")
    assert gap["label"] == "缺口 约 7 分钟" and not gap["explained"]
    assert [s["label"] for s in chart["stated"]] == ["文书记载开始 09:30:00", "文书记载结束 10:30:00"]
    # the gap lies between the stated lines and beside the bars that end and resume around it
    first, _second, resumed = chart["lanes"]
    assert first["bar"]["x"] + first["bar"]["w"] == pytest.approx(gap["x"], abs=0.2)
    assert resumed["bar"]["x"] == pytest.approx(gap["x"] + gap["w"], abs=0.2)
    assert chart["stated"][0]["x"] < gap["x"] < chart["stated"][1]["x"]
    body = response.content.decode()
    assert '<svg class="timeline-chart' in body and 'data-gap-start="2026-11-20T10:10:00"' in body
    assert "缺口 约 7 分钟" in body
    # the finding with its severity, requirement and article, and the officer's form to explain it
    finding = ComplianceFinding.objects.get(activity=activity, state=FindingState.OPEN)
    assert finding.code == FindingCode.GAP_UNEXPLAINED
    assert "中断约 7 分钟" in body and "记录中断未说明" in body and "严重" in body
    assert "REC-4" in body and finding.article in body
    officer_page = _as(client, org["a"]).get(_detail(activity))
    assert officer_page.context["chart"]["gaps"][0]["start"] == gap["start"]  # from the two the officer sees
    assert reverse("web:activity_finding_explain", args=[activity.pk, finding.pk]) in officer_page.content.decode()
    assert reverse("web:activity_finding_accept", args=[activity.pk, finding.pk]) not in body  # not yet explained
    # the recordings, linking to their pages
    for rec in recs:
        assert reverse("web:recording_detail", args=[rec.pk]) in body
    # nothing the Content-Security-Policy forbids: no style attribute, no inline script
    assert not re.search(r"<[a-z][^>]*\sstyle=", body)
    assert not re.search(r"<script>(?!\s*</script>)", body)


@pytest.mark.req("REC-3")
def test_suggested_recordings_are_linked_through_the_page(client, org):
    activity, recs = _seizure_with_gap(org, link=False)
    elsewhere = make_recording(org["a"], unit=org["unit"], start_time=at(-1440), end_time=at(-1430))
    response = _as(client, org["a"]).get(_detail(activity))
    suggested = [s["recording"].pk for s in response.context["suggestions"]]
    # the officer may view their own two; the second officer's is not theirs to see
    assert suggested == [recs[0].pk, recs[2].pk] and elsewhere.pk not in suggested
    body = response.content.decode()
    assert "推荐关联" in body and f'data-link-suggestion="{recs[0].pk}"' in body
    response = client.post(reverse("web:activity_link", args=[activity.pk]),
                           {"recording": recs[0].pk, "source": "suggested"})
    assert response.status_code == 302 and response["Location"].endswith("#recordings")
    link = ActivityRecording.objects.get(recording=recs[0])
    assert link.activity == activity and link.source == LinkSource.SUGGESTED
    # the rest of the suggestions at once ("关联所选")
    response = client.post(reverse("web:activity_link", args=[activity.pk]),
                           {"recordings": [recs[2].pk], "source": "suggested"})
    assert response.status_code == 302
    assert set(ActivityRecording.objects.values_list("recording_id", flat=True)) == {recs[0].pk, recs[2].pk}
    body = client.get(_detail(activity)).content.decode()
    assert "已关联 1 段记录" in body
    # linked twice: refused in Chinese on the page, nothing else changes
    response = client.post(reverse("web:activity_link", args=[activity.pk]), {"recording": recs[0].pk})
    assert response.status_code == 409 and "该记录已关联到本活动" in response.content.decode()
    # the second officer links theirs by number
    response = _as(client, org["b"]).post(reverse("web:activity_link", args=[activity.pk]),
                                          {"recording": str(recs[1].pk), "source": "manual"})
    assert response.status_code == 302
    assert ActivityRecording.objects.get(recording=recs[1]).source == LinkSource.MANUAL


def test_bad_ids_on_the_page_give_4xx_never_500(client, org):
    activity, recs = _seizure_with_gap(org)
    _as(client, org["a"])
    link = reverse("web:activity_link", args=[activity.pk])
    for value in ("abc", "-1", "0", "9" * 40, "1.5"):
        response = client.post(link, {"recording": value})
        assert response.status_code == 400, value
        assert "记录编号应为正整数" in response.content.decode()
    response = client.post(link, {"recordings": ["9" * 40]})
    assert response.status_code == 400
    response = client.post(link, {"recording": "999999999"})
    assert response.status_code == 404 and "记录不存在或您无权查看" in response.content.decode()
    unlink = reverse("web:activity_unlink", args=[activity.pk])
    assert client.post(unlink, {"recording": "9" * 40, "comment": "误关联"}).status_code == 400
    assert client.post(unlink, {"recording": recs[0].pk, "comment": ""}).status_code == 400
    assert client.get("/activities/99999999999999999999999/").status_code == 404
    assert client.get("/activities/999999999/").status_code == 404
    assert client.get(f"/activities/{activity.pk}/findings/99999999999999999999/explain").status_code == 404
    finding_url = reverse("web:activity_finding_explain", args=[activity.pk, 999999999])
    assert client.post(finding_url, {"f999999999-text": "说明"}).status_code == 404
    marker = reverse("web:activity_marker_new", args=[activity.pk])
    response = client.post(marker, {"recording": "abc", "kind": "note", "offset_s": "1e999", "note": "备注"})
    assert response.status_code == 400
    interruption = reverse("web:activity_interruption_new", args=[activity.pk])
    response = client.post(interruption, {"which": "voice", "voice-form": "voice", "voice-starts_at": "x",
                                          "voice-ends_at": "9999-99-99", "voice-reason": "battery",
                                          "voice-marker": "9" * 30})
    assert response.status_code == 400 and "请输入有效的日期和时间" in response.content.decode()
    assert client.get(link).status_code == 405


@pytest.mark.req("REC-9")
def test_an_outsider_gets_404_not_403(client, org):
    activity, _recs = _seizure_with_gap(org)
    for person in (org["outsider"], org["stranger"]):
        _as(client, person)
        assert client.get(_detail(activity)).status_code == 404
        assert client.post(reverse("web:activity_link", args=[activity.pk]), {"recording": "1"}).status_code == 404
        finding = ComplianceFinding.objects.filter(activity=activity).first()
        url = reverse("web:activity_finding_explain", args=[activity.pk, finding.pk])
        assert client.post(url, {f"f{finding.pk}-text": "说明"}).status_code == 404
    finding.refresh_from_db()
    assert finding.explanation == ""


@pytest.mark.req("REC-4")
def test_explain_then_accept_through_the_page(client, org):
    activity, _recs = _seizure_with_gap(org)
    finding = ComplianceFinding.objects.get(activity=activity, state=FindingState.OPEN)
    explain = reverse("web:activity_finding_explain", args=[activity.pk, finding.pk])
    accept = reverse("web:activity_finding_accept", args=[activity.pk, finding.pk])
    # empty: refused beside the field, in Chinese
    response = _as(client, org["a"]).post(explain, {f"f{finding.pk}-text": "   "})
    assert response.status_code == 400 and "请写明情况说明" in response.content.decode()
    response = client.post(explain, {f"f{finding.pk}-text": "电池耗尽，更换备用电池后继续记录"})
    assert response.status_code == 302 and response["Location"].endswith(f"#finding-{finding.pk}")
    finding.refresh_from_db()
    assert finding.state == FindingState.EXPLAINED and finding.explained_by == org["a"]
    # an officer may not accept; the button is not even there
    assert accept not in client.get(_detail(activity)).content.decode()
    response = client.post(accept, {f"a{finding.pk}-comment": ""})
    assert response.status_code == 403 and "只有该执法机构的负责人可以认可" in response.content.decode()
    # the unit head accepts
    body = _as(client, org["unit_head"]).get(_detail(activity)).content.decode()
    assert accept in body and "电池耗尽" in body
    response = client.post(accept, {f"a{finding.pk}-comment": "情况属实"})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.state == FindingState.ACCEPTED and finding.accepted_by == org["unit_head"]
    body = client.get(_detail(activity)).content.decode()
    assert "已认可该情况说明" in body and "采集机构负责人已认可" in body
    # accepted twice: a conflict, shown in Chinese
    response = client.post(accept, {f"a{finding.pk}-comment": ""})
    assert response.status_code == 409 and "只有已说明的提示可以认可" in response.content.decode()


@pytest.mark.req("REC-4")
def test_a_voice_statement_marked_and_the_interruption_registered_closes_the_gap(client, org):
    activity, recs = _seizure_with_gap(org)
    _as(client, org["a"])
    interruption = reverse("web:activity_interruption_new", args=[activity.pk])
    fields = {"which": "voice", "voice-form": "voice", "voice-starts_at": "2026-11-20T10:10:00",
              "voice-ends_at": "2026-11-20T10:17:00", "voice-reason": "battery"}
    response = client.post(interruption, fields)
    assert response.status_code == 400 and "请选择恢复记录时语音说明的标记" in response.content.decode()
    assert 'value="2026-11-20T10:10:00"' in response.content.decode()  # what was typed is kept
    response = client.post(reverse("web:activity_marker_new", args=[activity.pk]), {
        "recording": recs[2].pk, "kind": MarkerKind.RESUME_STATEMENT, "offset_s": "2", "note": "电池耗尽，更换后继续"})
    assert response.status_code == 302
    marker = recs[2].markers.get(kind=MarkerKind.RESUME_STATEMENT)
    response = client.post(interruption, {**fields, "voice-marker": marker.pk})
    assert response.status_code == 302
    row = Interruption.objects.get(activity=activity)
    assert row.form == InterruptionForm.VOICE and row.marker == marker and row.starts_at == at(40)
    assert not ComplianceFinding.objects.filter(activity=activity, state=FindingState.OPEN).exists()
    chart = client.get(_detail(activity)).context["chart"]
    assert chart["gaps"][0]["explained"] and chart["gaps"][0]["label"] == "已登记中断 约 7 分钟"
    assert chart["interruptions"]["bars"]
    assert any(m["kind"] == "resume_statement" for m in chart["lanes"][-1]["marks"])


@pytest.mark.req("REC-4")
def test_a_written_interruption_with_its_statement_and_the_unit_heads_acknowledgement(client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    activity, _recs = _seizure_with_gap(org)
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    fields = {"which": "written", "written-form": "written", "written-starts_at": "2026-11-20T10:10:00",
              "written-ends_at": "2026-11-20T10:17:00", "written-reason": "device_fault",
              "written-signers": [org["a"].pk]}
    url = reverse("web:activity_interruption_new", args=[activity.pk])
    response = _as(client, org["a"]).post(url, {**fields, "written-statement": SimpleUploadedFile("说明.txt", b"abc")})
    body = response.content.decode()
    assert response.status_code == 400 and "只接受 PDF、JPEG 或 PNG" in body and "两名以上执法人员签名" in body
    response = client.post(url, {**fields, "written-signers": [org["a"].pk, org["b"].pk],
                                 "written-statement": SimpleUploadedFile("说明.pdf", pdf)})
    assert response.status_code == 302
    row = Interruption.objects.get(activity=activity)
    assert row.statement is not None and set(row.signers.all()) == {org["a"], org["b"]}
    codes = set(ComplianceFinding.objects.filter(activity=activity, state=FindingState.OPEN).values_list("code", flat=True))
    assert codes == {FindingCode.INTERRUPTION_UNACKNOWLEDGED}
    ack = reverse("web:activity_interruption_acknowledge", args=[activity.pk, row.pk])
    assert ack not in client.get(_detail(activity)).content.decode()
    assert client.post(ack).status_code == 403
    assert ack in _as(client, org["unit_head"]).get(_detail(activity)).content.decode()
    assert client.post(ack).status_code == 302
    assert not ComplianceFinding.objects.filter(activity=activity, state=FindingState.OPEN).exists()


@pytest.mark.req("REC-9")
def test_unlinking_needs_a_reason(client, org):
    activity, recs = _seizure_with_gap(org)
    url = reverse("web:activity_unlink", args=[activity.pk])
    response = _as(client, org["a"]).post(url, {"recording": recs[0].pk, "comment": " "})
    assert response.status_code == 400 and "请写明取消关联的理由" in response.content.decode()
    response = client.post(url, {"recording": recs[0].pk, "comment": "误关联，属另一次检查"})
    assert response.status_code == 302
    assert not ActivityRecording.objects.filter(recording=recs[0]).exists()


@pytest.mark.req("REC-3")
def test_only_the_recordings_one_may_view_are_listed(client, org):
    activity, recs = _seizure_with_gap(org)
    # the unit head sees all three; the first officer only their own two (李娜's is hers)
    assert len(_as(client, org["unit_head"]).get(_detail(activity)).context["recordings"]) == 3
    response = _as(client, org["a"]).get(_detail(activity))
    assert [r.pk for r in response.context["recordings"]] == [recs[0].pk, recs[2].pk]
    body = response.content.decode()
    assert recs[1].original_filename not in body
    assert response.context["visible_links"] == 2 and "另有" not in body  # not even how many others (ACC-3)


@pytest.mark.req("REC-2")
def test_an_unrecorded_activity_offers_the_non_recording_report(client, org):
    activity = _activity(org)
    url = reverse("web:activity_non_recording", args=[activity.pk])
    body = _as(client, org["a"]).get(_detail(activity)).content.decode()
    assert url in body and "没有可推荐的记录" in body
    response = client.post(url, {"reason": "emergency", "text": "现场发生火情，无法记录"})
    assert response.status_code == 400 and "请确认已注明" in response.content.decode()
    response = client.post(url, {"reason": "emergency", "text": "现场发生火情，无法记录", "noted_in_record": "on"})
    assert response.status_code == 302
    ack = reverse("web:activity_non_recording_acknowledge", args=[activity.pk])
    assert ack in _as(client, org["unit_head"]).get(_detail(activity)).content.decode()
    assert client.post(ack).status_code == 302
    assert not ComplianceFinding.objects.filter(activity=activity, state=FindingState.OPEN).exists()


# ---------------------------------------------------------------------------- open findings by officer and type


@pytest.mark.req("SUP-2")
def test_the_unit_summary_counts_open_findings_by_officer_and_type(client, org):
    activity, _recs = _seizure_with_gap(org)
    _activity(org, title="另一次查封现场", starts_at=at(-600), ends_at=at(-540), officer_ids=(org["a"].pk,))
    response = _as(client, org["unit_head"]).get(reverse("web:activity_findings"))
    assert response.status_code == 200
    table = {row["person"].pk: {c["code"]: c["n"] for c in row["cells"]} for row in response.context["table"]}
    assert table[org["a"].pk] == {FindingCode.MANDATORY_NOT_RECORDED: 1, FindingCode.GAP_UNEXPLAINED: 1}
    assert table[org["b"].pk] == {FindingCode.MANDATORY_NOT_RECORDED: 0, FindingCode.GAP_UNEXPLAINED: 1}
    assert response.context["total"] == 2
    body = response.content.decode()
    link = f"?findings=open&amp;code={FindingCode.GAP_UNEXPLAINED}&amp;officer={org['b'].pk}"
    assert link in body
    rows = client.get(reverse("web:activity_list"), {"findings": "open", "code": FindingCode.GAP_UNEXPLAINED,
                                                      "officer": org["b"].pk}).context["rows"]
    assert [a.pk for a in rows] == [activity.pk]
    assert _as(client, org["custodian"]).get(reverse("web:activity_findings")).status_code == 200
    # an officer is sent to their own 需要处理 instead
    response = _as(client, org["a"]).get(reverse("web:activity_findings"))
    assert response.status_code == 403 and "需要处理" in response.content.decode()
    # the other unit's head sees none of it
    other_head = make_person("unit_head", unit=org["outsider"].unit)
    assert _as(client, other_head).get(reverse("web:activity_findings")).context["table"] == []


@pytest.mark.req("REC-3")
def test_the_chart_places_what_it_can_and_says_what_it_cannot():
    from types import SimpleNamespace

    from web.views.activities_chart import build_chart

    def rec(pk, start, end, name="DSJ-A0012345_10020301_20261120093000_0001.MP4"):
        return SimpleNamespace(pk=pk, start_time=start, end_time=end, original_filename=name)

    assert build_chart(stated_start=None, stated_end=None, recordings=[]) is None
    # only the documents' times: an axis with the two lines, no lanes
    chart = build_chart(stated_start=at(0), stated_end=at(60), recordings=[])
    assert [s["label"] for s in chart["stated"]] == ["文书记载开始 09:30:00", "文书记载结束 10:30:00"]
    assert chart["lanes"] == [] and chart["gaps"] == [] and chart["ticks"]
    # a recording without times gets a lane that says so; a two-second clip is still seen
    chart = build_chart(stated_start=at(0), stated_end=at(60), recordings=[
        (rec(1, None, None), "张伟"), (rec(2, at(10), at(10) + timedelta(seconds=2)), "李娜")])
    assert chart["lanes"][0]["bar"] is None and "拍摄时间未知" in chart["lanes"][0]["missing"]
    assert chart["lanes"][1]["bar"]["w"] >= 3
    # recording started 20 minutes late: shown as not recorded inside the documents' times
    chart = build_chart(stated_start=at(0), stated_end=at(60), recordings=[(rec(3, at(20), at(60)), "张伟")])
    assert [u["label"] for u in chart["coverage"]["uncovered"]] == ["开始后未记录 约 20 分钟"]
    # across midnight: the first tick and the day change carry the date
    chart = build_chart(stated_start=at(14 * 60), stated_end=at(16 * 60), recordings=[])
    assert chart["ticks"][0]["label"].startswith("11-20 ") and any(t["label"].startswith("11-21 ")
                                                                    for t in chart["ticks"])
    # every x lies on the plot
    assert all(232 <= t["x"] <= 980 for t in chart["ticks"])
