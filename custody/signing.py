"""Signing and checking the platform's checkpoints (C2SP tlog-checkpoint signed notes).

The body and the signature lines come from custody/verifier/note.py, the code the evidence
disc carries, so what is signed here is exactly what the standalone verifier parses. Keys:
custody/keys.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from custody.keys import SM2_DEFAULT_SIGNER_ID, Ed25519LogKey, SM2LogKey, signing_keys, sm2_key_id
from custody.verifier import note


def sign_checkpoint(origin: str, size: int, root_hash: bytes, *, extension_lines: Iterable[str] = (),
                    keys: list[Ed25519LogKey | SM2LogKey] | None = None) -> str:
    """The complete signed note: body, an empty line, the platform's signature line(s).

    ``keys`` defaults to the current key files (Ed25519, then SM2 when enabled); every key
    signs under the name ``origin``.
    """
    if len(root_hash) != 32:
        raise ValueError("root_hash is 32 bytes (SHA-256)")
    extensions = tuple(extension_lines)
    if any(not line or "\n" in line for line in extensions):
        raise ValueError("extension lines are non-empty and have no newline")
    body = note.checkpoint_body(origin, size, root_hash, extensions)
    keys = keys if keys is not None else signing_keys(name=origin)
    lines = []
    for key in keys:
        if key.name != origin:
            raise ValueError("a log key signs under the checkpoint's origin")
        lines.append(key.signature_line(body))
    return body + "\n" + "".join(lines)


@dataclass(frozen=True)
class CheckpointCheck:
    checkpoint: note.Checkpoint | None
    ed25519_ok: bool  # a signature by one of the given Ed25519 keys verified
    sm2_ok: bool | None  # None: no SM2 line for a known key (or no library)
    problems: tuple[str, ...]  # Chinese

    @property
    def ok(self) -> bool:
        return self.ed25519_ok and self.sm2_ok is not False and not self.problems


def verify_checkpoint(text: str, *, ed25519_keys: list[note.VerifierKey] | None = None,
                      sm2_keys: list[tuple[str, bytes]] | None = None) -> CheckpointCheck:
    """Check a checkpoint against the platform's current keys (or the given ones).

    ``sm2_keys``: (name, 64-byte public key) pairs. Any signature line by a known key that
    does not verify is a problem; lines by unknown keys (witnesses, retired keys) are ignored.
    """
    try:
        cp = note.parse_checkpoint(text)
    except note.NoteError as exc:
        return CheckpointCheck(None, False, None, (f"检查点无法解析：{exc}",))
    if ed25519_keys is None or sm2_keys is None:
        current = signing_keys(name=cp.origin)
        if ed25519_keys is None:
            ed25519_keys = [k.verifier for k in current if isinstance(k, Ed25519LogKey)]
        if sm2_keys is None:
            sm2_keys = [(k.name, k.public) for k in current if isinstance(k, SM2LogKey)]
    problems: list[str] = []
    ed_ok, sm2_ok = False, None
    sm2_by_id = {(name, sm2_key_id(name, public)): public for name, public in sm2_keys}
    for sig in cp.signatures:
        key = next((k for k in ed25519_keys if k.name == sig.name and k.key_id == sig.key_id), None)
        if key is not None:
            ok, _kind = note.verify_signature(cp.body, sig, key)
            ed_ok = ed_ok or ok
            if not ok:
                problems.append(f"Ed25519 签名 {sig.name} 无效")
            continue
        public = sm2_by_id.get((sig.name, sig.key_id))
        if public is not None:
            ok = _sm2_verify(public, cp.body.encode("utf-8"), sig.blob)
            sm2_ok = ok if sm2_ok is None else (sm2_ok and ok)
            if not ok:
                problems.append(f"SM2 签名 {sig.name} 无效")
    if not ed_ok and not problems:
        problems.append("没有可用公钥校验的 Ed25519 日志签名")
    return CheckpointCheck(cp, ed_ok, sm2_ok, tuple(problems))


def _sm2_verify(public: bytes, message: bytes, der: bytes) -> bool:
    import gmssl_pyx

    try:
        return bool(gmssl_pyx.sm2_verify(public, message, der, signer_id=SM2_DEFAULT_SIGNER_ID))
    except Exception:  # a malformed DER blob is an invalid signature, not a crash
        return False
