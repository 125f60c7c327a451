"""C2SP signed notes, tlog-checkpoint bodies and tlog-cosignature/v1 witness lines.

Standard library only. Formats (https://c2sp.org/signed-note, /tlog-checkpoint,
/tlog-cosignature):

* note text = body, one empty line, then signature lines ``— <name> <base64>`` (U+2014,
  space); every line ends in ``\\n``; the body is what is signed.
* checkpoint body = origin line, tree size in decimal, base64 root hash, then optional
  extension lines.
* Ed25519 signature (type 0x01): base64(key id || 64-byte signature) over the body;
  key id = SHA-256(name || 0x0A || 0x01 || public key)[:4].
* witness cosignature/v1 (type 0x04): base64(key id || 8-byte big-endian timestamp ||
  signature), the signature over ``cosignature/v1\\ntime <timestamp>\\n`` + body; key id =
  SHA-256(name || 0x0A || 0x04 || public key)[:4].
* verifier key text: ``<name>+<key id hex>+<base64(type || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from . import ed25519

SIG_PREFIX = "\u2014 "
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class NoteError(ValueError):
    pass


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError(f"not base64: {text[:40]!r}") from exc


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_id(name: str, alg: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    alg: int
    public: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may contain "+"
        if len(parts) != 3 or not _NAME.fullmatch(parts[0]):
            raise NoteError(f"not a verifier key: {text[:60]!r}")
        name, kid_hex, blob = parts
        try:
            kid = bytes.fromhex(kid_hex)
        except ValueError as exc:
            raise NoteError("verifier key id is not hex") from exc
        raw = b64decode(blob)
        if len(kid) != 4 or len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise NoteError("only Ed25519 (0x01) and cosignature/v1 (0x04) keys are supported")
        key = cls(name, kid, raw[0], raw[1:])
        if key_id(name, key.alg, key.public) != kid:
            raise NoteError(f"verifier key {name}: key id does not match the key")
        return key

    @classmethod
    def make(cls, name: str, public: bytes, alg: int = ALG_ED25519) -> VerifierKey:
        return cls(name, key_id(name, alg, public), alg, public)

    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.alg]) + self.public)}"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    blob: bytes  # what follows the key id


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    body: str
    signatures: tuple[Signature, ...]


def parse_note(text: str) -> tuple[str, list[Signature]]:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("a note ends with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("a note has no control characters but newlines")
    body, sep, sig_text = text.rpartition("\n\n")
    if not sep:
        raise NoteError("a note has an empty line before its signatures")
    body += "\n"
    signatures = []
    for line in sig_text.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"not a signature line: {line[:60]!r}")
        name, _, blob = line[len(SIG_PREFIX):].rpartition(" ")
        if not _NAME.fullmatch(name):
            raise NoteError(f"bad signer name in {line[:60]!r}")
        raw = b64decode(blob)
        if len(raw) < 5:
            raise NoteError("signature too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    if not signatures:
        raise NoteError("a note has at least one signature")
    return body, signatures


def parse_checkpoint(text: str) -> Checkpoint:
    body, signatures = parse_note(text)
    lines = body.split("\n")[:-1]
    if len(lines) < 3 or not lines[0] or any(not line for line in lines):
        raise NoteError("a checkpoint body is origin, size, root hash, then extension lines")
    if not _SIZE.fullmatch(lines[1]):
        raise NoteError(f"tree size is not a decimal number: {lines[1]!r}")
    root = b64decode(lines[2])
    if len(root) != 32:
        raise NoteError("the root hash is 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root, tuple(lines[3:]), body, tuple(signatures))


def checkpoint_body(origin: str, size: int, root: bytes, extensions: tuple[str, ...] = ()) -> str:
    return "".join(f"{line}\n" for line in (origin, str(size), b64encode(root), *extensions))


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode("utf-8")


def verify_signature(body: str, signature: Signature, key: VerifierKey) -> tuple[bool, str]:
    """(valid, what was checked) for one signature line against the key it names."""
    if key.alg == ALG_ED25519:
        return ed25519.verify(key.public, body.encode("utf-8"), signature.blob), "Ed25519"
    if len(signature.blob) != 72:
        return False, "cosignature/v1"
    timestamp = int.from_bytes(signature.blob[:8], "big")
    ok = ed25519.verify(key.public, cosigned_message(body, timestamp), signature.blob[8:])
    return ok, f"cosignature/v1 time {timestamp}"


def signature_line(name: str, kid: bytes, blob: bytes) -> str:
    return f"{SIG_PREFIX}{name} {b64encode(kid + blob)}\n"


def sign_checkpoint(body: str, signers: list[tuple[str, bytes]], cosigners=()) -> str:
    """A signed checkpoint from test secrets; fixtures only (see ed25519.sign)."""
    lines = []
    for name, secret in signers:
        kid = key_id(name, ALG_ED25519, ed25519.public_key(secret))
        lines.append(signature_line(name, kid, ed25519.sign(secret, body.encode("utf-8"))))
    for name, secret, timestamp in cosigners:
        kid = key_id(name, ALG_COSIGNATURE_V1, ed25519.public_key(secret))
        sig = ed25519.sign(secret, cosigned_message(body, timestamp))
        lines.append(signature_line(name, kid, timestamp.to_bytes(8, "big") + sig))
    return body + "\n" + "".join(lines)
