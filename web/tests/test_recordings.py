"""The catalogue pages: filters, query budget, detail panels, metadata and late-reason forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import AccessEntry
from core.testing import make_person, make_recording, make_unit
from custody.choices import EventCode
from custody.models import Event

pytestmark = pytest.mark.django_db


def _listed(client, **params) -> set[int]:
    response = client.get(reverse("web:recording_list"), params)
    assert response.status_code == 200
    return {r.pk for r in response.context["rows"]}


@pytest.fixture
def catalogue(unit, officer):
    """A few recordings of one officer's unit with distinct metadata."""
    now = timezone.now()
    colleague = make_person("officer", unit=unit, full_name="李四")
    return {
        "colleague": colleague,
        "today": make_recording(
            officer,
            case_number="双市监处罚〔2026〕18号",
            party="某某食品有限公司",
            device_serial="DSJ-A1",
            start_time=now - timedelta(hours=2),
        ),
        "old_late": make_recording(
            officer,
            case_number="双市监处罚〔2026〕21号",
            party="李某某",
            device_serial="DSJ-B2",
            start_time=now - timedelta(days=10),
            officer_ids=[colleague.pk],
        ),
        "photo": make_recording(
            officer,
            media_kind="photo",
            mime_type="image/jpeg",
            duration_s=None,
            party="某药房",
            start_time=now - timedelta(days=1, hours=1),
        ),
        "no_time": make_recording(officer, party="无时间"),
    }


@pytest.mark.req("ING-4")
def test_list_filters_by_period(officer_client, catalogue):
    day = timezone.localdate(catalogue["old_late"].start_time)
    assert _listed(officer_client, date_from=day, date_to=day) == {catalogue["old_late"].pk}
    recent = _listed(officer_client, date_from=timezone.localdate() - timedelta(days=3))
    assert catalogue["old_late"].pk not in recent
    assert catalogue["today"].pk in recent


@pytest.mark.req("ING-4")
def test_list_filters_by_case_party_device_and_free_text(officer_client, catalogue):
    assert _listed(officer_client, case_number="双市监处罚〔2026〕21") == {catalogue["old_late"].pk}
    assert _listed(officer_client, party="某药房") == {catalogue["photo"].pk}
    assert _listed(officer_client, device_serial="DSJ-A1") == {catalogue["today"].pk}
    assert _listed(officer_client, q="某某食品") == {catalogue["today"].pk}


@pytest.mark.req("ING-4")
def test_list_filters_by_officer_and_unit(officer_client, officer, catalogue, unit):
    assert _listed(officer_client, officer=catalogue["colleague"].pk) == {catalogue["old_late"].pk}
    assert len(_listed(officer_client, unit=unit.pk)) == 4


@pytest.mark.req("ING-3")
def test_list_filters_by_timeliness_status_and_kind(officer_client, catalogue):
    assert _listed(officer_client, timeliness="late") == {
        catalogue["old_late"].pk,
        catalogue["photo"].pk,
    }
    assert _listed(officer_client, timeliness="unknown") == {catalogue["no_time"].pk}
    assert catalogue["today"].pk in _listed(officer_client, timeliness="on_time")
    assert _listed(officer_client, media_kind="photo") == {catalogue["photo"].pk}
    assert _listed(officer_client, status="flagged") == set()
    assert len(_listed(officer_client, status="ok")) == 4


def test_list_sorts_and_paginates(officer_client, officer, catalogue):
    response = officer_client.get(reverse("web:recording_list"), {"sort": "start_time"})
    dated = [r.pk for r in response.context["rows"] if r.start_time is not None]
    assert dated == [catalogue["old_late"].pk, catalogue["photo"].pk, catalogue["today"].pk]
    for _ in range(24):
        make_recording(officer)
    first = officer_client.get(reverse("web:recording_list"))
    assert len(first.context["rows"]) == 25
    assert first.context["has_next"]
    assert first.context["total"] == 28
    second = officer_client.get(reverse("web:recording_list"), {"page": 2})
    assert len(second.context["rows"]) == 3
    assert not second.context["has_next"]
    assert not set(r.pk for r in first.context["rows"]) & set(r.pk for r in second.context["rows"])


def test_list_shows_capped_count(officer_client, officer, monkeypatch):
    import core.querysets

    monkeypatch.setattr(core.querysets, "COUNT_CAP", 2)
    for _ in range(3):
        make_recording(officer)
    text = officer_client.get(reverse("web:recording_list")).content.decode()
    assert "共 2+ 条" in text


