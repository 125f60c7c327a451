"""事项目录 and 检查设置 through the Django test client (REC-1, REC-2, REC-7, INT-1).

The catalog page shows the lists that bind a department — the national one everywhere, 大连's or
双桥's where its jurisdiction profile says so, with the articles and quotes — and lets the
department head add entries, tighten a higher one and revise their own; loosening is refused
with the service's Chinese message and saves nothing. The settings page saves the tolerances and
keeps the webhook endpoints, whose secret is shown once. Who may not change them gets a 403 or
404 and nothing changes.
"""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from access.choices import AccessProfile
from access.confidentiality import assign_profile
from activities import catalogs
from activities.catalog import effective_catalog
from activities.choices import DeliveryStatus, MatterLevel
from activities.models import ComplianceSettings, MatterType, WebhookDelivery, WebhookEndpoint
from activities.webhooks import create_endpoint
from core.testing import make_department, make_person, make_unit
from custody.choices import EventCode
from custody.models import Event
from web.tests.english import english_words

pytestmark = [pytest.mark.django_db]

URL = "https://case.example.gov.cn/hooks/avr"
CATALOG = reverse("web:activity_catalog")
SETTINGS = reverse("web:activity_settings")


@pytest.fixture
def org():
    city = make_department()
    county = make_department(name="某县市场监督管理局", level="county", parent=city)
    unit = make_unit(county)
    return {
        "city": city, "county": county, "unit": unit,
        "city_head": make_person("department_head", department=city, full_name="钱市长"),
        "head": make_person("department_head", department=county, full_name="赵磊"),
        "legal": make_person("legal_office", department=county, full_name="孙法制"),
        "officer": make_person("officer", unit=unit, full_name="张伟"),
        "other_head": make_person("department_head", department=make_department(name="另一市场监督管理局"),
                                  full_name="外部门负责人"),
        "security": make_person("security_admin", department=city, full_name="安全管理员"),
    }


def _as(client, person):
    client.force_login(person)
    return client


def _text(response) -> str:
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _entry(**kw) -> dict:
    data = {"name": "夜间食品经营场所检查", "category": "inspection", "level": MatterLevel.MANDATORY,
            "start_trigger": "到达检查现场、出示执法证件时", "end_trigger": "检查结束离开现场时",
            "content_points": ["show_id"], "methods": ["video", "audio"], "article": "某县局执法音像记录实施细则第五条",
            "reason": "本县夜间经营多"}
    data.update(kw)
    return data


def _prefixed(prefix: str, data: dict) -> dict:
    return {f"{prefix}-{k}": v for k, v in data.items()}


def _own_rows(department):
    return MatterType.objects.filter(scope=f"dept:{department.pk}")


def _samr(department, level):
    return next(e for e in effective_catalog(department) if e.matter.scope == "samr" and e.level == level
                and e.content_points)


# ---------------------------------------------------------------------------- the catalog


@pytest.mark.req("REC-1", "REC-2")
@pytest.mark.parametrize(("profile", "local"), [
    (None, None), (AccessProfile.DALIAN, catalogs.DALIAN), (AccessProfile.SHUANGQIAO, catalogs.SHUANGQIAO),
])
def test_the_catalog_shows_the_lists_that_bind_the_department_with_their_articles(client, org, profile, local):
    if profile is not None:
        assign_profile(org["county"], profile=profile, actor=org["security"])
    response = _as(client, org["officer"]).get(CATALOG)
    assert response.status_code == 200
    body = response.content.decode()
    text = _text(response)
    scopes = set(re.findall(r'data-catalog-scope="([^"]+)"', body))
    expected = {"samr"} | ({local.code} if local else set())
    assert scopes == expected  # no other local list, and no department's own group for an officer
    for catalog in [catalogs.SAMR, *([local] if local else [])]:
        for entry in catalog.entries:
            assert f'data-matter-scope="{catalog.code}" data-matter-code="{entry.code}"' in body
            assert entry.article in text
            assert html.escape(entry.quote) in body or entry.quote in text  # the quote, collapsed
    assert "全过程" in text and "可以" in text and "现场环境" in text  # levels and content points
    # the officer does not keep the list: no forms
    assert 'id="entry-form"' not in body and "data-tighten" not in body
    assert english_words(text, also_allowed={"D" + org["county"].code[1:]}) == []


