"""/api/v1/custody/verify: the audit administrator re-verifies the Merkle log (ACC-5, ACC-6)."""

from __future__ import annotations

import pytest

from api.tests.base import ApiTestBase, assert_error, bearer, ok_json
from custody import tree
from custody.choices import EventCode
from custody.models import ChainVerification, Event, Leaf
from custody.sequencer import integrate_all
from custody.services import record_event

URL = "/api/v1/custody/verify"


class TestCustodyVerify(ApiTestBase):
    @pytest.mark.req("ACC-5", "INT-1")
    def test_audit_admin_gets_intact_chain(self, client, world):
        headers = bearer(world.auditor)
        before = Event.objects.count()
        last_before = Event.objects.order_by("-pk").first()
        body = ok_json(client.get(URL, **headers))
        assert body["intact"] is True and body["status"] == "pass" and body["findings"] == []
        # it integrated and checked every event before it: the tree holds them all ...
        assert body["total_events"] == body["tree_size"] == before == tree.tree_size()
        assert body["root"] == tree.root_at(before).hex()
        assert Leaf.objects.get(index=before - 1).event_id == last_before.pk
        # ... and left its result: a stored verification and one event after the checked range
        stored = ChainVerification.objects.get()
        assert (stored.status, stored.actor_id, stored.trigger) == ("pass", world.auditor.pk, "api")
        assert (stored.last_seq, stored.last_hash) == (body["tree_size"], body["root"])
        after = Event.objects.order_by("-pk").first()
        assert Event.objects.count() == before + 1 and after.pk > last_before.pk
        assert after.action == "custody.chain_verified" and after.actor_id == world.auditor.pk
        assert not Leaf.objects.filter(event=after).exists()  # queued: the next leaf, not a checked one
        integrate_all()
        assert Leaf.objects.get(event=after).index == before

    @pytest.mark.req("ACC-5")
    def test_broken_chain_reported(self, client, world, monkeypatch):
        import custody.checks as checks

        for i in range(2):
            record_event(EventCode.LOGIN_FAILED, actor=None, subject=("account", f"u{i}"), details={"i": i})
        target = Event.objects.order_by("pk").values_list("pk", flat=True)[1]
        real = checks.entry_leaf_hash  # the checker's re-derivation of one leaf disagrees with its node
        monkeypatch.setattr(
            checks, "entry_leaf_hash", lambda row, subjects: b"\0" * 32 if row["id"] == target else real(row, subjects)
        )
        body = ok_json(client.get(URL, **bearer(world.auditor)))
        assert body["intact"] is False and body["status"] == "fail"
        first = body["findings"][0]
        assert (first["seq"], first["problem"], first["leaf"]) == (target, "altered", 1)
        assert f"第 {target} 号事件" in first["message"]
        # the rest are the stored nodes above that leaf, which no longer match the rebuilt tree
        assert {f["problem"] for f in body["findings"][1:]} <= {"node_altered"}
        assert ChainVerification.objects.get().first_broken_seq == target

    @pytest.mark.req("ACC-6")
    @pytest.mark.parametrize("who", ["admin", "officer", "custodian"])
    def test_others_refused_403(self, client, world, who):
        assert_error(client.get(URL, **bearer(getattr(world, who))), 403, "permission_denied")

    @pytest.mark.req("ACC-5")
    def test_without_auth_401(self, client, world):
        assert_error(client.get(URL), 401, "unauthenticated")
