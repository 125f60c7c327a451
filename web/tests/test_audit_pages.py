"""The audit administrator's pages: the custody log, checkpoints and witnesses, proof bundles,
chain verifications, the access register.

He reads everything and changes nothing; every other role neither sees nor reaches them (403).
"""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from access.choices import AccessAction
from access.models import AccessEntry
from access.services import register_access
from core.testing import make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import ChainVerification, Checkpoint, Event
from custody.services import record_event
from orgs.choices import Role
from web.views import audit as audit_views

pytestmark = pytest.mark.django_db

PAGES = (
    "web:audit_events",
    "web:audit_checkpoints",
    "web:audit_verifications",
    "web:audit_access",
)
NAV = {"audit_events", "audit_verifications", "audit_access"}


@pytest.fixture
def auditor(unit):
    return make_person(Role.AUDIT_ADMIN, department=unit.department, full_name="林峰")


@pytest.fixture
def audit_client(client, auditor):
    client.force_login(auditor)
    return client


BUNDLE_QUERY = {"subject_type": "recording", "subject_id": "1"}


def _events(n, *, actor=None, action=EventCode.LOGIN, subject=("system", "")):
    for i in range(n):
        record_event(action, actor=actor, subject=subject, details={"i": i})


# --- who may read --------------------------------------------------------------------------


@pytest.mark.req("ACC-5", "ACC-6")
def test_audit_admin_sees_and_reaches_the_pages(audit_client):
    links = {item["name"] for item in audit_client.get(reverse("web:home")).context["nav_items"]}
    assert NAV <= links
    for name in PAGES:
        response = audit_client.get(reverse(name))
        assert response.status_code == 200, name
    body = audit_client.get(reverse("web:home")).content.decode()
    for label in ("审计日志", "校验结果", "查阅登记"):
        assert label in body


@pytest.mark.req("ACC-6")
@pytest.mark.parametrize(
    "role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.OFFICER, Role.DEPARTMENT_HEAD]
)
def test_other_roles_neither_see_nor_reach_the_pages(client, role):
    unit = make_unit()
    person = make_person(
        role, unit=unit if role == Role.OFFICER else None, department=unit.department
    )
    client.force_login(person)
    links = {item["name"] for item in client.get(reverse("web:home")).context["nav_items"]}
    assert not links & NAV
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 403, name
        assert "仅供审计管理员使用" in response.content.decode()
    assert client.get(reverse("web:audit_access") + "?format=xlsx").status_code == 403
    before = ChainVerification.objects.count()
    assert client.post(reverse("web:audit_verify_now")).status_code == 403
    assert ChainVerification.objects.count() == before
    assert client.post(reverse("web:audit_checkpoint_now")).status_code == 403
    assert not Checkpoint.objects.exists()
    assert client.get(reverse("web:audit_bundle"), BUNDLE_QUERY).status_code == 403
    note_url = reverse("web:audit_checkpoint_note", args=[1])
    assert client.get(note_url).status_code == 403