@pytest.mark.req("REC-1")
def test_a_superior_picks_a_department_below_and_others_are_not_found(client, org):
    assign_profile(org["county"], profile=AccessProfile.DALIAN, actor=org["security"])
    response = _as(client, org["city_head"]).get(CATALOG, {"department": org["county"].pk})
    assert response.status_code == 200 and response.context["department"] == org["county"]
    assert "dalian" in {g["scope"] for g in response.context["groups"]}
    assert 'id="entry-form"' not in response.content.decode()  # the county's list is the county's to keep
    assert 'id="department-picker"' in client.get(CATALOG).content.decode()
    for bad in (org["other_head"].department_id, "abc", "99999999999999999999"):
        assert client.get(CATALOG, {"department": bad}).status_code == 404
    # an officer sees only their own department
    assert _as(client, org["officer"]).get(CATALOG, {"department": org["city"].pk}).status_code == 404


@pytest.mark.req("REC-1", "REC-2")
def test_the_department_head_adds_an_entry_and_it_shows_with_its_history(client, org):
    response = _as(client, org["head"]).post(CATALOG, _entry())
    assert response.status_code == 302
    entry = _own_rows(org["county"]).get()
    assert (entry.name, entry.level, entry.version, entry.created_by_id, entry.change_reason) == (
        "夜间食品经营场所检查", MatterLevel.MANDATORY, 1, org["head"].pk, "本县夜间经营多")
    assert Event.objects.filter(action=EventCode.MATTER_ADDED, actor_id=org["head"].pk).exists()
    page = client.get(CATALOG)
    body = page.content.decode()
    assert f'data-catalog-scope="dept:{org["county"].pk}"' in body and f'id="versions-{entry.pk}"' in body
    assert "本县夜间经营多" in _text(page) and "赵磊" in _text(page)
    assert english_words(_text(page)) == []  # with the forms the head sees
    # the officer of the county sees it too (it binds them), the city does not
    assert f'id="matter-{entry.pk}"' in _as(client, org["officer"]).get(CATALOG).content.decode()
    assert f'id="matter-{entry.pk}"' not in _as(client, org["city_head"]).get(CATALOG).content.decode()


@pytest.mark.req("REC-2")
def test_a_higher_entry_is_tightened_from_its_prefilled_values(client, org):
    optional = _samr(org["county"], MatterLevel.OPTIONAL)
    client = _as(client, org["head"])
    prefilled = client.get(CATALOG, {"tightens": optional.matter.pk})
    form = prefilled.context["entry_form"]
    assert prefilled.context["open_entry"] and form["tightens"].value() == optional.matter.pk
    assert form["name"].value() == optional.matter.name and list(form["content_points"].value()) == list(
        optional.content_points)
    data = _entry(name=optional.matter.name, category=optional.matter.category, level=MatterLevel.FULL_PROCESS,
                  content_points=[*optional.content_points, "show_id"], methods=list(optional.methods),
                  tightens=optional.matter.pk, reason="本县从严")
    assert client.post(CATALOG, data).status_code == 302
    stricter = _own_rows(org["county"]).get()
    assert stricter.tightens_id == optional.matter.pk
    page = client.get(CATALOG)
    body = page.content.decode()
    # where the national entry stood, a line points to the stricter one; the stricter one says what it tightens
    assert f'id="matter-{optional.matter.pk}" data-tightened-by="{stricter.pk}"' in body
    assert f'data-tightens="{optional.matter.pk}"' in body
    own = next(g for g in page.context["groups"] if g["own"])
    assert [i["matter"].pk for i in own["items"]] == [stricter.pk] and own["items"][0]["level"]["short"] == "全过程"


@pytest.mark.req("REC-2")
def test_loosening_a_higher_entry_is_refused_and_nothing_is_saved(client, org):
    full = _samr(org["county"], MatterLevel.FULL_PROCESS)
    data = _entry(name=full.matter.name, level=MatterLevel.OPTIONAL, content_points=list(full.content_points),
                  methods=list(full.methods), tightens=full.matter.pk)
    response = _as(client, org["head"]).post(CATALOG, data)
    assert response.status_code == 400
    assert "不能降低上级规定的记录要求" in _text(response)
    assert not _own_rows(org["county"]).exists()
    assert not Event.objects.filter(action=EventCode.MATTER_ADDED).exists()
    # fewer content points than the national entry: refused as well
    response = client.post(CATALOG, {**data, "level": full.level, "content_points": list(full.content_points)[:1]})
    assert response.status_code == 400 and "不能删减上级规定的记录内容要点" in _text(response)
    assert not _own_rows(org["county"]).exists()


