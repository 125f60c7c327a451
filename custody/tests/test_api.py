"""/api/v1/custody/verify: the audit administrator re-verifies the hash chain (ACC-5, ACC-6)."""

from __future__ import annotations

import pytest

from api.tests.base import ApiTestBase, assert_error, bearer, ok_json
from custody.models import ChainVerification, Event

URL = "/api/v1/custody/verify"


class TestCustodyVerify(ApiTestBase):
    @pytest.mark.req("ACC-5", "INT-1")
    def test_audit_admin_gets_intact_chain(self, client, world):
        headers = bearer(world.auditor)
        before = Event.objects.order_by("-seq").first()
        body = ok_json(client.get(URL, **headers))
        assert body["intact"] is True and body["status"] == "pass" and body["findings"] == []
        # it checked every event before it ...
        assert body["total_events"] == before.seq
        assert (body["last_seq"], body["last_hash"]) == (before.seq, before.hash)
        # ... and left its result: a stored verification and one event after the checked range
        stored = ChainVerification.objects.get()
        assert (stored.status, stored.actor_id, stored.trigger) == ("pass", world.auditor.pk, "api")
        after = Event.objects.order_by("-seq").first()
        assert after.seq == before.seq + 1 and after.action == "custody.chain_verified"
        assert after.actor_id == world.auditor.pk

    @pytest.mark.req("ACC-5")
    def test_broken_chain_reported(self, client, world, monkeypatch):
        import custody.checks as checks

        real = checks.event_hash
        monkeypatch.setattr(
            checks, "event_hash", lambda row: "0" * 64 if row["seq"] == 2 else real(row)
        )
        body = ok_json(client.get(URL, **bearer(world.auditor)))
        assert body["intact"] is False
        assert [(f["seq"], f["problem"]) for f in body["findings"]] == [(2, "altered")]
        assert "第 2 号事件" in body["findings"][0]["message"]

    @pytest.mark.req("ACC-6")
    @pytest.mark.parametrize("who", ["admin", "officer", "custodian"])
    def test_others_refused_403(self, client, world, who):
        assert_error(client.get(URL, **bearer(getattr(world, who))), 403, "permission_denied")

    @pytest.mark.req("ACC-5")
    def test_without_auth_401(self, client, world):
        assert_error(client.get(URL), 401, "unauthenticated")
