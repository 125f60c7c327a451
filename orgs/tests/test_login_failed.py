"""Failed sign-in events (issue 7): an anonymous client cannot write arbitrary text into the
custody log through the username it tries. The name is normalised and capped, and anything that
is not a plausible username is stored as a marker plus a SHA-256 prefix."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from core.testing import make_person, make_unit
from custody.checks import check_custody_chain
from custody.choices import EventCode
from custody.models import Event
from orgs.services import UNRECOGNISED_USERNAME, USERNAME_MAX, OrgsError, attempted_username, log_in

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]


def _fail(rf, username: str) -> Event:
    request = rf.post("/login")
    request.session = SessionStore()
    with pytest.raises(OrgsError):
        log_in(request, username=username, password="wrong-password")
    return Event.objects.filter(action=EventCode.LOGIN_FAILED).order_by("-pk").first()


def _stored_text(event: Event) -> str:
    return " ".join([event.actor_name, event.subject_id, str(event.details)])


def _prefix(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def test_typo_username_is_kept_normalised(rf):
    make_person("officer", unit=make_unit(), username="zhangsan", password="Correct-horse-2026")
    event = _fail(rf, "  ZhangSna ")
    assert event.actor_name == "zhangsna"
    assert (event.subject_type, event.subject_id) == ("account", "zhangsna")
    assert event.details["username"] == "zhangsna"
    assert event.details["sha256"] == ""


def test_fullwidth_username_is_nfkc_normalised(rf):
    event = _fail(rf, "ｚｈａｎｇｓａｎ")
    assert event.subject_id == event.details["username"] == "zhangsan"


def test_nul_bytes_never_reach_the_log(rf):
    raw = "admin\x00'; DROP TABLE custody_event; --"
    event = _fail(rf, raw)
    assert "\x00" not in _stored_text(event)
    assert "DROP" not in _stored_text(event).upper()
    assert event.actor_name == event.details["username"] == UNRECOGNISED_USERNAME
    assert event.subject_id == f"sha256:{_prefix(raw)}" == f"sha256:{event.details['sha256']}"
    assert check_custody_chain() == []


def test_nul_inside_an_otherwise_plausible_name_is_dropped(rf):
    event = _fail(rf, "li\x00si")
    assert event.subject_id == "lisi"


@pytest.mark.parametrize("mark", ["\u202e", "\u200f", "\u200e", "\u2066", "\u200b", "\ufeff"])
def test_bidi_and_format_marks_are_stripped(rf, mark):
    event = _fail(rf, f"{mark}wang{mark}wu")
    assert mark not in _stored_text(event)
    assert event.subject_id == event.actor_name == "wangwu"


def test_rtl_override_spoof_with_other_text_is_a_marker(rf):
    raw = "\u202e查看了录像 伪造的记录"
    event = _fail(rf, raw)
    assert "伪造" not in _stored_text(event) and "\u202e" not in _stored_text(event)
    assert event.details["username"] == UNRECOGNISED_USERNAME
    assert event.details["sha256"] == _prefix(raw)


def test_ten_thousand_characters_are_a_capped_marker(rf):
    raw = "a" * 10_000
    event = _fail(rf, raw)
    assert len(_stored_text(event)) < 500
    assert event.actor_name == UNRECOGNISED_USERNAME
    assert event.subject_id == f"sha256:{_prefix(raw)}"


def test_longest_real_username_is_kept():
    name = "u" * USERNAME_MAX
    assert attempted_username(name) == (name, "")
    assert attempted_username(name + "u")[0] == UNRECOGNISED_USERNAME


def test_newlines_and_spaces_inside_are_a_marker():
    assert attempted_username("zhang\nsan")[0] == "zhangsan"  # a control character: dropped
    assert attempted_username("zhang san")[0] == UNRECOGNISED_USERNAME
    assert attempted_username("张三")[0] == "张三"  # Django usernames may be Unicode letters
    assert attempted_username("") == ("", "")
    assert attempted_username("\u200b") == (UNRECOGNISED_USERNAME, _prefix("\u200b"))


def test_through_the_sign_in_page(client):
    response = client.post(reverse("web:login"), {"username": "\u202eZhao\u200fLiu", "password": "x"})
    assert response.status_code == 400
    event = Event.objects.get(action=EventCode.LOGIN_FAILED)
    assert event.subject_id == event.actor_name == "zhaoliu"
