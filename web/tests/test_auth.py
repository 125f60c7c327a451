"""Sign-in, sign-out and forced password change through the web UI (ACC-5 events)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import make_person
from custody.choices import EventCode
from custody.models import Event

pytestmark = pytest.mark.django_db


@pytest.mark.req("ACC-5")
def test_login_success_records_custody_event_and_redirects_home(client, unit):
    person = make_person("officer", unit=unit, username="zhangsan", password="Correct-horse-2026")
    response = client.post(
        reverse("web:login"), {"username": "zhangsan", "password": "Correct-horse-2026"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    event = Event.objects.get(action=EventCode.LOGIN)
    assert event.actor_id == person.pk
    assert event.subject_id == str(person.pk)
    assert client.get(reverse("web:home")).status_code == 200


@pytest.mark.req("ACC-5")
def test_login_failure_records_custody_event_and_shows_chinese_error(client, unit):
    make_person("officer", unit=unit, username="zhangsan", password="Correct-horse-2026")
    response = client.post(reverse("web:login"), {"username": "zhangsan", "password": "wrong"})
    assert response.status_code == 400
    assert "用户名或密码错误" in response.content.decode()
    event = Event.objects.get(action=EventCode.LOGIN_FAILED)
    assert event.actor_id is None
    assert event.subject_id == "zhangsan"
    assert not Event.objects.filter(action=EventCode.LOGIN).exists()


def test_login_next_parameter_is_followed_only_for_local_paths(client, unit):
    make_person("officer", unit=unit, username="lisi", password="Correct-horse-2026")
    data = {"username": "lisi", "password": "Correct-horse-2026", "next": "https://evil.example/"}
    response = client.post(reverse("web:login"), data)
    assert response["Location"] == reverse("web:home")
    client.logout()
    data["next"] = reverse("web:recording_list")
    response = client.post(reverse("web:login"), data)
    assert response["Location"] == reverse("web:recording_list")


@pytest.mark.parametrize("target", ["foo", "web:home", "recordings", "//evil.example/x", "\x00"])
def test_login_next_that_is_not_a_local_path_goes_home_never_500(client, unit, target):
    make_person("officer", unit=unit, username="wangwu", password="Correct-horse-2026")
    data = {"username": "wangwu", "password": "Correct-horse-2026", "next": target}
    response = client.post(reverse("web:login"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    again = client.get(reverse("web:login"), {"next": target})  # already signed in
    assert again.status_code == 302 and again["Location"] == reverse("web:home")


def test_anonymous_page_request_redirects_to_login(client, db):
    response = client.get(reverse("web:recording_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


@pytest.mark.req("ACC-5")
def test_logout_is_post_only_and_records_event(client, officer):
    client.force_login(officer)
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert Event.objects.filter(action=EventCode.LOGOUT, actor_id=officer.pk).count() == 1
    assert client.get(reverse("web:home")).status_code == 302


@pytest.mark.req("ACC-5")
def test_must_change_password_forces_password_page_until_changed(client, unit):
    person = make_person(
        "system_admin", department=unit.department, username="root", password="One-time-2026"
    )
    person.must_change_password = True
    person.save(update_fields=["must_change_password"])
    response = client.post(reverse("web:login"), {"username": "root", "password": "One-time-2026"})
    assert response["Location"] == reverse("web:password_change")
    assert client.get(reverse("web:home"))["Location"] == reverse("web:password_change")
    assert client.get(reverse("web:recording_list"))["Location"] == reverse("web:password_change")

    weak = client.post(
        reverse("web:password_change"),
        {
            "old_password": "One-time-2026",
            "new_password1": "123",
            "new_password2": "123",
        },
    )
    assert weak.status_code == 400
    person.refresh_from_db()
    assert person.must_change_password

    response = client.post(
        reverse("web:password_change"),
        {
            "old_password": "One-time-2026",
            "new_password1": "Brand-new-secret-77",
            "new_password2": "Brand-new-secret-77",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.must_change_password
    assert person.check_password("Brand-new-secret-77")
    assert Event.objects.filter(action=EventCode.PASSWORD_CHANGED, actor_id=person.pk).count() == 1
    # the session survived the change; an administrator then enrols a second factor (ACC-6)
    assert client.get(reverse("web:home"))["Location"] == reverse("web:security_totp")
    assert client.get(reverse("web:security_totp")).status_code == 200


def test_password_change_rejects_wrong_current_password(client, officer):
    client.force_login(officer)
    response = client.post(
        reverse("web:password_change"),
        {
            "old_password": "nope",
            "new_password1": "Brand-new-secret-77",
            "new_password2": "Brand-new-secret-77",
        },
    )
    assert response.status_code == 400
    assert "当前密码不正确" in response.content.decode()
    assert not Event.objects.filter(action=EventCode.PASSWORD_CHANGED).exists()


def test_csrf_failure_page_is_chinese(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("web:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()