def test_signed_out_is_sent_to_login(client):
    for url in (
        reverse("web:audit_events"),
        reverse("web:audit_checkpoints"),
        reverse("web:audit_checkpoint_note", args=[1]),
        reverse("web:audit_bundle") + "?subject_type=recording&subject_id=1",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    response = client.post(reverse("web:audit_checkpoint_now"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Checkpoint.objects.exists()


# --- the log browser -----------------------------------------------------------------------


def test_events_show_summary_and_technical_details(audit_client, officer):
    recording = make_recording(officer)
    register_access(recording, actor=officer, action=AccessAction.PLAY, purpose="案件审核")
    response = audit_client.get(reverse("web:audit_events"))
    body = response.content.decode()
    last = Event.objects.order_by("-pk").first()
    assert f"#{last.pk}" in body and "播放" in body and "事由：案件审核" in body
    assert 'class="event-technical technical-details' in body
    assert last.details_digest in body and str(last.event_uid) in body
    assert "音像记录" in body and officer.full_name in body


def test_filters_by_actor_action_subject_and_period(audit_client, officer, auditor):
    other = make_person("officer", unit=officer.unit, full_name="李娜")
    _events(3, actor=officer, action=EventCode.LOGIN, subject=officer)
    _events(2, actor=other, action=EventCode.LOGOUT, subject=other)
    url = reverse("web:audit_events")

    def numbers(**params):
        response = audit_client.get(url, params)
        assert response.status_code == 200, response.context["form"].errors
        return [e.pk for e in response.context["rows"]]

    by_officer = set(Event.objects.filter(actor=officer).values_list("pk", flat=True))
    assert set(numbers(actor="张三")) == by_officer
    assert set(numbers(actor=str(officer.pk))) == by_officer
    assert set(numbers(actor=officer.username)) == by_officer
    assert len(numbers(action=EventCode.LOGOUT)) == 2
    assert set(numbers(subject_type="person", subject_id=str(other.pk))) == set(
        Event.objects.filter(subject_type="person", subject_id=str(other.pk)).values_list(
            "pk", flat=True
        )
    )
    today = timezone.localdate()
    assert (
        len(numbers(date_from=today.isoformat(), date_to=today.isoformat()))
        == Event.objects.count()
    )
    assert numbers(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert numbers(actor="没有这个人") == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "made.up"}, "所选动作不存在"),
        ({"subject_type": "spaceship"}, "所选对象类型不存在"),
        ({"subject_id": "5"}, "须同时选择对象类型"),
        ({"date_from": "0001-01-01"}, "日期须在"),
        ({"date_from": "2026-02-30"}, "请输入有效的日期"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "结束日期不能早于开始日期"),
        ({"actor": "x" * 500}, "最多 100 个字符"),
        ({"before": "abc"}, "翻页位置无效"),
        ({"after": "99999999999999999999999"}, "翻页位置无效"),
    ],
)
def test_invalid_event_filters_list_nothing_and_say_why(audit_client, officer, params, message):
    _events(3, actor=officer)
    response = audit_client.get(reverse("web:audit_events"), params)
    assert response.status_code == 400
    body = response.content.decode()
    assert "筛选条件有误" in body and message in body
    assert response.context["rows"] == []


def _walk(client, url, params=None):
    """Every row, following "older" links; then back with "newer" links."""
    seen, pages = [], []
    response = client.get(url, params or {})
    while True:
        result = response.context["result"]
        pages.append([r.pk for r in result.rows])
        seen += pages[-1]
        if result.older is None:
            break
        response = client.get(url, {**(params or {}), "before": result.older})
    back = []
    while True:
        result = response.context["result"]
        back.append([r.pk for r in result.rows])
        if result.newer is None:
            break
        response = client.get(url, {**(params or {}), "after": result.newer})
    return seen, pages, back


def test_keyset_pagination_walks_every_event_once(audit_client, officer, monkeypatch):
    monkeypatch.setattr(audit_views, "EVENTS_PER_PAGE", 7)
    _events(30, actor=officer)
    seen, pages, back = _walk(audit_client, reverse("web:audit_events"))
    every = list(Event.objects.order_by("-pk").values_list("pk", flat=True))
    assert seen == every and len(set(seen)) == len(seen)
    assert all(len(p) == 7 for p in pages[:-1])
    assert back[-1] == pages[0], "the newer links lead back to the newest page"
    body = audit_client.get(reverse("web:audit_events"), {"before": pages[0][-1]}).content.decode()
    assert "较新" in body and f"after={pages[1][0]}" in body


def test_keyset_pagination_keeps_the_filter(audit_client, officer, auditor, monkeypatch):
    monkeypatch.setattr(audit_views, "EVENTS_PER_PAGE", 4)
    _events(9, actor=officer, action=EventCode.LOGOUT)
    _events(9, actor=auditor, action=EventCode.LOGIN)
    seen, _pages, _back = _walk(
        audit_client, reverse("web:audit_events"), {"action": EventCode.LOGOUT}
    )
    assert seen == list(
        Event.objects.filter(action=EventCode.LOGOUT).order_by("-pk").values_list("pk", flat=True)
    )


