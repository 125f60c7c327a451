"""The standalone verifier, run as an auditor would: ``python3 -I`` in a subprocess, no packages."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from custody import merkle
from custody.verifier import ed25519, note
from custody.verifier.check import check_bundle, first_bad_leaf, overall
from custody.verifier.entry import EntryError, details_digest, encode_entry

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = pathlib.Path(__file__).parent / "vectors"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ORIGIN = "avrecords.example.gov.cn/custody"
LOG_SECRET = bytes(range(32))
WITNESS_SECRET = bytes(range(100, 132))


def _entry(i: int, details: dict, salt: bytes) -> dict:
    return {
        "v": 1,
        "event_uid": f"0190a1b2-0000-7000-8000-{i:012d}",
        "occurred_at_us": 1_767_225_600_000_000 + i,
        "actor_id": 7,
        "actor_name": "张三",
        "action": "recording.viewed",
        "subjects": [["recording", str(100 + i)]],
        "details_digest": details_digest(salt, details),
        "request_id": f"req-{i}",
    }


def _build(n=12, old_size=5, erase=None):
    tree = merkle.MemoryTree()
    items = []
    for i in range(n):
        salt = bytes([i]) * 32
        details = {"case_number": f"案-{i}", "party": "李四"}
        fields = _entry(i, details, salt)
        tree.append_entry(encode_entry(fields))
        item = {"leaf_index": i, "entry": fields, "details": details,
                "details_salt": note.b64encode(salt)}
        if i == erase:
            del item["details"], item["details_salt"]
            item["details_erased"] = {"by_event": n + 40}
        items.append(item)
    for item in items:
        item["inclusion_proof"] = [note.b64encode(h) for h in tree.inclusion_proof(item["leaf_index"])]
    body = note.checkpoint_body(ORIGIN, tree.size, tree.root())
    old_body = note.checkpoint_body(ORIGIN, old_size, tree.root(old_size))
    return {
        "format": "avrecords-custody-bundle/v1",
        "keys": [
            note.VerifierKey.make(ORIGIN, ed25519.public_key(LOG_SECRET)).text(),
            note.VerifierKey.make("witness.audit", ed25519.public_key(WITNESS_SECRET),
                                  note.ALG_COSIGNATURE_V1).text(),
        ],
        "checkpoint": note.sign_checkpoint(body, [(ORIGIN, LOG_SECRET)],
                                           [("witness.audit", WITNESS_SECRET, 1_767_225_999)]),
        "consistency": [{
            "checkpoint": note.sign_checkpoint(old_body, [(ORIGIN, LOG_SECRET)]),
            "proof": [note.b64encode(h) for h in tree.consistency_proof(old_size)],
        }],
        "entries": items,
    }


VERIFIER_DIR = str(ROOT / "custody" / "verifier")
# ``-I`` puts neither the working directory nor the user's site on sys.path, so the module
# form needs the project root inserted by hand; runpy then runs custody/verifier/__main__.py.
AS_MODULE = ("-c", "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
             "runpy.run_module('custody.verifier', run_name='__main__', alter_sys=True)", str(ROOT))


def _run(bundle, tmp_path, *args, target=(VERIFIER_DIR,)):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [PYTHON, "-I", *target, str(path), "--json", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode in (0, 1, 2, 3), proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else None


# --- Ed25519 ------------------------------------------------------------------------------

RFC8032 = json.loads((VECTORS / "rfc8032-ed25519.json").read_text())["vectors"]


@pytest.mark.parametrize("v", RFC8032, ids=lambda v: v["name"])
def test_ed25519_rfc8032_vectors(v):
    secret, public = bytes.fromhex(v["secret_key"]), bytes.fromhex(v["public_key"])
    message, signature = bytes.fromhex(v["message"]), bytes.fromhex(v["signature"])
    assert ed25519.public_key(secret) == public
    assert ed25519.sign(secret, message) == signature
    assert ed25519.verify(public, message, signature)
    for i in (0, 31, 32, 63):
        bad = bytearray(signature)
        bad[i] ^= 0x04
        assert not ed25519.verify(public, message, bytes(bad))
    assert not ed25519.verify(public, message + b"x", signature)
    assert not ed25519.verify(public[:-1] + bytes([public[-1] ^ 1]), message, signature)


def test_ed25519_rejects_non_canonical_s():
    v = RFC8032[0]
    public, signature = bytes.fromhex(v["public_key"]), bytes.fromhex(v["signature"])
    s = int.from_bytes(signature[32:], "little") + ed25519.L
    assert not ed25519.verify(public, b"", signature[:32] + s.to_bytes(32, "little"))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")
def test_ed25519_verifies_what_openssl_signs(tmp_path):
    key, msg, sig = tmp_path / "k.pem", tmp_path / "m", tmp_path / "s"
    msg.write_bytes("保管链检查点\n".encode())
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True)
    subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", msg, "-out", sig], check=True)
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    assert ed25519.verify(der[-32:], msg.read_bytes(), sig.read_bytes())


# --- notes and entries --------------------------------------------------------------------


def test_checkpoint_round_trip_and_key_text():
    key = note.VerifierKey.make(ORIGIN, ed25519.public_key(LOG_SECRET))
    assert note.VerifierKey.parse(key.text()) == key
    text = note.sign_checkpoint(note.checkpoint_body(ORIGIN, 3, b"\x11" * 32), [(ORIGIN, LOG_SECRET)])
    cp = note.parse_checkpoint(text)
    assert (cp.origin, cp.size, cp.root) == (ORIGIN, 3, b"\x11" * 32)
    assert note.verify_signature(cp.body, cp.signatures[0], key)[0]
    assert text.split("\n")[4].startswith("\u2014 " + ORIGIN + " ")


@pytest.mark.parametrize("text", ["", "a\n1\n", "a\n01\nAAAA\n\n— a AAAAAAA=\n", "a\n1\n" + "A" * 44 + "\n"])
def test_malformed_checkpoints_are_rejected(text):
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(text)


def test_entry_encoding_is_canonical_and_strict():
    salt = b"\x00" * 32
    fields = _entry(0, {"b": 1, "a": "x"}, salt)
    data = encode_entry(fields)
    assert data.startswith(b'{"action":"recording.viewed","actor_id":7,"actor_name":"\xe5\xbc\xa0\xe4\xb8\x89"')
    assert encode_entry(dict(reversed(list(fields.items())))) == data
    for bad in ({"occurred_at_us": 1.5}, {"subjects": [["b", "1"], ["a", "1"]]}, {"actor_id": True},
                {"details_digest": "AB" * 32}, {"extra": 1}):
        with pytest.raises(EntryError):
            encode_entry({**fields, **bad})
    with pytest.raises(EntryError):
        details_digest(salt, {"amount": 1.5})


# --- bundles, in process (fast) and under python3 -I (as the auditor runs it) --------------


def test_good_bundle_passes_in_process():
    results = check_bundle(_build())
    assert overall(results) == "pass", [r for r in results if r.status != "pass"]
    parts = {r.part for r in results}
    assert {"checkpoint", "signature", "consistency", "inclusion", "details"} <= parts


def test_good_bundle_passes_under_isolated_python(tmp_path):
    code, out = _run(_build(), tmp_path)
    assert code == 0 and out["result"] == "pass" and out["first_bad_leaf"] is None
    sigs = [c for c in out["checks"] if c["part"] == "signature"]
    assert len(sigs) == 3 and all(c["status"] == "pass" for c in sigs)  # log, witness, older log


def test_module_form_passes_under_isolated_python(tmp_path):
    code, out = _run(_build(), tmp_path, target=AS_MODULE)
    assert code == 0 and out["result"] == "pass"


def test_verifier_runs_as_a_copied_directory(tmp_path):
    disc = tmp_path / "disc" / "verifier-1"
    shutil.copytree(ROOT / "custody" / "verifier", disc, ignore=shutil.ignore_patterns("__pycache__"))
    code, out = _run(_build(), tmp_path, target=(str(disc),))
    assert code == 0 and out["result"] == "pass"


def test_text_output_is_chinese_and_names_the_result(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_build()), encoding="utf-8")
    proc = subprocess.run([PYTHON, "-I", VERIFIER_DIR, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert "通过" in proc.stdout and proc.stdout.strip().endswith("结论 result: pass")


def test_edited_entry_fails_and_names_the_first_bad_leaf(tmp_path):
    bundle = _build()
    bundle["entries"][7]["entry"]["actor_name"] = "王五"
    bundle["entries"][9]["entry"]["occurred_at_us"] += 1
    code, out = _run(bundle, tmp_path)
    assert code == 1 and out["result"] == "fail" and out["first_bad_leaf"] == 7
    failed = {c["leaf_index"] for c in out["checks"] if c["status"] == "fail"}
    assert failed == {7, 9}


def test_edited_details_fail_distinct_from_erasure(tmp_path):
    bundle = _build(erase=3)
    bundle["entries"][5]["details"]["party"] = "某某"
    code, out = _run(bundle, tmp_path)
    assert code == 1 and out["first_bad_leaf"] == 5
    by_leaf = {(c["leaf_index"], c["part"]): c for c in out["checks"]}
    assert by_leaf[(5, "details")]["status"] == "fail"
    assert by_leaf[(5, "inclusion")]["status"] == "pass"
    assert by_leaf[(3, "details")]["status"] == "erased" and "52" in by_leaf[(3, "details")]["message"]
    assert by_leaf[(3, "inclusion")]["status"] == "pass"


def test_erased_details_still_verify(tmp_path):
    code, out = _run(_build(erase=2), tmp_path)
    assert code == 0 and out["result"] == "pass"
    assert [c["status"] for c in out["checks"] if c["leaf_index"] == 2] == ["pass", "erased"]


def test_forged_signature_fails(tmp_path):
    bundle = _build()
    bundle["checkpoint"] = bundle["checkpoint"].replace("\n12\n", "\n13\n", 1)
    code, out = _run(bundle, tmp_path)
    assert code == 1
    assert any(c["part"] == "signature" and c["status"] == "fail" for c in out["checks"])


def test_unknown_key_is_not_run_and_pinned_key_overrides_the_bundle(tmp_path):
    bundle = _build()
    other = note.VerifierKey.make(ORIGIN, ed25519.public_key(b"\x09" * 32)).text()
    code, out = _run(bundle, tmp_path, "--key", other)
    assert code == 2 and out["result"] == "not-run"
    bundle["keys"] = []
    code, out = _run(bundle, tmp_path, "--key", note.VerifierKey.make(ORIGIN, ed25519.public_key(LOG_SECRET)).text())
    assert code == 2  # the witness key is unknown now: its line is not-run
    statuses = [c["status"] for c in out["checks"] if c["part"] == "signature"]
    assert statuses.count("pass") == 2 and statuses.count("not-run") == 1


def test_rewritten_history_fails_consistency(tmp_path):
    honest = _build(n=12, old_size=5)
    forged = _build(n=12, old_size=5)
    forged["entries"][2]["entry"]["actor_name"] = "伪造"
    tree = merkle.MemoryTree(encode_entry(e["entry"]) for e in forged["entries"])
    body = note.checkpoint_body(ORIGIN, 12, tree.root())
    bundle = {**honest, "checkpoint": note.sign_checkpoint(body, [(ORIGIN, LOG_SECRET)]),
              "consistency": [{**honest["consistency"][0],
                               "proof": [note.b64encode(h) for h in tree.consistency_proof(5)]}]}
    results = check_bundle(bundle)
    assert any(r.part == "consistency" and r.status == "fail" for r in results)
    assert first_bad_leaf(results) is not None  # the honest entries no longer match the forged root


def test_unreadable_bundle_exits_3(tmp_path):
    path = tmp_path / "b.json"
    path.write_text("{not json", encoding="utf-8")
    proc = subprocess.run([PYTHON, "-I", VERIFIER_DIR, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3


def test_verifier_imports_nothing_outside_the_standard_library():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import custody.verifier.cli, custody.verifier.check, custody.merkle;"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('django','cryptography','pymerkle')];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([PYTHON, "-I", "-c", code, str(ROOT)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
