"""Password rules and idle sessions of a level-3 system (ACC-6, issue 9)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.testing import make_person
from custody.choices import EventCode
from custody.models import Event
from orgs.middleware import SEEN_KEY
from orgs.models import PasswordHistory

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]

FIRST = "First-secret-2026"


@pytest.fixture
def person(unit):
    return make_person("officer", unit=unit, username="zhangsan", password=FIRST)


def _change(client, old, new):
    return client.post(reverse("web:password_change"),
                       {"old_password": old, "new_password1": new, "new_password2": new})


def _sign_in(client, password=FIRST):
    return client.post(reverse("web:login"), {"username": "zhangsan", "password": password})


@pytest.mark.parametrize("simple", ["abcdefghijkl", "abcdefgh1234", "ABCDEFGH-XYZ"])
def test_a_password_needs_three_kinds_of_character(client, person, simple):
    client.force_login(person)
    response = _change(client, FIRST, simple)
    assert response.status_code == 400
    assert "至少三类" in response.content.decode()


def test_none_of_the_last_five_passwords_comes_back(client, person, settings):
    settings.PASSWORD_HISTORY = 5
    client.force_login(person)
    passwords = [FIRST] + [f"Next-secret-{n}x" for n in range(1, 6)]
    for old, new in zip(passwords, passwords[1:], strict=False):
        assert _change(client, old, new).status_code == 302
    current = passwords[-1]
    for old in passwords[-5:]:  # the current one and the four before it
        response = _change(client, current, old)
        assert response.status_code == 400 and "最近 5 次" in response.content.decode(), old
    assert _change(client, current, FIRST).status_code == 302  # six changes ago: allowed again
    assert PasswordHistory.objects.filter(person=person).count() == 5  # no more kept


def test_a_password_older_than_its_maximum_age_must_be_changed_at_sign_in(client, person, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    type(person).objects.filter(pk=person.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    response = _sign_in(client)
    assert response["Location"] == reverse("web:password_change")
    assert client.get(reverse("web:home"))["Location"] == reverse("web:password_change")
    assert _change(client, FIRST, "Fresh-secret-2027").status_code == 302
    person.refresh_from_db()
    assert not person.must_change_password
    assert timezone.now() - person.password_changed_at < timedelta(minutes=1)


def test_a_younger_password_signs_in_as_usual(client, person, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    type(person).objects.filter(pk=person.pk).update(password_changed_at=timezone.now() - timedelta(days=89))
    assert _sign_in(client)["Location"] == reverse("web:home")


def test_an_idle_session_is_signed_out_at_its_next_request(client, person, settings):
    settings.SESSION_IDLE_MINUTES = 30
    assert _sign_in(client).status_code == 302
    assert client.get(reverse("web:home")).status_code == 200
    session = client.session
    session[SEEN_KEY] = time.time() - 31 * 60
    session.save()
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and reverse("web:login") in response["Location"]
    page = client.get(response["Location"])
    assert "长时间未操作，已自动退出登录" in page.content.decode()
    event = Event.objects.filter(action=EventCode.LOGOUT).latest("pk")
    assert event.actor_id == person.pk and event.details["reason"] == "长时间未操作，自动退出登录"


def test_an_active_session_stays(client, person, settings):
    settings.SESSION_IDLE_MINUTES = 30
    _sign_in(client)
    session = client.session
    session[SEEN_KEY] = time.time() - 29 * 60
    session.save()
    assert client.get(reverse("web:home")).status_code == 200


def test_a_password_change_signs_out_every_other_session(client, person):
    from django.test import Client

    other = Client()  # the same person signed in on another computer
    assert other.post(reverse("web:login"), {"username": "zhangsan", "password": FIRST}).status_code == 302
    assert other.get(reverse("web:home")).status_code == 200
    _sign_in(client)
    assert _change(client, FIRST, "Changed-secret-2027").status_code == 302
    assert client.get(reverse("web:home")).status_code == 200  # this session carries on
    response = other.get(reverse("web:home"))
    assert response.status_code == 302 and reverse("web:login") in response["Location"]
