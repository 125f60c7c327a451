"""Every page reads in Simplified Chinese, whatever language the browser asks for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import make_person, make_unit


@pytest.mark.django_db
def test_english_browser_still_gets_chinese_password_rules(client):
    person = make_person("officer", unit=make_unit())
    person.must_change_password = True
    person.save(update_fields=["must_change_password"])
    client.force_login(person)
    body = client.get(reverse("web:password_change"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Your password" not in body
    assert "密码" in body and "10" in body  # Django's own validator help, translated
