"""The 调阅申请 pages (issue 9, ACC-1): list, form with its approval route, detail and decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access import approvals
from access.choices import AccessAction, RequestStatus
from access.models import AccessRequest
from access.profiles import SAMR_17_2, SAMR_17_3
from core.testing import lapse_request, make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event
from orgs.choices import Role

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]

LIST = reverse("web:access_request_list")
NEW = reverse("web:access_request_new")
ROUTE = reverse("web:access_request_route")


@pytest.fixture
def w():
    city = make_department("甲市市场监督管理局", level="city")
    far = make_department("乙市市场监督管理局", level="city")
    unit = make_unit(city, name="执法稽查科")
    unit2 = make_unit(city, name="城区市场监管所")
    far_unit = make_unit(far)
    o = {
        "city": city, "far": far, "unit": unit, "unit2": unit2,
        "officer": make_person(Role.OFFICER, unit=unit, full_name="张伟"),
        "officer2": make_person(Role.OFFICER, unit=unit2, full_name="周杰"),
        "far_officer": make_person(Role.OFFICER, unit=far_unit, full_name="外市人员"),
        "unit_head": make_person(Role.UNIT_HEAD, unit=unit, full_name="刘洋"),
        "head": make_person(Role.DEPARTMENT_HEAD, department=city, full_name="马超"),
        "legal": make_person(Role.LEGAL_OFFICE, department=city, full_name="朱琳"),
        "audit": make_person(Role.AUDIT_ADMIN, department=city, full_name="林峰"),
        "sysadmin": make_person(Role.SYSTEM_ADMIN, department=city, full_name="胡军"),
    }
    o["rec"] = make_recording(o["officer"], filename="DSJ-A0012345_SECRET_0001.MP4", case_number="甲市监罚〔2026〕7号")
    return o


def _form(w, **over):
    data = {
        "kind": "internal",
        "department": str(w["city"].pk),
        "unit": "",
        "recording_ids": str(w["rec"].pk),
        "case_number": "",
        "actions": ["view", "play"],
        "purpose_code": "case_handling",
        "purpose_text": "核对现场检查情况",
        "valid_until": (timezone.localdate() + timedelta(days=7)).isoformat(),
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _make(w, person="officer2", **kw):
    kw.setdefault("purpose_code", "case_handling")
    kw.setdefault("purpose_text", "核对现场检查情况")
    kw.setdefault("actions", [AccessAction.VIEW, AccessAction.PLAY])
    kw.setdefault("valid_until", timezone.now() + timedelta(days=7))
    kw.setdefault("recording_ids", [w["rec"].pk])
    return approvals.create_request(w[person], department=w["city"], **kw)


def _as(client, person):
    client.force_login(person)
    return client


# --- the list ------------------------------------------------------------------------------


def test_requester_sees_own_requests_and_empty_state(client, w):
    page = _as(client, w["officer2"]).get(LIST)
    assert page.status_code == 200
    assert "您还没有提交过调阅申请" in page.content.decode()
    _make(w)
    page = client.get(LIST)
    body = page.content.decode()
    assert page.context["tab"] == "mine" and len(page.context["rows"]) == 1
    assert "待审批" in body and "部门负责人（甲市市场监督管理局" in body and "周杰" in body
    assert "待我审批" not in body  # an officer approves nothing


def test_approver_starts_at_pending_and_legal_and_audit_see_all(client, w):
    mine = _make(w)
    page = _as(client, w["head"]).get(LIST)
    assert page.context["tab"] == "pending" and [r.pk for r in page.context["rows"]] == [mine.pk]
    assert "待我审批" in page.content.decode()
    for who in ("legal", "audit"):
        page = _as(client, w[who]).get(LIST, {"tab": "all"})
        assert page.status_code == 200 and [r.pk for r in page.context["rows"]] == [mine.pk], who
    # the far officer sees nothing of it, and has no 全部 tab
    page = _as(client, w["far_officer"]).get(LIST, {"tab": "all"})
    assert page.context["tab"] == "mine" and page.context["rows"] == []


def test_administrators_other_than_audit_do_not_use_it(client, w):
    assert _as(client, w["sysadmin"]).get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403
    assert _as(client, w["audit"]).get(NEW).status_code == 403  # reads all, requests nothing


def test_expired_status_is_shown(client, w):
    req = _make(w)
    approvals.approve(req.pk, w["head"])
    lapse_request(req)
    body = _as(client, w["officer2"]).get(LIST).content.decode()
    assert "已过期" in body and "已批准" not in body


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999999999999", "3"])
def test_pagination_and_odd_pages(client, w, page):
    for _n in range(27):
        _make(w)
    response = _as(client, w["officer2"]).get(LIST, {"page": page, "tab": "mine"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == (2 if page in ("3", "99999999999999999999") else 25)


# --- the form and its route ------------------------------------------------------------------


def test_form_shows_the_route_and_article(client, w):
    page = _as(client, w["officer2"]).get(NEW)
    body = page.content.decode()
    assert page.status_code == 200
    assert "审批路径" in body and "甲市市场监督管理局" in body and "（市级）" in body
    assert str(SAMR_17_3) in body  # another unit of the same department: art. 17 ¶3
    # the own unit's records: the unit head approves (art. 17 ¶2), shown by the htmx partial
    partial = _as(client, w["officer"]).get(ROUTE, _form(w, unit=str(w["unit"].pk)), HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert partial.status_code == 200
    assert "采集机构负责人（执法稽查科" in text and str(SAMR_17_2) in text
    assert "<html" not in text


def test_route_with_a_unit_of_another_department_falls_back(client, w):
    far_unit = w["far_officer"].unit
    partial = _as(client, w["officer2"]).get(ROUTE, _form(w, unit=str(far_unit.pk)))
    assert partial.status_code == 200 and "部门负责人" in partial.content.decode()
    assert client.get(ROUTE, {"department": "x"}).status_code == 200


def test_units_endpoint_lists_a_departments_units(client, w):
    response = _as(client, w["officer2"]).get(reverse("web:access_request_units"), {"department": w["city"].pk})
    body = response.content.decode()
    assert "执法稽查科" in body and "城区市场监管所" in body and w["far_officer"].unit.name not in body
    assert client.get(reverse("web:access_request_units"), {"department": "9" * 30}).status_code == 200


def test_submit_redirects_to_detail_with_a_message(client, w):
    response = _as(client, w["officer2"]).post(NEW, _form(w), follow=True)
    assert response.status_code == 200
    req = AccessRequest.objects.get()
    assert response.redirect_chain[-1][0] == reverse("web:access_request_detail", args=[req.pk])
    body = response.content.decode()
    assert "申请已提交，等待审批。" in body
    assert req.items.count() == 1 and req.status == RequestStatus.PENDING
    assert req.valid_until > timezone.now() + timedelta(days=7)  # to the end of the chosen day
    # while pending, the requester learns nothing about which ids exist
    assert "DSJ-A0012345_SECRET" not in body and "审批人将核对所列记录" in body


def test_external_needs_a_recipient(client, w):
    response = _as(client, w["officer2"]).post(NEW, _form(w, kind="external", recipient=""))
    assert response.status_code == 400 and "请填写提供对象" in response.content.decode()
    response = client.post(NEW, _form(w, kind="external", recipient="某区人民法院", consult_superior="on"))
    assert response.status_code == 302
    req = AccessRequest.objects.get()
    assert req.recipient == "某区人民法院" and req.consult_superior and req.actions == ["view", "copy"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"purpose_text": "   "}, "请写明具体事由"),
        ({"purpose_code": ""}, "请选择事由类别"),
        ({"purpose_code": "frobnicate"}, "有效的选项"),
        ({"valid_until": "2020-01-01"}, "有效期已过"),
        ({"valid_until": "0001-01-01"}, "日期须在"),
        ({"valid_until": "2026-13-45"}, "有效的日期"),
        ({"valid_until": ""}, "请填写有效期"),
        ({"recording_ids": "99999999999999999999999"}, "超出范围"),
        ({"recording_ids": "9223372036854775808"}, "超出范围"),
        ({"recording_ids": "12, abc"}, "只能是数字"),
        ({"recording_ids": "１２"}, "只能是数字"),  # full-width digits
        ({"recording_ids": "0"}, "超出范围"),
        ({"recording_ids": " ".join(str(n) for n in range(1, 502))}, "一次最多申请 500 条"),
        ({"recording_ids": "", "case_number": ""}, "请填写记录编号或案号"),
        ({"actions": []}, "请至少选择一种调阅方式"),
        ({"actions": ["export"]}, "调阅方式无效"),
        ({"department": ""}, "请选择记录所属部门"),
        ({"department": "99999999999999999999999"}, "所选部门不存在"),
        ({"kind": "frobnicate"}, "申请类型无效"),
        ({"kind": "party_copy", "recipient": "李某"}, "须上传当事人的书面申请"),
        ({"purpose_text": "理" * 501}, "最多 500 个字符"),
    ],
)
def test_bad_input_is_a_chinese_400_and_keeps_the_data(client, w, over, message):
    response = _as(client, w["officer2"]).post(NEW, _form(w, **over))
    body = response.content.decode()
    assert response.status_code == 400, body[:500]
    assert message in body
    if "purpose_text" not in over:
        assert "核对现场检查情况" in body  # what was typed stays in the form
    assert AccessRequest.objects.count() == 0


def test_a_window_too_long_and_a_unit_outside_the_department(client, w):
    far = (timezone.localdate() + timedelta(days=approvals.MAX_VALID_DAYS + 1)).isoformat()
    response = _as(client, w["officer2"]).post(NEW, _form(w, valid_until=far))
    assert response.status_code == 400 and "有效期最长 90 天" in response.content.decode()
    longest = (timezone.localdate() + timedelta(days=approvals.MAX_VALID_DAYS)).isoformat()
    assert client.post(NEW, _form(w, valid_until=longest)).status_code == 302
    response = client.post(NEW, _form(w, unit=str(w["far_officer"].unit_id)))
    assert response.status_code == 400 and "不属于所选部门" in response.content.decode()


def test_a_case_number_request(client, w):
    response = _as(client, w["officer2"]).post(NEW, _form(w, recording_ids="", case_number="甲市监罚〔2026〕7号"))
    assert response.status_code == 302
    assert list(AccessRequest.objects.get().items.values_list("recording_id", flat=True)) == [w["rec"].pk]


def test_prefill_from_a_record_one_may_view(client, w):
    page = _as(client, w["unit_head"]).get(NEW, {"recording": w["rec"].pk})
    form = page.context["form"]
    assert form.initial == {"department": w["city"].pk, "unit": w["rec"].unit_id,
                            "recording_ids": str(w["rec"].pk)}


def test_prefill_from_a_record_one_may_not_view_reveals_nothing(client, w):
    page = _as(client, w["far_officer"]).get(NEW, {"recording": w["rec"].pk})
    form = page.context["form"]
    assert form.initial == {"department": w["far_officer"].unit.department_id, "recording_ids": str(w["rec"].pk)}
    body = page.content.decode()
    assert "DSJ-A0012345_SECRET" not in body and "甲市监罚" not in body
    # the same page as for an id that does not exist
    other = client.get(NEW, {"recording": w["rec"].pk + 1000}).context["form"].initial
    assert set(other) == set(form.initial)
    for odd in ("abc", "99999999999999999999999", "-1", ""):
        assert client.get(NEW, {"recording": odd}).status_code == 200


# --- the detail page and decisions -----------------------------------------------------------


def _detail(pk):
    return reverse("web:access_request_detail", args=[pk])


def _act(pk, action):
    return reverse(f"web:access_request_{action}", args=[pk])


def test_detail_for_each_role(client, w):
    req = _make(w)
    for who in ("head", "legal", "audit"):
        body = _as(client, w[who]).get(_detail(req.pk)).content.decode()
        assert "DSJ-A0012345_SECRET" in body, who
        assert "核对现场检查情况" in body and str(SAMR_17_3) in body
    assert "批准" in _as(client, w["head"]).get(_detail(req.pk)).content.decode()
    assert 'id="decide-form"' not in _as(client, w["legal"]).get(_detail(req.pk)).content.decode()
    body = _as(client, w["officer2"]).get(_detail(req.pk)).content.decode()
    assert "DSJ-A0012345_SECRET" not in body and 'id="withdraw-form"' in body and 'id="decide-form"' not in body
    for who in ("far_officer", "officer", "unit_head", "sysadmin"):
        assert _as(client, w[who]).get(_detail(req.pk)).status_code == 404, who
    assert client.get("/access/requests/99999999999999999999999/").status_code == 404


def test_approve_then_the_requester_sees_and_plays_then_revoke(client, w):
    req = _make(w)
    response = _as(client, w["head"]).post(_act(req.pk, "approve"), {"comment": "同意"}, follow=True)
    assert response.status_code == 200 and "已批准该申请。" in response.content.decode()
    body = response.content.decode()
    assert "批准调阅申请" in body and "马超" in body and "同意" in body  # the timeline
    body = _as(client, w["officer2"]).get(_detail(req.pk)).content.decode()
    assert "DSJ-A0012345_SECRET" in body and reverse("web:recording_detail", args=[w["rec"].pk]) in body
    assert 'id="revoke-form"' in body
    assert client.get(reverse("web:recording_detail", args=[w["rec"].pk])).status_code == 200
    # revoking needs a reason
    response = client.post(_act(req.pk, "revoke"), {"comment": ""})
    assert response.status_code == 400 and "撤销时请写明理由" in response.content.decode()
    response = _as(client, w["head"]).post(_act(req.pk, "revoke"), {"comment": "案件已办结"})
    assert response.status_code == 302
    assert AccessRequest.objects.get(pk=req.pk).status == RequestStatus.REVOKED
    _as(client, w["officer2"])
    assert client.get(reverse("web:recording_detail", args=[w["rec"].pk])).status_code == 404
    body = client.get(_detail(req.pk)).content.decode()
    assert "已撤销" in body and "案件已办结" in body and "撤销调阅授权" in body


def test_reject_needs_a_comment(client, w):
    req = _make(w)
    response = _as(client, w["head"]).post(_act(req.pk, "reject"), {"comment": ""})
    assert response.status_code == 400 and "驳回时请写明理由" in response.content.decode()
    assert client.post(_act(req.pk, "reject"), {"comment": "事由不充分"}).status_code == 302
    assert AccessRequest.objects.get(pk=req.pk).status == RequestStatus.REJECTED


def test_approving_twice_and_approving_a_withdrawn_request_are_conflicts(client, w):
    req = _make(w)
    _as(client, w["head"]).post(_act(req.pk, "approve"), {"comment": ""})
    response = client.post(_act(req.pk, "approve"), {"comment": ""})
    assert response.status_code == 409 and "不能再次审批" in response.content.decode()
    other = _make(w)
    assert _as(client, w["officer2"]).post(_act(other.pk, "withdraw")).status_code == 302
    response = _as(client, w["head"]).post(_act(other.pk, "approve"), {"comment": ""})
    assert response.status_code == 409 and "已撤回" in response.content.decode()
    response = _as(client, w["officer2"]).post(_act(other.pk, "withdraw"))
    assert response.status_code == 409


def test_self_approval_and_non_approvers_are_refused(client, w):
    own = approvals.create_request(
        w["unit_head"], department=w["city"], unit=w["unit"], recording_ids=[w["rec"].pk],
        purpose_code="case_handling", purpose_text="自查", actions=["view", "play"],
        valid_until=timezone.now() + timedelta(days=3))
    # the unit head's own unit: the step names the unit head, who is the requester
    response = _as(client, w["unit_head"]).post(_act(own.pk, "approve"), {"comment": ""})
    assert response.status_code == 403 and "不能审批本人提交的申请" in response.content.decode()
    req = _make(w)
    response = _as(client, w["officer2"]).post(_act(req.pk, "approve"), {"comment": ""})
    assert response.status_code == 403 and "不能审批本人提交的申请" in response.content.decode()
    for who in ("far_officer", "officer", "sysadmin"):
        assert _as(client, w[who]).post(_act(req.pk, "approve"), {"comment": ""}).status_code == 404, who
    response = _as(client, w["legal"]).post(_act(req.pk, "approve"), {"comment": ""})
    # the legal office reads every request, decides none
    assert response.status_code == 403 and "您不是该申请的审批人" in response.content.decode()
    assert _as(client, w["head"]).post(_act(req.pk, "withdraw")).status_code == 403
    assert client.get(_act(req.pk, "approve")).status_code == 405
    assert AccessRequest.objects.get(pk=req.pk).status == RequestStatus.PENDING


def test_a_comment_too_long_is_a_400(client, w):
    req = _make(w)
    response = _as(client, w["head"]).post(_act(req.pk, "approve"), {"comment": "意" * 501})
    assert response.status_code == 400 and "最多 500 个字符" in response.content.decode()


# --- home and navigation ---------------------------------------------------------------------


def test_home_card_for_approvers_only(client, w):
    req = _make(w)
    body = _as(client, w["head"]).get(reverse("web:home")).content.decode()
    assert "待我审批" in body and _detail(req.pk) in body and "周杰" in body
    body = _as(client, w["unit_head"]).get(reverse("web:home")).content.decode()
    assert "待我审批" in body and "没有等待您审批的调阅申请" in body
    assert "待我审批" not in _as(client, w["officer2"]).get(reverse("web:home")).content.decode()


def test_navigation_item(client, w):
    for who, shown in (("officer2", True), ("head", True), ("legal", True), ("audit", True),
                        ("sysadmin", False)):
        body = _as(client, w[who]).get(reverse("web:home")).content.decode()
        assert (f'href="{LIST}"' in body) is shown, who
    items = _as(client, w["officer2"]).get(LIST).context["nav_items"]
    names = [i["name"] for i in items]
    assert names[names.index("my_access") + 1] == "access_request_list"
    assert next(i for i in items if i["name"] == "access_request_list")["active"]


def test_decided_tab_and_pending_empty_state(client, w):
    req = _make(w)
    approvals.approve(req.pk, w["head"], "同意")
    lapsed = _make(w)
    lapse_request(lapsed)
    page = _as(client, w["head"]).get(LIST, {"tab": "pending"})
    assert page.context["rows"] == [] and "没有等待您审批的申请" in page.content.decode()
    page = client.get(LIST, {"tab": "decided"})
    assert [r.pk for r in page.context["rows"]] == [lapsed.pk, req.pk]
    assert "审批记录" in page.content.decode()


def test_confidential_records_take_the_department_head_path_in_the_preview(client, w):
    partial = _as(client, w["officer"]).get(ROUTE, _form(w, unit=str(w["unit"].pk), include_confidential="on"))
    text = partial.content.decode()
    assert "部门负责人（甲市市场监督管理局" in text and str(approvals.CONFIDENTIAL_ARTICLE) in text


# --- 当事人申请复制 (ACC-4) and the superior department's opinion (SAMR art. 17 ¶5) -------------

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _upload(data=PDF, name="当事人申请书.pdf", content_type="application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def _party(w, **over):
    over.setdefault("recipient", "李某（当事人）")
    return _form(w, kind="party_copy", actions=None, party_application=_upload(), **over)


def _application(pk):
    return reverse("web:access_request_application", args=[pk])


@pytest.mark.req("ACC-4")
def test_party_copy_keeps_the_application_as_an_original_for_the_approver(client, w):
    from storage.backends.base import Area

    response = _as(client, w["officer2"]).post(NEW, _party(w))
    assert response.status_code == 302, response.content.decode()[:2000]
    req = AccessRequest.objects.get()
    stored = req.party_application
    assert req.kind == "party_copy" and req.recipient == "李某（当事人）" and req.actions == ["view", "copy"]
    assert stored.area == Area.ORIGINAL and stored.size == len(PDF) and stored.write_verified
    assert Event.objects.filter(action=EventCode.STORED, subject_id=str(stored.pk), actor_id=w["officer2"].pk).exists()
    body = _as(client, w["head"]).get(_detail(req.pk)).content.decode()
    assert _application(req.pk) in body and "李某（当事人）" in body
    assert "依法应保密的记录不予复制" in body
    for who in ("head", "legal", "audit", "officer2"):
        response = _as(client, w[who]).get(_application(req.pk))
        assert response.status_code == 200, who
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
    # each download is in the request's custody history, with the bytes' digest
    downloads = Event.objects.filter(action=EventCode.APPLICATION_DOWNLOADED, subject_id=str(req.pk))
    assert sorted(downloads.values_list("actor_id", flat=True)) == sorted(
        w[who].pk for who in ("head", "legal", "audit", "officer2"))
    assert all(e.details == {"request": req.pk, "sha256": stored.sha256} for e in downloads)
    for who in ("far_officer", "officer", "unit_head", "sysadmin"):
        assert _as(client, w[who]).get(_application(req.pk)).status_code == 404, who
    assert downloads.count() == 4  # a refused download leaves no event
    # a request without an application, and one that does not exist
    other = _make(w)
    assert _as(client, w["head"]).get(_application(other.pk)).status_code == 404
    assert _application(other.pk) not in client.get(_detail(other.pk)).content.decode()
    assert client.get(_application(other.pk + 1000)).status_code == 404
    assert client.post(_application(req.pk)).status_code == 405


@pytest.mark.req("ACC-4")
def test_party_copy_served_as_the_type_its_bytes_show(client, w):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    response = _as(client, w["officer2"]).post(NEW, _form(w, kind="party_copy", actions=None, recipient="李某",
                                                          party_application=_upload(png, "scan.PNG", "image/png")))
    assert response.status_code == 302
    req = AccessRequest.objects.get()
    response = _as(client, w["head"]).get(_application(req.pk))
    assert response["Content-Type"] == "image/png" and ".png" in response["Content-Disposition"]


@pytest.mark.req("ACC-4")
@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "当事人申请复制须上传当事人的书面申请"),
        (lambda: _upload(EXE, "当事人申请书.pdf"), "内容不是 PDF、JPEG 或 PNG"),
        (lambda: _upload(PDF, "当事人申请书.exe", "application/octet-stream"), "只接受 PDF、JPEG 或 PNG"),
        (lambda: _upload(b"", "空.pdf"), "文件是空的"),
        (lambda: _upload(b"%PD", "short.pdf"), "内容不是 PDF、JPEG 或 PNG"),
    ],
)
def test_party_copy_refuses_a_missing_or_disguised_file(client, w, upload, message):
    from storage.models import StoredObject

    before = StoredObject.objects.count()
    data = _form(w, kind="party_copy", actions=None, recipient="李某")
    if upload is not None:
        data["party_application"] = upload()
    response = _as(client, w["officer2"]).post(NEW, data)
    body = response.content.decode()
    assert response.status_code == 400, body[:500]
    assert message in body and "核对现场检查情况" in body
    assert AccessRequest.objects.count() == 0 and StoredObject.objects.count() == before


@pytest.mark.req("ACC-4")
def test_party_copy_refuses_an_oversize_file_and_needs_the_party(client, w, monkeypatch):
    from storage.models import StoredObject
    from web.forms import access_requests as request_forms

    before = StoredObject.objects.count()
    monkeypatch.setattr(request_forms, "MAX_APPLICATION_BYTES", len(PDF) - 1)
    response = _as(client, w["officer2"]).post(NEW, _party(w))
    assert response.status_code == 400 and "当事人书面申请不能超过" in response.content.decode()
    monkeypatch.undo()
    response = client.post(NEW, _party(w, recipient=""))
    assert response.status_code == 400 and "申请复制的当事人姓名或名称" in response.content.decode()
    assert AccessRequest.objects.count() == 0 and StoredObject.objects.count() == before


@pytest.mark.req("ACC-4")
def test_party_copy_refused_by_the_service_stores_no_catalogue_row(client, w, monkeypatch):
    from storage.models import StoredObject

    before = StoredObject.objects.count()

    def refuse(*args, **kwargs):
        raise approvals.RequestError("模拟的拒绝")

    monkeypatch.setattr(approvals, "create_request", refuse)
    response = _as(client, w["officer2"]).post(NEW, _party(w))
    assert response.status_code == 400 and "模拟的拒绝" in response.content.decode()
    assert StoredObject.objects.count() == before
    # what the form refuses is refused before anything is written
    monkeypatch.undo()
    response = client.post(NEW, _party(w, unit=str(w["far_officer"].unit_id)))
    assert response.status_code == 400 and StoredObject.objects.count() == before


@pytest.mark.req("ACC-4")
def test_party_copy_form_and_route(client, w):
    body = _as(client, w["officer2"]).get(NEW).content.decode()
    assert 'enctype="multipart/form-data"' in body and 'name="party_application"' in body
    assert "当事人申请复制" in body and "依法应保密的记录不予复制，除非另行批准" in body
    partial = client.get(ROUTE, _form(w, kind="party_copy"))
    assert "部门负责人（甲市市场监督管理局" in partial.content.decode()


@pytest.mark.req("ACC-4")
def test_party_copy_leaves_confidential_records_out_unless_asked(client, w):
    from access.models import ConfidentialityMark

    ConfidentialityMark.objects.create(recording=w["rec"], category="personal_privacy", reason="含当事人隐私",
                                       marked_by=w["head"], marked_at=timezone.now())
    assert _as(client, w["officer2"]).post(NEW, _party(w)).status_code == 302
    assert AccessRequest.objects.get().items.count() == 0


def test_consult_note_is_asked_saved_and_shown(client, w):
    req = _make(w, kind="external", recipient="某区人民法院", consult_superior=True)
    plain = _make(w, kind="external", recipient="某区人民法院")
    body = _as(client, w["head"]).get(_detail(req.pk)).content.decode()
    assert 'name="consult_note"' in body and "上级部门意见" in body
    assert 'name="consult_note"' not in client.get(_detail(plain.pk)).content.decode()
    response = client.post(_act(req.pk, "approve"), {"comment": "同意", "consult_note": "意" * 501})
    assert response.status_code == 400 and "最多 500 个字符" in response.content.decode()
    response = client.post(_act(req.pk, "approve"), {"comment": "同意", "consult_note": "省局同意提供"}, follow=True)
    assert response.status_code == 200 and "已批准该申请。" in response.content.decode()
    assert AccessRequest.objects.get(pk=req.pk).consult_note == "省局同意提供"
    body = _as(client, w["officer2"]).get(_detail(req.pk)).content.decode()
    assert 'id="request-consult-note"' in body and "省局同意提供" in body
    # a request that did not ask keeps none, whatever is posted
    _as(client, w["head"]).post(_act(plain.pk, "approve"), {"comment": "", "consult_note": "不应保存"})
    assert AccessRequest.objects.get(pk=plain.pk).consult_note == ""


def test_irreversible_steps_ask_for_confirmation(client, w):
    pending = _make(w)
    body = _as(client, w["head"]).get(_detail(pending.pk)).content.decode()
    assert 'id="reject-button" data-confirm="确定驳回' in body
    assert 'id="approve-button" data-confirm' not in body
    body = _as(client, w["officer2"]).get(_detail(pending.pk)).content.decode()
    assert 'id="withdraw-form" data-confirm="确定撤回' in body
    approvals.approve(pending.pk, w["head"])
    body = client.get(_detail(pending.pk)).content.decode()
    assert 'id="revoke-form" data-confirm="确定撤销授权' in body