def test_event_page_query_budget_is_independent_of_rows(
    audit_client, officer, django_assert_max_num_queries
):
    _events(5, actor=officer)
    with django_assert_max_num_queries(10):
        audit_client.get(reverse("web:audit_events"), {"actor": "张三"})
    _events(120, actor=officer)
    for params in (
        {},
        {"actor": "张三"},
        {"before": 60},
        {"after": 20},
        {"action": EventCode.LOGIN},
    ):
        with django_assert_max_num_queries(10):
            assert audit_client.get(reverse("web:audit_events"), params).status_code == 200


# --- verifications -------------------------------------------------------------------------


def test_run_a_verification_now(audit_client, auditor, officer):
    _events(3, actor=officer)
    page = audit_client.get(reverse("web:audit_verifications"))
    assert (
        "尚无校验结果" in page.content.decode() and "csrfmiddlewaretoken" in page.content.decode()
    )
    response = audit_client.post(reverse("web:audit_verify_now"), follow=True)
    assert response.status_code == 200
    verification = ChainVerification.objects.get()
    assert verification.trigger == "manual" and verification.actor == auditor
    body = response.content.decode()
    assert "校验完成" in body and "通过" in body and "人工执行" in body and "林峰" in body
    assert Event.objects.filter(action=EventCode.CHAIN_VERIFIED, actor=auditor).exists()
    assert audit_client.get(reverse("web:audit_verify_now")).status_code == 405


def test_verification_needs_csrf(client, auditor):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(auditor)
    assert csrf_client.post(reverse("web:audit_verify_now")).status_code == 403
    assert ChainVerification.objects.count() == 0


def test_verifications_are_paginated_newest_first(
    audit_client, auditor, monkeypatch, django_assert_max_num_queries
):
    from custody.services import verify_custody_chain

    monkeypatch.setattr(audit_views, "VERIFICATIONS_PER_PAGE", 3)
    for _ in range(7):
        verify_custody_chain(actor=auditor, trigger="manual")
    seen, pages, _back = _walk(audit_client, reverse("web:audit_verifications"))
    with django_assert_max_num_queries(10):
        audit_client.get(reverse("web:audit_verifications"), {"before": pages[1][0]})
    assert seen == list(ChainVerification.objects.order_by("-pk").values_list("pk", flat=True))
    assert [len(p) for p in pages] == [3, 3, 1]


# --- the access register -------------------------------------------------------------------


@pytest.fixture
def register(officer):
    other = make_person("officer", unit=officer.unit, full_name="李娜")
    first, second = make_recording(officer), make_recording(officer)
    for _ in range(3):
        register_access(
            first, actor=officer, action=AccessAction.VIEW, client="web 10.0.0.1 Mozilla/5.0"
        )
    register_access(
        second,
        actor=other,
        action=AccessAction.DOWNLOAD,
        purpose="移送司法机关",
        approval_ref="审批〔2026〕3号",
    )
    return {"officer": officer, "other": other, "first": first, "second": second}


def test_access_register_lists_and_filters(audit_client, register):
    url = reverse("web:audit_access")

    def ids(**params):
        response = audit_client.get(url, params)
        assert response.status_code == 200, response.context["form"].errors
        return {a.pk for a in response.context["rows"]}

    everything = set(AccessEntry.objects.values_list("pk", flat=True))
    assert ids() == everything
    assert ids(person="李娜") == set(
        AccessEntry.objects.filter(person=register["other"]).values_list("pk", flat=True)
    )
    assert ids(person=str(register["officer"].pk)) == set(
        AccessEntry.objects.filter(person=register["officer"]).values_list("pk", flat=True)
    )
    assert ids(recording=str(register["second"].pk)) == set(
        AccessEntry.objects.filter(recording=register["second"]).values_list("pk", flat=True)
    )
    assert len(ids(action=AccessAction.DOWNLOAD)) == 1
    today = timezone.localdate().isoformat()
    assert ids(date_from=today, date_to=today) == everything
    body = audit_client.get(url).content.decode()
    assert "移送司法机关" in body and "审批〔2026〕3号" in body and "网页 · 10.0.0.1" in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"recording": "abc"}, "记录编号须为正整数"),
        ({"recording": "99999999999999999999"}, "记录编号须为正整数"),
        ({"action": "steal"}, "所选查阅方式不存在"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "结束日期不能早于开始日期"),
    ],
)
def test_invalid_access_filters_are_refused(audit_client, register, params, message):
    response = audit_client.get(reverse("web:audit_access"), params)
    assert response.status_code == 400
    assert message in response.content.decode() and response.context["rows"] == []
    export = audit_client.get(reverse("web:audit_access"), {**params, "format": "xlsx"})
    assert export.status_code == 302 and "format" not in export["Location"]


