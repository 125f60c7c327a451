"""案件 pages through the Django test client (REC-9).

A case is registered (a 统一社会信用代码 with a wrong check character is refused beside the field,
in Chinese, and nothing is saved), moves on through its stages, gets its documents — a scan
uploaded into the vault as an original, a pushed one with only its particulars — and is closed
and archived. Its documents download with a custody event. Another department's case, and a
document of it, is a 404.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.choices import CaseStage, DocumentType, FindingCode
from activities.documents import add_document
from activities.models import Case, CaseDocument, ComplianceFinding
from activities.services import ActivityValues, CaseValues, close_case, create_activity, create_case
from activities.testing import case_people
from core.testing import make_department, make_person, make_unit
from custody.choices import EventCode
from custody.models import Event
from storage.models import StoredObject

pytestmark = [pytest.mark.django_db, pytest.mark.req("REC-9")]

USCC = "91110000600037341L"
WRONG_USCC = "91110000600037341X"  # the check character should be L
PDF = b"%PDF-1.4\n% filing approval of the case\n%%EOF\n"
T0 = timezone.now().replace(microsecond=0) - timedelta(hours=3)


@pytest.fixture
def org():
    return case_people()


def _case(org, number="某市监处罚〔2026〕15号", **kw):
    values = {"number": number, "party_name": "某某食品有限公司", "party_uscc": USCC, "title": "销售过期食品案",
              "handler_id": org["officer"].pk}
    values.update(kw)
    return create_case(org["city"], CaseValues(**values), actor=org["officer"])


def _as(client, person):
    client.force_login(person)
    return client


def _detail(case):
    return reverse("web:case_detail", args=[case.pk])


def _pdf(name="立案审批表.pdf", data=PDF):
    f = io.BytesIO(data)
    f.name = name
    return f


# ---------------------------------------------------------------------------- the list


def test_the_list_filters_by_stage_state_and_text(client, org):
    today = timezone.localdate()
    open_case = _case(org, "某市监处罚〔2026〕1号", party_name="甲食品有限公司")
    investigating = _case(org, "某市监处罚〔2026〕2号", party_name="乙商贸有限公司")
    Case.objects.filter(pk=investigating.pk).update(stage=CaseStage.INVESTIGATION)
    closed = _case(org, "某市监处罚〔2026〕3号", party_name="丙超市")
    close_case(closed.pk, actor=org["officer"], closed_on=today - timedelta(days=3))
    overdue = _case(org, "某市监处罚〔2026〕4号", party_name="丁药房", party_kind="person", party_uscc="")
    close_case(overdue.pk, actor=org["officer"], closed_on=today - timedelta(days=40))
    archived = _case(org, "某市监处罚〔2026〕5号", party_name="戊餐馆")
    close_case(archived.pk, actor=org["officer"], closed_on=today - timedelta(days=10))
    Case.objects.filter(pk=archived.pk).update(archived_on=today)
    url = reverse("web:case_list")
    ids = lambda r: [c.pk for c in r.context["rows"]]  # noqa: E731
    response = _as(client, org["officer"]).get(url)
    assert response.status_code == 200
    assert ids(response) == [archived.pk, overdue.pk, closed.pk, investigating.pk, open_case.pk]  # newest first
    body = response.content.decode()
    assert "归档逾期" in body and "已结案待归档" in body and "已归档" in body and "办理中" in body
    assert ids(client.get(url, {"stage": CaseStage.INVESTIGATION})) == [investigating.pk]
    assert ids(client.get(url, {"state": "open"})) == [investigating.pk, open_case.pk]
    assert ids(client.get(url, {"state": "closed"})) == [closed.pk]
    assert ids(client.get(url, {"state": "overdue"})) == [overdue.pk]
    assert ids(client.get(url, {"state": "archived"})) == [archived.pk]
    assert ids(client.get(url, {"q": "2026〕3"})) == [closed.pk]
    assert ids(client.get(url, {"q": "丁药房"})) == [overdue.pk]
    assert ids(client.get(url, {"q": "没有这个当事人"})) == []
    assert "没有符合筛选条件的案件" in client.get(url, {"q": "没有这个当事人"}).content.decode()
    for bad in ({"stage": "closing"}, {"state": "x" * 300}, {"q": "x" * 101}):
        response = client.get(url, bad)
        assert response.status_code == 400 and response.context["rows"] == []
        assert "筛选条件有误" in response.content.decode()
    for page in ("0", "-3", "999999999999999999999999", "abc"):
        assert client.get(url, {"page": page}).status_code == 200


def test_the_list_shows_only_the_cases_one_may_see(client, org):
    mine = _case(org)
    boss = make_person("department_head", department=org["stranger"].department)
    theirs = create_case(org["stranger"].department, CaseValues(number="外部门案件", party_name="某公司"), actor=boss)
    rows = [c.pk for c in _as(client, org["officer"]).get(reverse("web:case_list")).context["rows"]]
    assert rows == [mine.pk] and theirs.pk not in rows
    body = _as(client, org["stranger"]).get(reverse("web:case_list")).content.decode()
    assert "外部门案件" in body and "某市监处罚〔2026〕15号" not in body
    # one of a department without cases: the empty state, in Chinese
    lonely = make_person("officer", unit=make_unit(make_department()))
    assert "还没有您可查看的案件" in _as(client, lonely).get(reverse("web:case_list")).content.decode()


def test_the_navigation_has_cases_for_record_holders_only(client, org):
    response = _as(client, org["officer"]).get(reverse("web:case_list"))
    items = [i["name"] for i in response.context["nav_items"]]
    assert items[items.index("activity_list") + 1] == "case_list"
    assert next(i for i in response.context["nav_items"] if i["name"] == "case_list")["active"]
    admin = make_person("system_admin", department=org["city"])
    _as(client, admin)
    assert "case_list" not in {i["name"] for i in client.get(reverse("web:home")).context["nav_items"]}
    assert client.get(reverse("web:case_list")).status_code == 403
    assert client.get(reverse("web:case_new")).status_code == 403


# ---------------------------------------------------------------------------- registering


def test_a_case_is_registered_and_its_page_shown(client, org):
    _as(client, org["officer"])
    form = client.get(reverse("web:case_new"))
    assert form.status_code == 200 and "李娜" in form.content.decode() and "外部门人员" not in form.content.decode()
    response = client.post(reverse("web:case_new"), {
        "number": "某市监处罚〔2026〕15号", "title": "销售过期食品案", "party_kind": "organization",
        "party_name": "某某食品有限公司", "party_uscc": USCC.lower(), "handler": org["colleague"].pk,
        "opened_on": timezone.localdate().isoformat()})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == _detail(case)
    assert case.party_uscc == USCC and case.handler_id == org["colleague"].pk and case.department_id == org["city"].pk
    assert Event.objects.filter(action=EventCode.CASE_CREATED, actor_id=org["officer"].pk).count() == 1


def test_a_wrong_check_character_is_refused_beside_the_field_and_nothing_is_saved(client, org):
    response = _as(client, org["officer"]).post(reverse("web:case_new"), {
        "number": "某市监处罚〔2026〕15号", "party_kind": "organization", "party_name": "某某食品有限公司",
        "party_uscc": WRONG_USCC})
    assert response.status_code == 400
    body = response.content.decode()
    assert "统一社会信用代码校验位不正确（第 18 位应为 L）" in body
    assert "party_uscc" in response.context["form"].errors
    assert f'value="{WRONG_USCC}"' in body and 'value="某某食品有限公司"' in body  # what was typed is kept
    assert not Case.objects.exists() and not Event.objects.filter(action=EventCode.CASE_CREATED).exists()
    # a natural person has no code: whatever was typed there is not checked
    response = client.post(reverse("web:case_new"), {
        "number": "某市监处罚〔2026〕16号", "party_kind": "person", "party_name": "王某", "party_uscc": WRONG_USCC})
    assert response.status_code == 302 and Case.objects.get().party_uscc == ""


def test_a_number_already_used_in_the_department_is_refused(client, org):
    _case(org)
    response = _as(client, org["colleague"]).post(reverse("web:case_new"), {
        "number": "某市监处罚〔2026〕15号", "party_kind": "organization", "party_name": "另一公司"})
    assert response.status_code == 400
    assert "本部门已有案号为“某市监处罚〔2026〕15号”的案件" in response.content.decode()
    assert "number" in response.context["form"].errors and Case.objects.count() == 1
    # bad input of every kind: form errors, never a 500
    response = client.post(reverse("web:case_new"), {
        "number": "", "party_kind": "company", "party_name": "号" * 300, "handler": "9" * 40, "opened_on": "0001-01-01"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"number", "party_kind", "party_name", "handler", "opened_on"}
    # the legal office supervises but does not register cases
    assert _as(client, org["legal"]).get(reverse("web:case_new")).status_code == 403


# ---------------------------------------------------------------------------- the case's page


def test_the_page_shows_party_stages_documents_activities_and_findings(client, org):
    case = _case(org)
    activity = create_activity(org["unit"], ActivityValues(
        matter_id=org["seizure"].matter.pk, title="仓库查封现场", officer_ids=(org["officer"].pk,), case_id=case.pk,
        starts_at=T0, ends_at=T0 + timedelta(hours=1)), actor=org["officer"])
    add_document(actor=org["officer"], case_id=case.pk, stage=CaseStage.START, doc_type=DocumentType.FILING_APPROVAL,
                 number="某市监立〔2026〕3号", upload=_pdf())
    add_document(actor=org["officer"], activity_id=activity.pk, stage=CaseStage.INVESTIGATION,
                 doc_type=DocumentType.SITE_RECORD, number="某市监现〔2026〕88号", stated_start=T0,
                 stated_end=T0 + timedelta(minutes=50), external_system="办案系统", external_id="WS-1")
    response = _as(client, org["officer"]).get(_detail(case))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("某某食品有限公司", USCC, "张伟", "销售过期食品案", "立案审批表", "某市监立〔2026〕3号", "现场笔录",
                 "某市监现〔2026〕88号", "仅登记信息", "下载原件", "仓库查封现场", "调查取证", "审查决定", "送达执行"):
        assert text in body, text
    stages = {s["value"]: s for s in response.context["stages"]}
    assert stages[CaseStage.START]["current"] and [d.number for d in stages[CaseStage.START]["documents"]] == [
        "某市监立〔2026〕3号"]
    assert [d.number for d in stages[CaseStage.INVESTIGATION]["documents"]] == ["某市监现〔2026〕88号"]
    assert 'class="step-item active" data-stage="start"' in body
    assert 'id="document-form"' in body and 'id="stage-form"' in body and 'id="close-form"' in body
    # the activity's findings (mandatory, not recorded) are the case's too
    assert FindingCode.MANDATORY_NOT_RECORDED in {f.code for f in response.context["findings"]}
    # the legal office reads the page but has no forms
    body = _as(client, org["legal"]).get(_detail(case)).content.decode()
    assert "某市监立〔2026〕3号" in body and 'id="document-form"' not in body and 'id="close-form"' not in body
    # the activity's page links the case and lists its document
    body = _as(client, org["officer"]).get(reverse("web:activity_detail", args=[activity.pk])).content.decode()
    assert f'href="{_detail(case)}" id="activity-case-link"' in body and "某市监现〔2026〕88号" in body


def test_stages_move_forward_then_the_case_closes_and_is_archived(client, org):
    case = _case(org)
    _as(client, org["officer"])
    response = client.post(reverse("web:case_stage", args=[case.pk]), {"stage": CaseStage.INVESTIGATION})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == CaseStage.INVESTIGATION
    event = Event.objects.get(action=EventCode.CASE_STAGE_CHANGED)
    assert event.details["previous_stage"] == "start" and event.details["case_stage"] == "investigation"
    # back is refused with the page again, in Chinese
    response = client.post(reverse("web:case_stage", args=[case.pk]), {"stage": CaseStage.START})
    assert response.status_code == 400 and "办案阶段只能向后推进" in response.content.decode()
    today = timezone.localdate()
    response = client.post(reverse("web:case_close", args=[case.pk]),
                           {"closed_on": (today + timedelta(days=1)).isoformat()})
    assert response.status_code == 400 and "结案日期不能晚于今天" in response.content.decode()
    response = client.post(reverse("web:case_close", args=[case.pk]),
                           {"closed_on": (today - timedelta(days=40)).isoformat()})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.closed_on == today - timedelta(days=40) and case.archive_due == today - timedelta(days=10)
    body = client.get(_detail(case)).content.decode()
    assert "已逾期" in body and "案卷逾期未归档" in body and 'id="archive-form"' in body and 'id="stage-form"' not in body
    assert ComplianceFinding.objects.filter(case=case, code=FindingCode.ARCHIVE_OVERDUE).exists()
    response = client.post(reverse("web:case_archive", args=[case.pk]), {"archived_on": today.isoformat()})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.archived_on == today
    body = client.get(_detail(case)).content.decode()
    assert "已归档" in body and 'id="archive-form"' not in body and 'id="close-form"' not in body
    # closed: the stage no longer changes
    response = client.post(reverse("web:case_stage", args=[case.pk]), {"stage": CaseStage.EXECUTION})
    assert response.status_code == 400


def test_a_document_file_is_uploaded_then_downloaded_with_its_event(client, org):
    case = _case(org)
    _as(client, org["officer"])
    response = client.post(reverse("web:case_document_new", args=[case.pk]), {
        "doc_type": DocumentType.FILING_APPROVAL, "stage": CaseStage.START, "number": "某市监立〔2026〕3号",
        "doc_date": timezone.localdate().isoformat(), "file": _pdf()})
    assert response.status_code == 302
    document = CaseDocument.objects.get()
    stored = document.stored_object
    assert stored is not None and stored.size == len(PDF) and stored.write_verified and stored.sm3
    assert document.filename == "立案审批表.pdf" and document.case_id == case.pk and document.created_by == org["officer"]
    assert Event.objects.filter(action=EventCode.DOCUMENT_ADDED, subject_id=str(document.pk)).exists()
    download = client.get(reverse("web:case_document_download", args=[document.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    event = Event.objects.get(action=EventCode.DOCUMENT_DOWNLOADED)
    assert event.actor_id == org["officer"].pk and event.subject_id == str(document.pk)
    assert event.details == {"doc_type": "filing_approval", "doc_number": "某市监立〔2026〕3号", "sha256": stored.sha256}
    # a document registered without its file has nothing to download
    bare = add_document(actor=org["officer"], case_id=case.pk, doc_type=DocumentType.SERVICE_RECEIPT)
    assert client.get(reverse("web:case_document_download", args=[bare.pk])).status_code == 404


def test_bad_documents_are_refused_in_the_form_and_nothing_is_saved(client, org):
    case = _case(org)
    _as(client, org["officer"])
    url = reverse("web:case_document_new", args=[case.pk])
    response = client.post(url, {"doc_type": DocumentType.SITE_RECORD, "stated_start": "2026-11-20T10:00:00",
                                 "stated_end": "2026-11-20T09:00:00", "file": _pdf()})
    assert response.status_code == 400
    assert "文书记载的结束时间不能早于开始时间" in response.content.decode()
    response = client.post(url, {"doc_type": "memo", "file": _pdf("x.pdf", b"MZ not a document")})
    assert response.status_code == 400
    form = response.context["document_form"]
    assert "doc_type" in form.errors and "file" in form.errors
    assert not CaseDocument.objects.exists() and not StoredObject.objects.exists()
    # someone who sees but does not keep the case: refused, nothing saved
    response = _as(client, org["legal"]).post(url, {"doc_type": DocumentType.OTHER})
    assert response.status_code == 403 and "您不能为该案件登记文书" in response.content.decode()
    assert not CaseDocument.objects.exists()


def test_a_document_is_added_on_the_activity_page(client, org):
    activity = create_activity(org["unit"], ActivityValues(
        matter_id=org["seizure"].matter.pk, title="仓库查封现场", officer_ids=(org["officer"].pk,),
        starts_at=T0, ends_at=T0 + timedelta(hours=1)), actor=org["officer"])
    _as(client, org["officer"])
    page = client.get(reverse("web:activity_detail", args=[activity.pk])).content.decode()
    assert 'id="documents"' in page and "该活动尚未登记文书" in page
    response = client.post(reverse("web:activity_document_new", args=[activity.pk]), {
        "doc_type": DocumentType.SITE_RECORD, "stated_start": T0.strftime("%Y-%m-%dT%H:%M:%S"),
        "stated_end": "bad", "file": _pdf()})
    assert response.status_code == 400 and "请输入有效的日期和时间" in response.content.decode()
    response = client.post(reverse("web:activity_document_new", args=[activity.pk]), {
        "doc_type": DocumentType.SITE_RECORD, "number": "某市监现〔2026〕9号", "file": _pdf("现场笔录.pdf")})
    assert response.status_code == 302 and response["Location"].endswith("#documents")
    document = CaseDocument.objects.get()
    assert document.activity_id == activity.pk and document.case_id is None and document.stored_object_id
    body = client.get(reverse("web:activity_detail", args=[activity.pk])).content.decode()
    assert "某市监现〔2026〕9号" in body and reverse("web:case_document_download", args=[document.pk]) in body
    # an officer of another unit sees neither the activity nor its document
    _as(client, org["other_unit"])
    assert client.post(reverse("web:activity_document_new", args=[activity.pk]),
                       {"doc_type": DocumentType.OTHER}).status_code == 404
    assert client.get(reverse("web:case_document_download", args=[document.pk])).status_code == 404


# ---------------------------------------------------------------------------- confidentiality


def test_another_departments_case_and_its_documents_are_not_found(client, org):
    case = _case(org)
    document = add_document(actor=org["officer"], case_id=case.pk, doc_type=DocumentType.FILING_APPROVAL,
                            upload=_pdf())
    _as(client, org["stranger"])
    assert client.get(reverse("web:case_detail", args=[case.pk])).status_code == 404
    for name, data in (("case_document_new", {"doc_type": DocumentType.OTHER}),
                       ("case_stage", {"stage": CaseStage.INVESTIGATION}),
                       ("case_close", {"closed_on": timezone.localdate().isoformat()}),
                       ("case_archive", {"archived_on": timezone.localdate().isoformat()})):
        assert client.post(reverse(f"web:{name}", args=[case.pk]), data).status_code == 404, name
    assert client.get(reverse("web:case_document_download", args=[document.pk])).status_code == 404
    assert client.get(reverse("web:case_detail", args=[case.pk + 999])).status_code == 404
    assert client.get("/cases/" + "9" * 30 + "/").status_code == 404
    case.refresh_from_db()
    assert case.stage == CaseStage.START and case.closed_on is None
    assert CaseDocument.objects.count() == 1
    assert not Event.objects.filter(action=EventCode.DOCUMENT_DOWNLOADED).exists()
    # the administrators reach none of it
    _as(client, make_person("system_admin", department=org["city"]))
    assert client.get(reverse("web:case_detail", args=[case.pk])).status_code == 403
    assert client.get(reverse("web:case_document_download", args=[document.pk])).status_code == 403


# ---------------------------------------------------------------------------- recordings' written case numbers


def test_the_case_lists_the_recordings_that_name_it_and_the_recording_links_the_case(client, org):
    """The 案号 written on a recording links it to the case (activities.filing): the case page
    lists the recordings the person may view; the recording page links the case, and says
    未关联 where the written number, party or matter matches nothing."""
    from core.testing import make_recording

    case = _case(org)
    mine = make_recording(org["officer"], case_number="某市监处罚[2026]15号", party="某某食品有限公司")
    hers = make_recording(org["colleague"], case_number=case.number)
    stray = make_recording(org["officer"], case_number="不存在的案号", party="某公司", matter_type="夜市巡查")
    body = _as(client, org["officer"]).get(_detail(case)).content.decode()
    assert f'data-recording="{mine.pk}"' in body
    assert f'data-recording="{hers.pk}"' not in body  # 李娜's: not the officer's to view (ACC-3)
    assert f'data-recording="{stray.pk}"' not in body
    page = client.get(reverse("web:recording_detail", args=[mine.pk])).content.decode()
    assert _detail(case) in page and "原填写：某市监处罚[2026]15号" in page
    page = client.get(reverse("web:recording_detail", args=[stray.pk])).content.decode()
    filed = page[page.index('id="filed-case"'):page.index('id="filed-party"')]
    assert "不存在的案号" in filed and "未关联" in filed and _detail(case) not in page
    assert "未关联" in page[page.index('id="filed-matter"'):page.index('id="filed-case"')]
