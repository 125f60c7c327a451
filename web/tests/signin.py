"""What the sign-in tests share (ACC-6): the password they use, the pages of the two steps, the
lockout limits they assume, an officer and a department head, the password step itself.

A module uses the fixtures by importing them (``from web.tests.signin import head_fixture,
limits_fixture, officer_fixture  # noqa: F401``); they are named ``head``, ``limits`` (autouse)
and ``officer`` there. This ``officer`` has a password, unlike the conftest one."""

from __future__ import annotations

from binascii import unhexlify
from datetime import timedelta

import pytest
from django.urls import reverse

from core.testing import make_person, totp_code_for_key
from orgs.twofactor import SETUP_KEY

PASSWORD = "Correct-horse-2026"
LOGIN, VERIFY, ENROL = reverse("web:login"), reverse("web:login_verify"), reverse("web:security_totp")
HOME, SECURITY = reverse("web:home"), reverse("web:security_overview")


@pytest.fixture(autouse=True, name="limits")
def limits_fixture(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture(name="officer")
def officer_fixture(unit):
    return make_person("officer", unit=unit, username="zhangsan", password=PASSWORD)


@pytest.fixture(name="head")
def head_fixture(unit):
    return make_person("department_head", department=unit.department, username="machao", password=PASSWORD)


def password_step(client, username, password=PASSWORD, **extra):
    """The first step of signing in: the form with username and password."""
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def enrol_through_page(client) -> list[str]:
    """Enrol through the page: read the offered key, answer with its code; the recovery codes."""
    page = client.get(ENROL)
    assert page.status_code == 200
    key = unhexlify(client.session[SETUP_KEY])
    code, _t = totp_code_for_key(key)
    response = client.post(ENROL, {"code": code})
    assert response.status_code == 200, response.content.decode()
    return response.context["codes"]