def test_access_keyset_walks_every_entry_once(audit_client, register, monkeypatch):
    monkeypatch.setattr(audit_views, "ACCESS_PER_PAGE", 3)
    for _ in range(5):
        register_access(register["first"], actor=register["other"], action=AccessAction.VIEW)
    seen, pages, back = _walk(audit_client, reverse("web:audit_access"))
    assert seen == list(AccessEntry.objects.order_by("-pk").values_list("pk", flat=True))
    assert back[-1] == pages[0]


def _sheet(response):
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def test_export_opens_with_openpyxl_and_has_the_rows(audit_client, register):
    rows = _sheet(audit_client.get(reverse("web:audit_access"), {"format": "xlsx"}))
    assert rows[0][:6] == ("登记编号", "时间", "查阅人", "查阅人编号", "记录编号", "方式")
    body = rows[1:]
    assert [r[0] for r in body] == list(
        AccessEntry.objects.order_by("-pk").values_list("pk", flat=True)
    )
    download = next(r for r in body if r[5] == "下载")
    assert (
        download[2] == "李娜" and download[7] == "移送司法机关" and download[9] == "审批〔2026〕3号"
    )
    # the rule each access was allowed by (access.rules): the officer viewed their own recording
    assert {r[8] for r in body if r[5] == "查看"} == {"本人摄录"}
    entry = AccessEntry.objects.get(pk=download[0])
    # to the second, as the page shows it (never rounded up into the next second)
    assert download[1] == timezone.localtime(entry.occurred_at).replace(tzinfo=None, microsecond=0)
    filtered = _sheet(
        audit_client.get(reverse("web:audit_access"), {"format": "xlsx", "action": "download"})
    )
    assert len(filtered) == 2
    # each export is itself in the custody log: who, how many rows, which filters (ACC-5)
    from custody.choices import EventCode
    from custody.models import Event

    exports = list(Event.objects.filter(action=EventCode.REGISTER_EXPORTED).order_by("pk"))
    assert len(exports) == 2
    assert exports[0].details == {"rows": len(body), "truncated": False, "filters": {}}
    assert exports[1].details["filters"] == {"action": "download"}
    assert exports[1].details["rows"] == 1


def test_export_is_bounded_and_says_so(audit_client, register, monkeypatch):
    from access import selectors

    monkeypatch.setattr(audit_views, "EXPORT_LIMIT", 2)
    assert selectors.EXPORT_LIMIT == 50_000
    rows = _sheet(audit_client.get(reverse("web:audit_access"), {"format": "xlsx"}))
    data = [r for r in rows[1:] if r and isinstance(r[0], int)]
    assert len(data) == 2
    assert any(r and "只含最新的 2 条" in str(r[0]) for r in rows)