def test_list_htmx_request_returns_results_fragment(officer_client, catalogue):
    response = officer_client.get(
        reverse("web:recording_list"),
        {"party": "某药房"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    text = response.content.decode()
    assert "<html" not in text
    assert "某药房" in text


def test_list_invalid_period_is_a_form_error_not_a_500(officer_client, catalogue):
    response = officer_client.get(
        reverse("web:recording_list"), {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert response.context["rows"] == []  # an unusable filter lists nothing, never everything


def test_list_query_count_is_bounded_regardless_of_rows(
    officer_client, officer, django_assert_max_num_queries
):
    from ingest.services import store_derivative_bytes
    from recordings.choices import DerivativeKind

    def add(n):
        for _ in range(n):
            rec = make_recording(officer, officer_ids=[officer.pk])
            store_derivative_bytes(
                rec,
                actor=None,
                kind=DerivativeKind.POSTER,
                source=f"poster-{rec.pk}".encode(),
                mime_type="image/jpeg",
            )

    # 13 for the page (one: whether the officer holds a grant, access.rules.restrict) + 2 for the
    # session that keeps the page's poster token (ACC-2)
    add(2)
    with django_assert_max_num_queries(15):
        officer_client.get(reverse("web:recording_list"))
    add(20)
    with django_assert_max_num_queries(15):
        response = officer_client.get(reverse("web:recording_list"))
    assert len(response.context["rows"]) == 22
    assert response.content.decode().count("/derivatives/poster") == 22


@pytest.mark.req("ACC-2")
def test_detail_page_registers_view_and_shows_panels(officer_client, officer, catalogue):
    rec = catalogue["today"]
    response = officer_client.get(reverse("web:recording_detail", args=[rec.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    entry = AccessEntry.objects.get(recording=rec)
    assert entry.action == "view" and entry.person == officer
    assert Event.objects.filter(action=EventCode.VIEWED, subject_id=str(rec.pk)).count() == 1
    assert rec.original.sha256 in text and rec.original.sm3 in text
    assert f"{rec.original.size:,}" in text
    assert "编目" in text  # custody history shows the catalogue event
    assert "下载原始文件" in text


def test_history_and_access_panels_refresh_without_registering(officer_client, catalogue):
    rec = catalogue["today"]
    history = officer_client.get(reverse("web:recording_history", args=[rec.pk]))
    assert history.status_code == 200 and "编目" in history.content.decode()
    access = officer_client.get(reverse("web:recording_access_log", args=[rec.pk]))
    assert access.status_code == 200
    assert not AccessEntry.objects.filter(recording=rec).exists()


@pytest.mark.req("ING-4", "ACC-5")
def test_metadata_edit_writes_custody_event_with_before_and_after(
    officer_client, officer, catalogue
):
    rec = catalogue["today"]
    url = reverse("web:recording_edit", args=[rec.pk])
    data = {
        "device_serial": rec.device_serial,
        "place": "双桥区新华路1号",
        "case_number": rec.case_number,
        "party": "某某食品有限公司（分店）",
        "handler": "",
        "matter_type": "现场检查",
        "notes": "",
        "start_time": timezone.localtime(rec.start_time).strftime("%Y-%m-%dT%H:%M:%S"),
        "end_time": timezone.localtime(rec.end_time).strftime("%Y-%m-%dT%H:%M:%S")
        if rec.end_time
        else "",
    }
    response = officer_client.post(url, data)
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.place == "双桥区新华路1号"
    assert rec.party == "某某食品有限公司（分店）"
    event = Event.objects.get(action=EventCode.METADATA_CHANGED, subject_id=str(rec.pk))
    assert event.actor_id == officer.pk
    assert event.details["before"] == {"place": "", "party": "某某食品有限公司", "matter_type": ""}
    assert event.details["after"] == {
        "place": "双桥区新华路1号",
        "party": "某某食品有限公司（分店）",
        "matter_type": "现场检查",
    }
    page = officer_client.get(reverse("web:recording_detail", args=[rec.pk])).content.decode()
    assert "某某食品有限公司 → 某某食品有限公司（分店）" in page


@pytest.mark.req("ING-4")
def test_metadata_edit_invalid_times_rerenders_with_error(officer_client, catalogue):
    rec = catalogue["today"]
    response = officer_client.post(
        reverse("web:recording_edit", args=[rec.pk]),
        {
            "start_time": "2026-05-02T10:00:00",
            "end_time": "2026-05-02T09:00:00",
        },
    )
    assert response.status_code == 400
    assert "结束时间不能早于开始时间" in response.content.decode()
    assert not Event.objects.filter(action=EventCode.METADATA_CHANGED).exists()


def test_metadata_edit_denied_outside_edit_scope_is_404(client, catalogue, unit):
    head = make_person("department_head", department=unit.department)
    client.force_login(head)
    rec = catalogue["today"]
    assert client.get(reverse("web:recording_detail", args=[rec.pk])).status_code == 200
    response = client.post(reverse("web:recording_edit", args=[rec.pk]), {"place": "x"})
    assert response.status_code == 404
    assert not Event.objects.filter(action=EventCode.METADATA_CHANGED).exists()


@pytest.mark.req("ING-3")
def test_late_reason_form_records_reason_and_event(officer_client, officer, catalogue):
    rec = catalogue["old_late"]
    assert rec.on_time is False
    page = officer_client.get(reverse("web:recording_detail", args=[rec.pk])).content.decode()
    assert "登记逾期原因" in page
    url = reverse("web:recording_late_reason", args=[rec.pk])
    missing_text = officer_client.post(url, {"late_reason": "other", "late_reason_text": ""})
    assert missing_text.status_code == 400
    assert "须填写说明" in missing_text.content.decode()
    response = officer_client.post(
        url, {"late_reason": "off_site", "late_reason_text": "异地执法返回后上传"}
    )
    assert response.status_code == 302
    rec.refresh_from_db()
    assert (rec.late_reason, rec.late_reason_text) == ("off_site", "异地执法返回后上传")
    assert rec.on_time is False  # a reason never un-flags the lateness
    event = Event.objects.get(action=EventCode.LATE_REASON_GIVEN, subject_id=str(rec.pk))
    assert event.actor_id == officer.pk
    assert event.details["after"]["late_reason"] == "off_site"


@pytest.mark.req("ING-3")
def test_late_reason_on_time_recording_is_friendly_message_not_500(officer_client, catalogue):
    rec = catalogue["today"]
    response = officer_client.post(
        reverse("web:recording_late_reason", args=[rec.pk]),
        {"late_reason": "off_site"},
        follow=True,
    )
    assert response.status_code == 200
    assert "该记录按时上传，无需说明逾期原因" in response.content.decode()


def test_home_shows_officer_counts(officer_client, catalogue):
    response = officer_client.get(reverse("web:home"))
    counts = response.context["counts"]
    assert counts["total"] == (4, False)
    assert counts["late_no_reason"] == (2, False)
    assert counts["today"] == (4, False)


def test_home_for_administrator_shows_system_counts(client, admin, catalogue):
    from storage.models import FixityCheck
    from storage.services import run_fixity_check

    run_fixity_check(catalogue["today"].original, trigger="manual")
    client.force_login(admin)
    response = client.get(reverse("web:home"))
    assert response.context["objects"]["originals"] == 4
    assert response.context["last_check"] == FixityCheck.objects.get()
    assert "通过" in response.content.decode()
    auditor = make_person("audit_admin", department=admin.department)
    client.force_login(auditor)
    response = client.get(reverse("web:home"))
    assert response.context["chain"]["length"] == Event.objects.count()


def test_upload_page_offers_only_own_unit_and_its_officers(
    officer_client, officer, unit, catalogue
):
    other_unit = make_unit()
    stranger = make_person("officer", unit=other_unit, full_name="外人")
    response = officer_client.get(reverse("web:upload"))
    text = response.content.decode()
    assert response.status_code == 200
    form = response.context["form"]
    assert [pk for pk, _label in form.fields["unit_id"].choices] == [unit.pk]
    officer_ids = {pk for pk, _label in form.fields["officer_ids"].choices}
    assert officer.pk in officer_ids and catalogue["colleague"].pk in officer_ids
    assert stranger.pk not in officer_ids
    assert other_unit.name not in text
    assert 'data-endpoint="/api/v1/uploads/"' in text



def test_unknown_page_renders_chinese_404(officer_client):
    response = officer_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面或记录不存在" in response.content.decode()


def test_catalogue_lists_exactly_the_officers_recordings(officer_client, catalogue):
    make_recording(make_person("officer", unit=make_unit()))  # another unit's: not listed
    response = officer_client.get(reverse("web:recording_list"))
    assert response.status_code == 200
    assert response.context["total"] == 4
    assert {r.pk for r in response.context["rows"]} == {
        catalogue[k].pk for k in ("today", "old_late", "photo", "no_time")
    }


def test_domain_error_in_a_page_is_a_friendly_message_not_a_500(officer_client, monkeypatch):
    import web.views.recordings as views
    from recordings.errors import MetadataInvalidError

    def refuse(*args, **kwargs):
        raise MetadataInvalidError("筛选条件无效，请重新选择。")

    monkeypatch.setattr(views, "list_recordings", refuse)
    response = officer_client.get(reverse("web:recording_list"))
    assert response.status_code == 400
    assert "筛选条件无效，请重新选择。" in response.content.decode()


def test_server_error_page_renders_without_request_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "系统内部错误" in html
    assert "原始记录不受影响" in html
