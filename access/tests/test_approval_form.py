"""The external provision approval form (对外提供审批表, ACC-1, SAMR art. 17 ¶5): a PDF in Chinese
with the embedded font, issued only for an approved external provision or party copy, only to
its requester, its approver or the audit administrator, and every issue is a custody event
carrying the PDF's SHA-256."""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from access import approvals
from access.approval_form import build_approval_form, issue_approval_form, short_sha
from access.choices import AccessAction, RequestKind
from core.errors import DomainError, PermissionDeniedError
from core.testing import make_department, make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1")]


@pytest.fixture
def org():
    city = make_department()
    unit = make_unit(city)
    o = {
        "city": city,
        "unit": unit,
        "officer": make_person("officer", unit=unit, full_name="李明"),
        "colleague": make_person("officer", unit=unit, full_name="王芳"),
        "head": make_person("department_head", department=city, full_name="赵局长"),
        "audit": make_person("audit_admin", department=city),
        "stranger": make_person("officer", unit=make_unit(), full_name="外单位人员"),
    }
    o["recs"] = [
        make_recording(o["officer"], filename=f"DSJ-A0012345_10020301_2026030509300{i}_000{i}.MP4",
                       start_time=timezone.now() - timedelta(days=3, minutes=i))
        for i in range(3)
    ]
    return o


def _external(org, n=None, **kw):
    recs = org["recs"] if n is None else org["recs"][:n]
    kw.setdefault("kind", RequestKind.EXTERNAL)
    kw.setdefault("recipient", "某市公安局经济犯罪侦查支队")
    return approvals.create_request(
        org["colleague"], department=org["city"], unit=org["unit"],
        recording_ids=[r.pk for r in recs], purpose_code="case_handling",
        purpose_text="移送涉嫌犯罪案件，提供现场检查音像记录", valid_until=timezone.now() + timedelta(days=7),
        consult_superior=True, **kw,
    )


@pytest.fixture
def approved(org):
    request = _external(org)
    approvals.approve(request.pk, org["head"], "同意提供，复制件加盖骑缝章")
    request.refresh_from_db()
    return request


def _unicode_in_pdf(pdf: bytes) -> str:
    """Characters the PDF's ToUnicode maps declare (what a reader extracts as text)."""
    chars = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data = zlib.decompress(stream)
        except zlib.error:
            data = stream
        for hex_value in re.findall(rb"<[0-9A-Fa-f]+> <([0-9A-Fa-f]{4})>", data):
            chars.append(chr(int(hex_value, 16)))
    return "".join(chars)


def test_form_is_a_pdf_with_the_chinese_font_embedded_and_the_requests_words(approved, org):
    pdf = issue_approval_form(approved, org["colleague"])
    assert pdf.startswith(b"%PDF-")
    assert b"/FontFile2" in pdf or b"/FontFile3" in pdf
    mapped = set(_unicode_in_pdf(pdf))
    words = "执法音像记录对外提供审批表申请人提供对象事由记录清单征求上级部门意见审批人时间签字日期"
    assert set(words) <= mapped
    assert set("某市公安局经济犯罪侦查支队王芳赵局长骑缝章") <= mapped
    assert set(approved.basis) <= mapped


def test_issue_is_a_custody_event_with_the_pdfs_sha256(approved, org):
    pdf = issue_approval_form(approved, org["head"])
    event = Event.objects.filter(action=EventCode.APPROVAL_FORM_ISSUED).get()
    assert event.actor_id == org["head"].pk and event.subject_id == str(approved.pk)
    assert event.details == {"request": approved.pk, "sha256": hashlib.sha256(pdf).hexdigest()}
    # every provided record has the issue in its own history
    subjects = set(event.subject_links.values_list("subject_type", "subject_id"))
    assert {("recording", str(r.pk)) for r in org["recs"]} <= subjects


def test_requester_approver_and_audit_admin_may_issue_strangers_may_not(approved, org):
    for person in (org["colleague"], org["head"], org["audit"]):
        assert issue_approval_form(approved, person).startswith(b"%PDF-")
    for person in (org["stranger"], org["officer"], make_person("department_head", department=make_department())):
        with pytest.raises(PermissionDeniedError):
            issue_approval_form(approved, person)
    assert Event.objects.filter(action=EventCode.APPROVAL_FORM_ISSUED).count() == 3


def test_refused_while_pending_and_for_internal_requests(org):
    pending = _external(org)
    with pytest.raises(DomainError, match="批准后才能生成"):
        issue_approval_form(pending, org["colleague"])
    internal = approvals.create_request(
        org["colleague"], department=org["city"], unit=org["unit"], recording_ids=[org["recs"][0].pk],
        purpose_code="case_handling", purpose_text="核对", actions=[AccessAction.PLAY],
        valid_until=timezone.now() + timedelta(days=3),
    )
    approvals.approve(internal.pk, make_person("unit_head", unit=org["unit"]), "同意")
    internal.refresh_from_db()
    with pytest.raises(DomainError, match="只有对外提供"):
        issue_approval_form(internal, org["colleague"])
    assert not Event.objects.filter(action=EventCode.APPROVAL_FORM_ISSUED).exists()


def test_a_long_list_wraps_across_pages(org):
    org["recs"] += [make_recording(org["officer"]) for _ in range(60)]
    request = _external(org)
    pdf = build_approval_form(request, printed_by="测试")
    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))
    assert pages >= 2
    assert set("第页共") <= set(_unicode_in_pdf(pdf))


def test_short_sha_keeps_the_ends():
    digest = "9f2c1e7a" + "0" * 48 + "b3d4c5e6"
    assert short_sha(digest) == "9f2c1e7a…b3d4c5e6"


def test_download_has_a_chinese_filename_and_404s_outside_scope(approved, org, client):
    url = reverse("web:access_request_form", args=[approved.pk])
    client.force_login(org["colleague"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"filename*=utf-8''{quote('对外提供审批表')}" in response["Content-Disposition"]
    client.force_login(org["stranger"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("web:access_request_form", args=[approved.pk + 1000])).status_code == 404
    assert client.get(f"/access/requests/{'9' * 30}/approval-form.pdf").status_code == 404


def test_download_of_a_pending_request_is_refused_in_chinese(org, client):
    pending = _external(org)
    client.force_login(org["colleague"])
    response = client.get(reverse("web:access_request_form", args=[pending.pk]))
    assert response.status_code == 400
    assert "批准后才能生成审批表" in response.content.decode()