@pytest.mark.req("REC-2")
def test_an_own_entry_is_revised_with_a_reason_and_never_loosened(client, org):
    full = _samr(org["county"], MatterLevel.FULL_PROCESS)
    client = _as(client, org["head"])
    client.post(CATALOG, _entry(name=full.matter.name, level=full.level, content_points=list(full.content_points),
                                methods=list(full.methods), tightens=full.matter.pk))
    entry = _own_rows(org["county"]).get()
    revise = reverse("web:activity_catalog_revise", args=[entry.pk])
    values = _entry(name="查封扣押（本县细则）", level=full.level, content_points=list(full.content_points),
                    methods=list(full.methods))
    # no reason: refused, no new version
    response = client.post(revise, _prefixed(f"r{entry.pk}", {**values, "reason": ""}))
    assert response.status_code == 400 and "请写明修改理由" in _text(response)
    # looser than what it tightens: the service's message, no new version
    response = client.post(revise, _prefixed(f"r{entry.pk}", {**values, "level": MatterLevel.MANDATORY,
                                                               "reason": "放宽"}))
    assert response.status_code == 400 and "不能降低上级规定的记录要求" in _text(response)
    assert _own_rows(org["county"]).count() == 1
    response = client.post(revise, _prefixed(f"r{entry.pk}", {**values, "reason": "按本县细则改名"}))
    assert response.status_code == 302
    versions = list(_own_rows(org["county"]).order_by("version"))
    assert [(v.version, v.current) for v in versions] == [(1, False), (2, True)]
    page = client.get(CATALOG)
    history = page.context["groups"][-1]["items"][0]["versions"]
    assert [v.version for v in history] == [2, 1] and "按本县细则改名" in _text(page)
    # the old version is no longer revisable
    assert client.post(revise, _prefixed(f"r{entry.pk}", {**values, "reason": "再改"})).status_code == 404


@pytest.mark.req("REC-1", "REC-2")
def test_who_does_not_keep_the_list_changes_nothing(client, org):
    assert _as(client, org["head"]).post(CATALOG, _entry()).status_code == 302
    entry = _own_rows(org["county"]).get()
    revise = reverse("web:activity_catalog_revise", args=[entry.pk])
    before = MatterType.objects.count()
    # the county's officer: refused
    c = _as(client, org["officer"])
    assert c.post(CATALOG, _entry(name="另一事项")).status_code == 403
    assert c.post(revise, _prefixed(f"r{entry.pk}", _entry(reason="改"))).status_code == 403
    # the head of the city above, and of another department: the county's entry is not theirs
    for who in ("city_head", "other_head"):
        assert _as(client, org[who]).post(revise, _prefixed(f"r{entry.pk}", _entry(reason="改"))).status_code == 404
    assert MatterType.objects.count() == before and _own_rows(org["county"]).get().version == 1
    assert not Event.objects.filter(action=EventCode.MATTER_REVISED).exists()
    # the separated administrators do not use the page at all
    assert _as(client, org["security"]).get(CATALOG).status_code == 403


# ---------------------------------------------------------------------------- tolerances


@pytest.mark.req("REC-7")
def test_the_tolerances_show_the_defaults_and_are_saved(client, org):
    page = _as(client, org["head"]).get(SETTINGS)
    assert page.status_code == 200
    assert page.context["current"] == {"time_tolerance_minutes": 5, "gap_tolerance_seconds": 60}
    text = _text(page)
    assert "默认 5 分钟" in text and "默认 60 秒" in text and "本部门尚未修改" in text
    response = client.post(reverse("web:activity_settings_tolerances"),
                           {"time_tolerance_minutes": "10", "gap_tolerance_seconds": "90"})
    assert response.status_code == 302
    row = ComplianceSettings.objects.get(department=org["county"])
    assert (row.time_tolerance_minutes, row.gap_tolerance_seconds, row.changed_by_id) == (10, 90, org["head"].pk)
    assert Event.objects.filter(action=EventCode.COMPLIANCE_SETTINGS_CHANGED).count() == 1
    page = client.get(SETTINGS)
    assert page.context["current"] == {"time_tolerance_minutes": 10, "gap_tolerance_seconds": 90}
    assert "10 分钟" in _text(page) and "赵磊" in _text(page)
    # the officer reads them, without a form
    page = _as(client, org["officer"]).get(SETTINGS)
    assert page.status_code == 200 and "10 分钟" in _text(page) and 'id="tolerances-form"' not in page.content.decode()


