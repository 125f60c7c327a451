"""The log's state and proofs through /api/v1/custody, checked by independent code (ACC-5, EVD-2).

Proofs are verified with the standalone verifier's RFC 9162 code (custody/verifier/tlog.py),
a bundle with the verifier run as the disc runs it (``python3 -I custody/verifier``), and a
witness polls the real API, co-signs and publishes back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from api.tests.base import assert_error, bearer, ok_json
from core.testing import make_person, make_recording
from custody.checkpoints import make_checkpoint
from custody.choices import EventCode
from custody.keys import ensure_log_keys
from custody.models import Cosignature, Event, Leaf, PendingEvent
from custody.sequencer import integrate_all
from custody.services import erase_details, record_event
from custody.testing import ClientTransport, registered_witness
from custody.verifier import note, tlog

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-5")]
VERIFIER_DIR = Path(__file__).resolve().parents[1] / "verifier"


@pytest.fixture
def auditor():
    ensure_log_keys()
    return make_person("audit_admin", full_name="审计员")


def _events(n: int, actor=None):
    for i in range(n):
        record_event(EventCode.VIEWED, actor=actor, subject=("recording", "7"), details={"i": i, "purpose": "核查"})
    integrate_all()


def test_checkpoint_and_consistency_proof_verify_independently(client, auditor):
    headers = bearer(auditor)
    _events(5)
    first = make_checkpoint()
    _events(6)
    body = ok_json(client.post("/api/v1/custody/checkpoints", **headers), 201)
    latest = note.parse_checkpoint(body["checkpoint"])
    assert latest.size == body["size"] > first.size
    assert ok_json(client.get("/api/v1/custody/checkpoint", **headers))["size"] == latest.size
    proof = ok_json(client.get("/api/v1/custody/proof/consistency",
                               {"first": first.size, "second": latest.size}, **headers))["proof"]
    assert tlog.verify_consistency(first.size, latest.size, bytes.fromhex(first.root), latest.root,
                                   [note.b64decode(p) for p in proof])


def test_inclusion_proof_of_an_event_verifies_against_the_checkpoint(client, auditor):
    headers = bearer(auditor)
    _events(9)
    cp = note.parse_checkpoint(make_checkpoint().note)
    event = Event.objects.filter(action=EventCode.VIEWED).order_by("pk")[4]
    body = ok_json(client.get("/api/v1/custody/proof/inclusion", {"tree_size": cp.size, "event": event.pk}, **headers))
    bundle = json.loads(json.dumps(client.get("/api/v1/custody/bundle", {"subject_type": "recording", "subject_id": "7"},
                                              **headers).json()))
    item = next(e for e in bundle["entries"] if e["event"] == event.pk)
    from custody.verifier.entry import encode_entry

    leaf = tlog.leaf_hash(encode_entry(item["entry"]))
    assert body["leaf_index"] == event.leaf.index == item["leaf_index"]
    assert tlog.verify_inclusion(body["leaf_index"], cp.size, leaf, [note.b64decode(p) for p in body["proof"]], cp.root)


def test_impossible_proofs_are_chinese_400s_and_only_the_auditor_reads(client, auditor):
    headers = bearer(auditor)
    _events(3)
    make_checkpoint()
    assert_error(client.get("/api/v1/custody/proof/consistency", {"first": 0, "second": 2}, **headers), 400, "domain_error")
    assert_error(client.get("/api/v1/custody/proof/consistency", {"first": 2, "second": 99}, **headers), 400, "domain_error")
    assert_error(client.get("/api/v1/custody/proof/inclusion", {"tree_size": 99, "leaf_index": 0}, **headers), 400, "domain_error")
    assert_error(client.get("/api/v1/custody/proof/inclusion", {"tree_size": 3, "leaf_index": 50}, **headers), 404, "not_found")
    officer = make_person("officer")
    for path in ("/api/v1/custody/checkpoint", "/api/v1/custody/bundle?subject_type=recording&subject_id=7"):
        assert_error(client.get(path, **bearer(officer)), 403, "permission_denied")
    assert client.get("/api/v1/custody/checkpoint").status_code == 401


def test_subject_bundle_passes_the_disc_verifier_with_an_erased_event(client, auditor, tmp_path):
    recording = make_recording()
    record_event(EventCode.METADATA_CHANGED, actor=auditor, subject=recording,
                 details={"before": {"party": "某某公司"}, "after": {"party": "某某有限公司"}})
    integrate_all()
    target = Event.objects.filter(action=EventCode.METADATA_CHANGED).get()
    erase_details(target, actor=None, reason="保存期满依法处置", authorization="处置批次 1")
    bundle = client.get("/api/v1/custody/bundle", {"subject_type": "recording", "subject_id": str(recording.pk)},
                        **bearer(auditor)).json()
    assert bundle["format"] == "avrecords-custody-bundle/v1" and bundle["pending"] == 0
    erased = [e for e in bundle["entries"] if "details_erased" in e]
    assert [e["event"] for e in erased] == [target.pk]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([sys.executable, "-I", str(VERIFIER_DIR), str(path), "--json"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    out = json.loads(run.stdout)
    assert run.returncode == 0, out
    statuses = {c["status"] for c in out["checks"]}
    assert "fail" not in statuses and "not-run" not in statuses and "erased" in statuses
    # the platform's SM2 line is a note beside the verified Ed25519 signature, not "not checked"
    assert any(c["status"] == "note" and c["part"] == "signature" for c in out["checks"])
    # one edited value in the bundle and the verifier fails and names the leaf
    item = next(e for e in bundle["entries"] if "details" in e)
    item["entry"]["actor_name"] = "伪造"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([sys.executable, "-I", str(VERIFIER_DIR), str(path), "--json"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 1 and json.loads(run.stdout)["first_bad_leaf"] == item["leaf_index"]


def test_witness_polls_the_api_co_signs_and_the_platform_stores_it(client, auditor, tmp_path, settings):
    witness = registered_witness(tmp_path, settings)
    transport = ClientTransport(client, bearer(auditor))
    _events(4)
    make_checkpoint()
    outcome = witness.poll(transport)
    assert outcome.status == "cosigned", outcome.message
    _events(3)
    second = make_checkpoint()
    outcome = witness.poll(transport)
    assert outcome.status == "cosigned" and witness.held_size() == second.size
    stored = Cosignature.objects.get(checkpoint=second)
    assert stored.witness_name == "audit.example.gov.cn/witness"
    assert Event.objects.filter(action=EventCode.CHECKPOINT_COSIGNED).count() == 2
    latest = client.get("/api/v1/custody/checkpoint", **bearer(auditor)).json()
    assert latest["cosignatures"] == 1 and stored.line in latest["checkpoint"]


def test_a_forged_or_unknown_cosignature_is_refused(client, auditor, tmp_path, settings):
    _events(2)
    cp = make_checkpoint()
    headers = bearer(auditor)
    url = f"/api/v1/custody/checkpoints/{cp.size}/cosignatures"
    line = "— someone.example/witness " + note.b64encode(b"\x01\x02\x03\x04" + bytes(72))
    assert_error(client.post(url, json.dumps({"cosignature": line}), content_type="application/json", **headers),
                 400, "domain_error")
    registered_witness(tmp_path, settings, name="someone.example/witness")
    assert_error(client.post(url, json.dumps({"cosignature": line}), content_type="application/json", **headers),
                 400, "domain_error")
    assert_error(client.post("/api/v1/custody/checkpoints/999/cosignatures", json.dumps({"cosignature": line}),
                             content_type="application/json", **headers), 404, "not_found")
    assert not Cosignature.objects.exists()


def test_events_join_the_tree_after_commit_in_commit_order(django_capture_on_commit_callbacks):
    """The sequencer runs after the business transaction commits (Huey inline in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            first = record_event(EventCode.VIEWED, actor=None, subject=("recording", "1"))
            assert PendingEvent.objects.filter(event=first).exists() and not Leaf.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        second = record_event(EventCode.VIEWED, actor=None, subject=("recording", "1"))
    assert list(Leaf.objects.order_by("index").values_list("event_id", flat=True)) == [first.pk, second.pk]
    assert not PendingEvent.objects.exists()


def test_a_rolled_back_change_leaves_no_event_and_no_leaf():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(EventCode.VIEWED, actor=None, subject=("recording", "1"))
        raise RuntimeError("business change failed")
    assert not Event.objects.exists() and not PendingEvent.objects.exists()
    integrate_all()
    assert not Leaf.objects.exists()


def test_a_second_integration_while_one_runs_steps_aside_quietly():
    """Kicks that overlap a running integration return at once (no error, no warning); the
    running one, or the next kick, integrates their events."""
    from core.testing import lock_held_elsewhere
    from custody.tasks import INTEGRATE_LOCK, integrate_log

    record_event(EventCode.VIEWED, actor=None, subject=("recording", "1"))
    with lock_held_elsewhere(INTEGRATE_LOCK):
        integrate_log()
        assert PendingEvent.objects.count() == 1 and not Leaf.objects.exists()
    integrate_log()
    assert not PendingEvent.objects.exists() and Leaf.objects.count() == 1


def test_details_edited_before_the_sequencer_ran_are_found():
    """The pure checker needs no leaf to see an edited details row of a queued event."""
    from django.db import connection

    from custody.checks import check_custody_chain

    event = record_event(EventCode.METADATA_CHANGED, actor=None, subject=("recording", "1"),
                         details={"before": {"party": "某某公司"}, "after": {"party": "某某有限公司"}})
    assert check_custody_chain() == []
    trigger = "custody_eventdetails_no_update"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE custody_eventdetails DISABLE TRIGGER {trigger}")
        else:
            cursor.execute(f"DROP TRIGGER {trigger}")
        cursor.execute("UPDATE custody_eventdetails SET content = %s WHERE event_id = %s",
                       [json.dumps({"before": {"party": "别的公司"}, "after": {"party": "某某有限公司"}}), event.pk])
    assert [(f.problem, f.seq) for f in check_custody_chain()] == [("details_altered", event.pk)]
