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
    response = client.get(reverse("web:password_change"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your password" not in body
    # Django's own validator help, translated, with the configured minimum length
    assert "你的密码必须包含至少 10 个字符。" in body