@pytest.mark.req("REC-7")
@pytest.mark.parametrize(("minutes", "seconds", "says"), [
    ("121", "60", "时间一致容差应为 0–120 分钟的整数"), ("-1", "60", "时间一致容差应为 0–120 分钟的整数"),
    ("5", "3601", "接续间隔容差应为 0–3600 秒的整数"), ("abc", "60", "时间一致容差应为"), ("", "60", "请填写时间一致容差"),
    ("1.5", "60", "时间一致容差应为"), ("5", "9" * 40, "接续间隔容差应为"),
])
def test_a_bad_tolerance_is_refused_in_chinese_and_nothing_is_saved(client, org, minutes, seconds, says):
    response = _as(client, org["head"]).post(reverse("web:activity_settings_tolerances"),
                                             {"time_tolerance_minutes": minutes, "gap_tolerance_seconds": seconds})
    assert response.status_code == 400
    assert says in _text(response)
    assert not ComplianceSettings.objects.filter(department=org["county"]).exists()
    assert not Event.objects.filter(action=EventCode.COMPLIANCE_SETTINGS_CHANGED).exists()


@pytest.mark.req("REC-7")
def test_who_may_not_change_the_tolerances_changes_nothing(client, org):
    url = reverse("web:activity_settings_tolerances")
    data = {"time_tolerance_minutes": "30", "gap_tolerance_seconds": "60"}
    assert _as(client, org["officer"]).post(url, data).status_code == 403
    assert _as(client, org["security"]).post(url, data).status_code == 403
    # the city head sets the city's tolerances, never the county's
    assert _as(client, org["city_head"]).post(url, data).status_code == 302
    assert ComplianceSettings.objects.get(department=org["city"]).time_tolerance_minutes == 30
    assert not ComplianceSettings.objects.filter(department=org["county"]).exists()
    page = client.get(SETTINGS, {"department": org["county"].pk})
    assert page.context["current"]["time_tolerance_minutes"] == 5 and 'id="tolerances-form"' not in page.content.decode()


# ---------------------------------------------------------------------------- webhook endpoints


@pytest.mark.req("INT-1")
def test_an_endpoint_is_created_and_its_secret_shown_once(client, org):
    client = _as(client, org["head"])
    assert "还没有推送地址" in _text(client.get(SETTINGS))
    response = client.post(reverse("web:activity_settings_webhook_new"), {"name": "案件办理系统", "url": URL})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(department=org["county"])
    assert (endpoint.name, endpoint.url, endpoint.active) == ("案件办理系统", URL, True)
    body = response.content.decode()
    assert 'id="webhook-secret"' in body and f'value="{endpoint.secret}"' in body
    assert "no-store" in response["Cache-Control"]
    assert Event.objects.get(action=EventCode.WEBHOOK_ADDED).details == {"name": "案件办理系统", "webhook_url": URL}
    page = client.get(SETTINGS)
    assert endpoint.secret not in page.content.decode() and 'id="webhook-secret"' not in page.content.decode()
    assert f'id="endpoint-{endpoint.pk}"' in page.content.decode()
    assert english_words(_text(page), also_allowed={"https", "case.example.gov.cn", "hooks", "avr"}) == []


@pytest.mark.req("INT-1")
@pytest.mark.parametrize("url", ["ftp://case.example.gov.cn/in", "javascript:alert(1)", "case.example.gov.cn",
                                 "https://user:pw@case.example.gov.cn/", "https://" + "a" * 600])
def test_a_bad_address_is_refused_in_chinese(client, org, url):
    response = _as(client, org["head"]).post(reverse("web:activity_settings_webhook_new"),
                                             {"name": "案件办理系统", "url": url})
    assert response.status_code == 400
    assert "推送地址" in _text(response) and 'id="webhook-secret"' not in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.req("INT-1")
