"""GET /healthz for load balancers and monitors: 200 while the node can serve, 503 otherwise."""

from __future__ import annotations

import pytest

from core import health
from custody.models import Event
from storage.backends.base import VaultUnavailableError

pytestmark = pytest.mark.django_db


def test_healthy_node_answers_ok_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "vault": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert not Event.objects.exists()  # a probe every few seconds is not an access


def test_unreachable_vault_is_503_and_the_reason_stays_in_the_log(client, monkeypatch, caplog):
    def down():
        raise VaultUnavailableError("无法连接对象存储 http://10.0.0.9:7480")

    monkeypatch.setitem(health.CHECKS, "vault", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "vault": "unavailable"}
    assert "10.0.0.9" not in response.content.decode()
    assert "health check vault failed" in caplog.text


def test_unreachable_database_is_503(client, monkeypatch):
    def down():
        raise OSError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_head_is_answered_and_writes_are_refused(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