def test_access_query_budget_is_independent_of_rows(
    audit_client, register, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        audit_client.get(reverse("web:audit_access"))
    for _ in range(40):
        register_access(register["first"], actor=register["other"], action=AccessAction.VIEW)
    for params in (
        {},
        {"person": "李娜"},
        {"recording": str(register["first"].pk)},
    ):
        with django_assert_max_num_queries(10):
            assert audit_client.get(reverse("web:audit_access"), params).status_code == 200
    # the export also appends its own custody event (a constant few queries more)
    with django_assert_max_num_queries(16):
        assert audit_client.get(reverse("web:audit_access"), {"format": "xlsx"}).status_code == 200


# --- checkpoints, witnesses, the exposure window -----------------------------------------------

WITNESS = "audit.example.gov.cn/witness"


@pytest.fixture
def log_keys():
    from custody.keys import ensure_log_keys

    ensure_log_keys()


@pytest.fixture
def witness(settings):
    """A witness registered in settings.LOG_WITNESSES, co-signing as ``custody.witness`` does."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from custody.checkpoints import add_cosignature
    from custody.verifier import note
    from custody.witness import cosign

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = note.VerifierKey.make(WITNESS, public, note.ALG_COSIGNATURE_V1)
    settings.LOG_WITNESSES = [key.text()]

    def cosign_checkpoint(checkpoint):
        body = note.parse_checkpoint(checkpoint.note).body
        return add_cosignature(checkpoint, cosign(private, WITNESS, body, int(time.time())))

    return SimpleNamespace(name=WITNESS, key=key, cosign=cosign_checkpoint)


def _checkpoint():
    from custody.checkpoints import make_checkpoint

    return make_checkpoint(trigger="scheduled")


@pytest.mark.req("ACC-5")
def test_checkpoint_list_shows_size_signatures_and_witness(
    audit_client, officer, log_keys, witness
):
    _events(3, actor=officer)
    first = _checkpoint()
    cosignature = witness.cosign(first)
    _events(2, actor=officer)
    second = _checkpoint()
    body = audit_client.get(reverse("web:audit_checkpoints")).content.decode()
    rows = body.split('<table class="table card-table table-sm checkpoints-table">')[1]
    assert rows.index(f">{second.size:,}<") < rows.index(f">{first.size:,}<"), "newest first"
    assert first.root[:16] in rows and second.root[:16] in rows
    assert first.root in rows and 'class="technical-details' in rows  # the full root, disclosed
    assert "定时任务" in rows and "平台签名" in rows and "国密 SM2 签名" in rows
    assert rows.count(">有效<") >= 5  # 2 × (log + SM2) + the witness's line
    assert f"<code>{WITNESS}</code>" in rows and "联署于" in rows and "收到于" in rows
    assert timezone.localtime(cosignature.received_at).strftime("%Y-%m-%d %H:%M:%S") in rows
    assert reverse("web:audit_checkpoint_note", args=[first.size]) in rows
    # the top: log public keys, the registered witness, tree size, pending events
    top = body.split("checkpoints-table")[0]
    assert "平台签名公钥" in top and "国密 SM2 签名公钥" in top and witness.key.text() in top
    assert f"<code>{WITNESS}</code>" in top and witness.key.key_id.hex() in top
    from custody.models import PendingEvent
    from custody.tree import tree_size

    assert f'id="tree-size">{tree_size():,}<' in top
    assert f'id="pending-events">{PendingEvent.objects.count():,}<' in top


def test_checkpoint_page_without_checkpoints_or_keys(audit_client, officer):
    _events(2, actor=officer)
    response = audit_client.get(reverse("web:audit_checkpoints"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "尚无检查点" in body and "立即签发检查点" in body
    assert "无法读取日志签名密钥" in body and "尚未登记见证人" in body
    # the file's path and the library's words only behind 技术细节
    assert "日志签名密钥文件不存在" in "".join(body.split(">技术细节</summary>")[1:])
    assert "日志签名密钥文件不存在" not in body.split(">技术细节</summary>")[0]


def test_sign_a_checkpoint_now(audit_client, auditor, officer, log_keys):
    _events(3, actor=officer)
    page = audit_client.get(reverse("web:audit_checkpoints")).content.decode()
    assert 'id="checkpoint-form"' in page and "csrfmiddlewaretoken" in page
    response = audit_client.post(reverse("web:audit_checkpoint_now"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:audit_checkpoints")
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.trigger == "manual"
    body = response.content.decode()
    assert f"已签发检查点：树大小 {checkpoint.size:,}" in body and "人工执行" in body
    signed = Event.objects.get(action=EventCode.CHECKPOINT_SIGNED)
    assert signed.actor == auditor and signed.details["tree_size"] == checkpoint.size
    # the next one covers the signing event itself, and is checked against this one first
    audit_client.post(reverse("web:audit_checkpoint_now"))
    sizes = list(Checkpoint.objects.order_by("size").values_list("size", flat=True))
    assert len(sizes) == 2 and sizes[1] > sizes[0]
    assert audit_client.get(reverse("web:audit_checkpoint_now")).status_code == 405


def test_signing_without_a_key_says_why_never_500(audit_client, officer):
    _events(1, actor=officer)
    response = audit_client.post(reverse("web:audit_checkpoint_now"), follow=True)
    assert response.status_code == 200
    assert "未签发检查点" in response.content.decode() and not Checkpoint.objects.exists()


def test_refused_checkpoint_is_an_error_message(audit_client, officer, log_keys, monkeypatch):
    from custody.checkpoints import CheckpointRefused

    def refuse(**kwargs):
        raise CheckpointRefused("当前树与第 3 号检查点不一致（历史被改写）")

    monkeypatch.setattr(audit_views, "make_checkpoint", refuse)
    response = audit_client.post(reverse("web:audit_checkpoint_now"), follow=True)
    assert response.status_code == 200
    assert "未签发检查点：当前树与第 3 号检查点不一致" in response.content.decode()


def test_signing_needs_csrf(auditor, log_keys):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(auditor)
    assert csrf_client.post(reverse("web:audit_checkpoint_now")).status_code == 403
    assert not Checkpoint.objects.exists()


def test_checkpoint_note_download_carries_the_cosignatures(
    audit_client, officer, log_keys, witness
):
    from custody.signing import verify_checkpoint
    from custody.verifier import note

    _events(2, actor=officer)
    checkpoint = _checkpoint()
    cosignature = witness.cosign(checkpoint)
    response = audit_client.get(reverse("web:audit_checkpoint_note", args=[checkpoint.size]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="checkpoint-{checkpoint.size}.txt"'
    )
    text = response.content.decode()
    assert text == checkpoint.note + cosignature.line + "\n"
    assert verify_checkpoint(text).ok
    parsed = note.parse_checkpoint(text)
    assert parsed.size == checkpoint.size and any(s.name == WITNESS for s in parsed.signatures)
    missing = audit_client.get(reverse("web:audit_checkpoint_note", args=[checkpoint.size + 99]))
    assert missing.status_code == 404
    assert audit_client.get("/audit/checkpoints/x/note.txt").status_code == 404


def test_checkpoints_are_keyset_paginated(audit_client, officer, log_keys, monkeypatch):
    monkeypatch.setattr(audit_views, "CHECKPOINTS_PER_PAGE", 2)
    for _ in range(5):
        _events(1, actor=officer)
        _checkpoint()
    seen, pages, back = _walk(audit_client, reverse("web:audit_checkpoints"))
    everything = list(Checkpoint.objects.order_by("-size").values_list("pk", flat=True))
    assert seen == everything and [len(p) for p in pages] == [2, 2, 1]
    assert back[-1] == pages[0]


def test_checkpoint_page_query_budget(
    audit_client, officer, log_keys, witness, django_assert_max_num_queries
):
    for _ in range(6):
        _events(1, actor=officer)
        witness.cosign(_checkpoint())
    with django_assert_max_num_queries(15):
        assert audit_client.get(reverse("web:audit_checkpoints")).status_code == 200


# --- the exposure window -----------------------------------------------------------------


def test_exposure_without_a_witnessed_checkpoint(audit_client, officer, log_keys):
    from custody.models import PendingEvent

    _events(4, actor=officer)
    _checkpoint()  # signed by the platform only: no witness
    window = audit_views.exposure_window()
    total = Event.objects.count()
    assert window.witnessed is None and window.events == total
    assert window.pending == PendingEvent.objects.count()
    assert window.oldest_at == Event.objects.order_by("occurred_at").first().occurred_at
    body = audit_client.get(reverse("web:audit_checkpoints")).content.decode()
    assert "尚无经见证人联署的检查点" in body and "只受数据库防护" in body
    assert f"全部 {window.events:,} 个事件" in body
    assert "如何设立见证人" in body
    technical = body.split('id="exposure"')[1].split(">技术细节</summary>")[1]
    assert "manage.py witness init" in technical and "AVR_LOG_WITNESSES" in technical


def test_exposure_after_a_witnessed_checkpoint(audit_client, officer, log_keys, witness):
    from custody.models import Leaf, PendingEvent
    from custody.sequencer import integrate_all

    _events(3, actor=officer)
    witnessed = _checkpoint()
    witness.cosign(witnessed)
    integrate_all()
    # everything after the witnessed size: the signing and cosigning events, then three more
    _events(3, actor=officer, action=EventCode.LOGOUT)
    later = Event.objects.filter(action=EventCode.LOGOUT).order_by("pk")
    window = audit_views.exposure_window()
    after = set(Leaf.objects.filter(index__gte=witnessed.size).values_list("event_id", flat=True))
    after |= set(PendingEvent.objects.values_list("event_id", flat=True))
    assert window.witnessed == witnessed and window.covered == witnessed.size
    assert window.events == len(after) >= 5
    assert window.oldest_at == min(
        Event.objects.filter(pk__in=after).values_list("occurred_at", flat=True)
    )
    assert window.oldest_at < later.first().occurred_at
    body = audit_client.get(reverse("web:audit_checkpoints")).content.decode()
    stamp = timezone.localtime(window.oldest_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"最近一个经见证的检查点之后的事件：{window.events:,} 个，最早发生于 {stamp}" in body
    assert f'id="exposure-events">{window.events:,}<' in body
    # a witnessed checkpoint of the whole tree closes the window
    latest = _checkpoint()
    witness.cosign(latest)
    window = audit_views.exposure_window()
    assert window.witnessed == latest
    # only what was written since is left: that checkpoint's signing event and the cosigning
    assert window.events == Event.objects.count() - latest.size == 2


def test_exposure_is_zero_when_the_witness_covers_everything(monkeypatch, log_keys, witness):
    from custody import tree

    witnessed = _checkpoint()
    witness.cosign(witnessed)
    from custody.sequencer import integrate_all

    integrate_all()
    monkeypatch.setattr(tree, "tree_size", lambda: witnessed.size)
    monkeypatch.setattr(audit_views.PendingEvent.objects, "count", lambda: 0)
    window = audit_views.exposure_window()
    assert window.events == 0 and window.oldest_at is None


def test_home_block_shows_the_exposure_window(audit_client, officer, log_keys, monkeypatch):
    import sys

    home = sys.modules["web.views.home"]  # web.views.home is the view function
    _events(2, actor=officer)
    if "exposure" not in home._audit_overview():  # the home view does not call it yet
        original = home._audit_overview
        monkeypatch.setattr(
            home,
            "_audit_overview",
            lambda: {**original(), "exposure": audit_views.exposure_window()},
        )
    body = audit_client.get(reverse("web:home")).content.decode()
    assert 'id="audit-exposure"' in body and "未经见证的事件" in body
    assert "尚无经见证人联署的检查点" in body
    assert reverse("web:audit_checkpoints") in body


# --- proof bundles -------------------------------------------------------------------------


def test_bundle_download_verifies(audit_client, officer, log_keys, witness):
    from custody.verifier.check import FAIL, NOT_RUN, PASS, check_bundle, overall

    recording = make_recording(officer)
    register_access(recording, actor=officer, action=AccessAction.PLAY, purpose="案件审核")
    witness.cosign(_checkpoint())
    register_access(recording, actor=officer, action=AccessAction.VIEW)
    response = audit_client.get(
        reverse("web:audit_bundle"), {"subject_type": "recording", "subject_id": str(recording.pk)}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="custody-bundle-recording-{recording.pk}.json"'
    )
    bundle = json.loads(response.content)
    assert bundle["subject"] == ["recording", str(recording.pk)]
    events = set(
        Event.objects.filter(
            subject_links__subject_type="recording", subject_links__subject_id=str(recording.pk)
        ).exclude(action=EventCode.BUNDLE_EXPORTED).values_list("pk", flat=True)
    )
    assert {e["event"] for e in bundle["entries"]} == events and bundle["pending"] == 0
    assert bundle["consistency"], "proved from the last witnessed checkpoint"
    results = check_bundle(bundle)
    assert [r for r in results if r.status == FAIL] == []
    assert overall(results) in (PASS, NOT_RUN)
    unchecked = [r for r in results if r.status == NOT_RUN]
    assert all("签名" in r.message and r.part == "signature" for r in unchecked), unchecked
    assert any(r.part == "inclusion" and r.status == PASS for r in results)
    assert any(r.part == "consistency" and r.status == PASS for r in results)


def test_bundle_link_on_the_filtered_log(audit_client, officer):
    recording = make_recording(officer)
    url = reverse("web:audit_events")
    body = audit_client.get(
        url, {"subject_type": "recording", "subject_id": str(recording.pk)}
    ).content.decode()
    assert 'id="download-bundle"' in body and "下载证明包" in body
    assert f"subject_type=recording&amp;subject_id={recording.pk}" in body
    assert 'id="download-bundle"' not in audit_client.get(url).content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "请选择对象类型"),
        ({"subject_type": "spaceship", "subject_id": "1"}, "所选对象类型不存在"),
        ({"subject_type": "recording"}, "请填写对象编号"),
        ({"subject_type": "recording", "subject_id": "   "}, "请填写对象编号"),
        ({"subject_type": "recording", "subject_id": "x" * 65}, "最多 64 个字符"),
        ({"subject_type": "recording", "subject_id": "4\n2"}, "不能包含控制字符"),
        ({"subject_type": "recording", "subject_id": "4\x002"}, "不能包含控制字符"),
    ],
)
def test_bad_bundle_input_is_a_chinese_400(audit_client, params, message):
    response = audit_client.get(reverse("web:audit_bundle"), params)
    assert response.status_code == 400
    body = response.content.decode()
    assert "证明包的参数有误" in body and message in body
    assert response["Content-Type"].startswith("text/html")


def test_bundle_of_a_subject_without_events(audit_client, log_keys):
    response = audit_client.get(
        reverse("web:audit_bundle"), {"subject_type": "recording", "subject_id": "999999"}
    )
    assert response.status_code == 404
    assert "没有关于音像记录 999999 的事件" in response.content.decode()
    assert not Checkpoint.objects.exists()


def test_bundle_without_a_log_key_says_why(audit_client, officer):
    recording = make_recording(officer)
    response = audit_client.get(
        reverse("web:audit_bundle"), {"subject_type": "recording", "subject_id": str(recording.pk)}
    )
    assert response.status_code == 503
    assert "暂时无法生成证明包" in response.content.decode()


def test_verify_now_in_the_worker_says_it_started(audit_client, auditor, monkeypatch):
    """With a real worker the verification runs later: the page says so instead of waiting."""
    queued = []
    monkeypatch.setattr("web.views.audit.verify_custody_chain_task",
                        lambda actor_id, trigger: queued.append((actor_id, trigger)))
    response = audit_client.post(reverse("web:audit_verify_now"), follow=True)
    assert queued == [(auditor.pk, "manual")]
    assert "已开始校验" in response.content.decode() and not ChainVerification.objects.exists()


@pytest.mark.req("ACC-5")
def test_verify_now_with_the_queue_down_says_so_and_keeps_a_not_run_result(audit_client, monkeypatch):
    """Redis unreachable: no 500 — the page says the verification could not start, and that
    is a stored result (not run) with its own custody event (promise 4)."""
    import redis

    def queue_down(actor_id, trigger):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr("web.views.audit.verify_custody_chain_task", queue_down)
    response = audit_client.post(reverse("web:audit_verify_now"), follow=True)
    assert response.status_code == 200
    verification = ChainVerification.objects.get()
    assert verification.status == "not_run" and verification.trigger == "manual"
    assert "后台任务队列暂时无法连接" in verification.detail
    assert "后台任务队列暂时无法连接" in response.content.decode()
    assert Event.objects.filter(action="custody.chain_verified").exists()


def test_export_times_are_the_pages_second_even_just_before_the_next():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from openpyxl import Workbook, load_workbook

    from web.views.audit import _local_naive

    moment = datetime(2026, 12, 2, 13, 11, 32, 999648, tzinfo=ZoneInfo("UTC"))
    value = _local_naive(moment)
    book = Workbook()
    book.active.append([value])
    buffer = io.BytesIO()
    book.save(buffer)
    read = load_workbook(io.BytesIO(buffer.getvalue())).active["A1"].value
    assert read == timezone.localtime(moment).replace(tzinfo=None, microsecond=0)
    assert read.second == 32  # a spreadsheet rounds a fraction of a day: 33 without the cut