def test_an_endpoint_is_deactivated_and_its_secret_rotated(client, org):
    endpoint = create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL)
    old = endpoint.secret
    client = _as(client, org["legal"])
    response = client.post(reverse("web:activity_settings_webhook_active", args=[endpoint.pk]), {"active": "0"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active is False
    page = client.get(SETTINGS)
    assert 'data-active="0"' in page.content.decode() and "已停用" in _text(page)
    # stopping it again: nothing to do (409)
    again = client.post(reverse("web:activity_settings_webhook_active", args=[endpoint.pk]), {"active": "0"})
    assert again.status_code == 409 and "该推送地址已停用" in _text(again)
    assert client.post(reverse("web:activity_settings_webhook_active", args=[endpoint.pk]),
                       {"active": "maybe"}).status_code == 400
    rotated = client.post(reverse("web:activity_settings_webhook_rotate", args=[endpoint.pk]))
    assert rotated.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.secret != old and f'value="{endpoint.secret}"' in rotated.content.decode()
    assert endpoint.secret not in client.get(SETTINGS).content.decode()
    details = [e.details for e in Event.objects.filter(action=EventCode.WEBHOOK_CHANGED).order_by("pk")]
    assert [(d["webhook_active"], d["secret_rotated"]) for d in details] == [(False, False), (False, True)]


@pytest.mark.req("INT-1")
def test_who_may_not_manage_endpoints_gets_403_or_404_and_nothing_changes(client, org):
    endpoint = create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL)
    secret = endpoint.secret
    active = reverse("web:activity_settings_webhook_active", args=[endpoint.pk])
    rotate = reverse("web:activity_settings_webhook_rotate", args=[endpoint.pk])
    new = reverse("web:activity_settings_webhook_new")
    c = _as(client, org["officer"])
    assert c.post(active, {"active": "0"}).status_code == 403
    assert c.post(rotate).status_code == 403
    assert c.post(new, {"name": "另一个", "url": URL}).status_code == 403
    page = c.get(SETTINGS)  # the officer sees no endpoint, no address
    assert page.status_code == 200 and URL not in page.content.decode() and "endpoints" not in page.context
    for who in ("city_head", "other_head"):  # another department's endpoint: not found
        c = _as(client, org[who])
        assert c.post(active, {"active": "0"}).status_code == 404
        assert c.post(rotate).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.secret == secret
    assert WebhookEndpoint.objects.count() == 1 and not Event.objects.filter(action=EventCode.WEBHOOK_CHANGED).exists()
    # the city head sees the county's endpoints (read-only), never its secret
    page = _as(client, org["city_head"]).get(SETTINGS, {"department": org["county"].pk})
    assert page.status_code == 200 and URL in page.content.decode() and secret not in page.content.decode()
    assert "data-endpoint-rotate" not in page.content.decode() and 'id="tolerances-form"' not in page.content.decode()


@pytest.mark.req("INT-1")
def test_the_delivery_log_is_paginated_and_filtered(client, org):
    endpoint = create_endpoint(org["county"], actor=org["head"], name="案件办理系统", url=URL)
    other = create_endpoint(org["county"], actor=org["head"], name="监管平台", url=URL + "/2")
    now = timezone.now()
    for _n in range(27):
        WebhookDelivery.objects.create(endpoint=endpoint, event_type="finding.opened", payload={}, created_at=now,
                                       status=DeliveryStatus.DELIVERED, attempts=1, last_status_code=200,
                                       delivered_at=now)
    WebhookDelivery.objects.create(endpoint=other, event_type="finding.resolved", payload={}, created_at=now,
                                   status=DeliveryStatus.FAILED, attempts=8, last_status_code=500,
                                   last_error="对方返回 HTTP 500。")
    client = _as(client, org["head"])
    page = client.get(SETTINGS)
    assert page.context["delivery_total"] == 28 and len(page.context["deliveries"]) == 25
    assert page.context["has_next"] and "发现合规提示" in _text(page)
    assert len(client.get(SETTINGS, {"page": "2"}).context["deliveries"]) == 3
    failed = client.get(SETTINGS, {"status": DeliveryStatus.FAILED})
    assert [d.endpoint_id for d in failed.context["deliveries"]] == [other.pk]
    assert "对方返回 HTTP 500。" in _text(failed) and "合规提示已消除" in _text(failed)
    assert client.get(SETTINGS, {"endpoint": other.pk, "status": "delivered"}).context["delivery_total"] == 0
    for bad in ({"status": "nonsense"}, {"endpoint": "abc"}, {"endpoint": "999999999"}):
        response = client.get(SETTINGS, bad)
        assert response.status_code == 400 and response.context["deliveries"] == []
        assert "筛选条件有误" in _text(response)
    for page_no in ("0", "-1", "abc", "9" * 30):
        assert client.get(SETTINGS, {"page": page_no}).status_code == 200


@pytest.mark.req("REC-1", "REC-7", "INT-1")
def test_the_activity_list_links_both_pages(client, org):
    body = _as(client, org["officer"]).get(reverse("web:activity_list")).content.decode()
    assert f'href="{CATALOG}"' in body and f'href="{SETTINGS}"' in body
    # the 执法活动 navigation entry is lit on both pages
    for url in (CATALOG, SETTINGS):
        nav = client.get(url).context["nav_items"]
        assert next(i for i in nav if i["name"] == "activity_list")["active"]
