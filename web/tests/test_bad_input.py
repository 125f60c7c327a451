"""Bad input on the catalogue pages: a clear 4xx with the reason shown, never a 500 and
never a silently ignored filter (issue 6; ING-4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.testing import make_recording
from recordings.models import Recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def recording(officer):
    return make_recording(
        officer, case_number="双市监处罚〔2026〕7号", start_time=timezone.now() - timedelta(hours=1)
    )


@pytest.mark.req("ING-4")
@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"date_from": "1900-01-01", "date_to": "9999-12-31"},
        {"date_from": "2026-02-30"},
        {"unit": "9999999999999999999999999"},
        {"officer": "-1"},
    ],
)
def test_unusable_filter_values_are_refused_and_list_nothing(officer_client, recording, params):
    response = officer_client.get(reverse("web:recording_list"), params)
    assert response.status_code == 400
    assert response.context["rows"] == []
    assert "筛选条件有误" in response.content.decode()


@pytest.mark.req("ING-4")
def test_over_long_search_says_so_instead_of_listing_everything(officer_client, recording):
    response = officer_client.get(reverse("web:recording_list"), {"q": "案" * 3000})
    assert response.status_code == 400
    assert response.context["rows"] == []
    text = response.content.decode()
    assert "最多 100 个字符" in text and "当前 3000 个" in text


@pytest.mark.req("ING-4")
def test_over_long_search_through_htmx_shows_the_error_in_the_results(officer_client, recording):
    response = officer_client.get(
        reverse("web:recording_list"),
        {"q": "案" * 3000},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    assert response.status_code == 200  # htmx swaps only 2xx
    assert "筛选条件有误" in response.content.decode()
    assert response.context["rows"] == []


@pytest.mark.req("ING-4")
def test_valid_bounded_dates_still_filter(officer_client, recording):
    today = timezone.localdate()
    response = officer_client.get(
        reverse("web:recording_list"), {"date_from": "1970-01-01", "date_to": today.isoformat()}
    )
    assert response.status_code == 200
    assert [r.pk for r in response.context["rows"]] == [recording.pk]


def test_out_of_range_id_in_a_page_url_is_not_found(officer_client):
    response = officer_client.get("/recordings/99999999999999999999999999/")
    assert response.status_code == 404


@pytest.mark.req("ING-4")
def test_edit_url_is_loadable_with_the_form_open(officer_client, recording):
    response = officer_client.get(reverse("web:recording_edit", args=[recording.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="edit"' in text and 'name="case_number"' in text


@pytest.mark.req("ING-4")
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("case_number", "号" * 5000, "最多 100 个字符"),
        ("start_time", "1900-01-01T08:00", "日期须在 1970-01-01 至 2099-12-31 之间"),
        ("start_time", "1985-06-01T08:00", "时间不能早于"),
        ("start_time", "9999-12-31T23:59", "日期须在"),
        ("end_time", "2099-12-31T23:59", "时间不能晚于记录的接收时间"),
    ],
)
def test_edit_errors_are_shown_next_to_their_field_with_the_form_open(
    officer_client, recording, field, value, message
):
    url = reverse("web:recording_edit", args=[recording.pk])
    data = {name: "" for name in ("device_serial", "place", "party", "handler", "matter_type", "notes")}
    data.update(case_number=recording.case_number, start_time="", end_time="")
    data[field] = value
    response = officer_client.post(url, data)
    assert response.status_code == 400
    form = response.context["edit_form"]
    assert message in " ".join(form.errors[field])
    text = response.content.decode()
    assert 'id="edit"' in text  # open, not collapsed in a modal
    assert f'id="id_{field}_error"' in text and message in text
    unchanged = Recording.objects.get(pk=recording.pk)
    assert unchanged.case_number == recording.case_number
    assert unchanged.start_time == recording.start_time
    # the page the browser is left on can be reloaded
    assert officer_client.get(url).status_code == 200


@pytest.mark.req("ING-4")
def test_edit_end_before_start_is_shown_on_the_end_field(officer_client, recording):
    url = reverse("web:recording_edit", args=[recording.pk])
    start = timezone.localtime(recording.start_time)
    response = officer_client.post(
        url,
        {
            "case_number": recording.case_number,
            "start_time": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "end_time": (start - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    assert response.status_code == 400
    assert "结束时间不能早于开始时间" in " ".join(response.context["edit_form"].errors["end_time"])
