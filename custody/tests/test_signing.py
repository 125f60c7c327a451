"""Checkpoints signed by the platform verify with custody.verifier; tampering does not."""

from __future__ import annotations

import hashlib

import pytest

from custody import keys, signing
from custody.verifier import check, ed25519, note

pytestmark = pytest.mark.django_db

ORIGIN = "avrecords.test/custody"
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(autouse=True)
def key_files(tmp_path, settings):
    settings.LOG_KEY_FILE = tmp_path / "keys" / "log-ed25519.key"
    settings.LOG_SM2_KEY_FILE = tmp_path / "keys" / "log-sm2.key"
    settings.LOG_SM2 = True
    settings.LOG_ORIGIN = ORIGIN
    keys.ensure_log_keys()


def _ed_key() -> note.VerifierKey:
    return keys.load_ed25519().verifier


def _bundle_results(text: str, key: note.VerifierKey):
    return check.check_bundle({"format": "avrecords-custody-bundle/v1", "keys": [key.text()],
                               "checkpoint": text, "entries": []})


def test_signed_checkpoint_parses_and_verifies_with_cryptography_and_pure_python():
    text = signing.sign_checkpoint(ORIGIN, 7, ROOT, extension_lines=("ext line",))
    cp = note.parse_checkpoint(text)
    assert (cp.origin, cp.size, cp.root, cp.extensions) == (ORIGIN, 7, ROOT, ("ext line",))
    assert len(cp.signatures) == 2  # Ed25519 and SM2
    key = _ed_key()
    ed_sig = next(s for s in cp.signatures if s.key_id == key.key_id)
    # pure-Python Ed25519 (what the disc uses) ...
    assert note.verify_signature(cp.body, ed_sig, key)[0]
    assert ed25519.verify(key.public, cp.body.encode(), ed_sig.blob)
    # ... and cryptography
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    Ed25519PublicKey.from_public_bytes(key.public).verify(ed_sig.blob, cp.body.encode())
    result = signing.verify_checkpoint(text)
    assert result.ok and result.ed25519_ok and result.sm2_ok is True
    statuses = [(r.part, r.status) for r in _bundle_results(text, key)]
    assert ("signature", check.PASS) in statuses and ("signature", check.FAIL) not in statuses


def test_without_sm2_the_standalone_verifier_passes_everything(settings):
    settings.LOG_SM2 = False
    text = signing.sign_checkpoint(ORIGIN, 3, ROOT)
    assert len(note.parse_checkpoint(text).signatures) == 1
    results = _bundle_results(text, _ed_key())
    assert check.overall(results) == check.PASS, [r.as_dict() for r in results]


def _tamper_size(text: str) -> str:
    lines = text.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    return "\n".join(lines)


def test_tampered_checkpoint_fails():
    text = signing.sign_checkpoint(ORIGIN, 5, ROOT)
    forged = _tamper_size(text)
    result = signing.verify_checkpoint(forged)
    assert not result.ok and not result.ed25519_ok and result.sm2_ok is False
    assert any("Ed25519" in p for p in result.problems) and any("SM2" in p for p in result.problems)
    assert check.overall(_bundle_results(forged, _ed_key())) == check.FAIL


def test_a_rotated_keys_old_checkpoints_still_verify_with_the_old_public_key():
    old_key = _ed_key()
    old_sm2 = keys.load_sm2()
    old_text = signing.sign_checkpoint(ORIGIN, 4, ROOT)
    [ed_rot, _sm2_rot] = keys.rotate_key_files()
    assert ed_rot.old_key == old_key.text() and ed_rot.retired_as.exists()
    new_text = signing.sign_checkpoint(ORIGIN, 5, ROOT)
    assert not signing.verify_checkpoint(old_text).ok  # current key: not the old one's signature
    assert signing.verify_checkpoint(
        old_text, ed25519_keys=[old_key], sm2_keys=[(ORIGIN, old_sm2.public)]
    ).ok
    retired = keys.load_ed25519(ed_rot.retired_as).verifier
    assert retired == old_key
    assert check.overall(_bundle_results(old_text, old_key)) != check.FAIL
    assert signing.verify_checkpoint(new_text).ok


def test_bad_input_refused():
    with pytest.raises(ValueError):
        signing.sign_checkpoint(ORIGIN, 1, b"short")
    with pytest.raises(ValueError):
        signing.sign_checkpoint(ORIGIN, 1, ROOT, extension_lines=("a\nb",))
    assert not signing.verify_checkpoint("not a note").ok
