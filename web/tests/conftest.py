"""Fixtures for the web UI tests: a unit, its people, recordings made through real services."""

from __future__ import annotations

import pytest

from core.testing import make_person, make_unit


@pytest.fixture
def unit(db):
    return make_unit()


@pytest.fixture
def officer(unit):
    return make_person("officer", unit=unit, full_name="张三")


@pytest.fixture
def outsider(db):
    return make_person("officer", unit=make_unit(), full_name="外单位人员")


@pytest.fixture
def admin(unit):
    return make_person("system_admin", department=unit.department, full_name="系统管理员")


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client
