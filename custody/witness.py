"""A witness for the custody log: co-signs the platform's checkpoints only while history holds.

Runs on another machine than the platform (the audit administrator's workstation, the
superior department's server) with its own Ed25519 key and its own state directory. It
imports no Django: only the standard library, ``cryptography`` (to sign) and
``custody/verifier`` (to parse and check notes and proofs), so ``python -m custody.witness``
works from a copy of the project without settings or a database. ``manage.py witness`` is
the same program.

What one poll does (``poll``)
-----------------------------
1. fetch the platform's latest checkpoint (a C2SP tlog-checkpoint signed note);
2. check its Ed25519 signature with the log public key the witness pinned at ``init`` —
   no valid line by that key: alarm "检查点签名无效"; then its origin;
3. compare it with the checkpoint the witness holds (the last one it co-signed):
   smaller tree → ROLLBACK alarm; same size, other root → FORK alarm; larger tree → fetch
   the RFC 9162 consistency proof from the held size and verify it
   (``custody.verifier.tlog.verify_consistency``); a proof that fails → FORK alarm (history
   rewritten). The first checkpoint after ``init`` is taken on trust (nothing to prove from
   the empty tree);
4. co-sign it (C2SP tlog-cosignature ``cosignature/v1``, timestamp = now), **save the new
   state**, then publish the cosignature line to the platform.

Decisions
---------
* Alarms never change the state: the witness keeps holding the last good checkpoint, so
  every later poll repeats the alarm until a person looks (the platform's offending
  checkpoint is in ``Outcome.checkpoint``; the command prints it as evidence).
* State is saved right after co-signing, before publishing: the witness has verified the
  checkpoint itself, and that is what it must remember — a platform that later shows a
  tree not extending it is forked whether or not the cosignature arrived. A publish that
  fails is reported as "unavailable" (exit 2); the next poll sees the same checkpoint,
  finds that it does not carry this witness's cosignature and publishes the saved line
  again (also exit 2 while that keeps failing, so an administrator notices).
* A checkpoint with the held size and root but another body (new extension lines, a
  re-signed note) is consistent by definition and is co-signed anew.
* Network errors, non-2xx answers, bad JSON or an unparsable note are "unavailable"
  (exit 2), never an alarm: nothing signed was shown. A proof that the platform does serve
  but that does not verify is an alarm: the platform signed a tree it cannot show extends
  the held one.
* ``HttpTransport`` follows no redirects (the bearer token is never sent elsewhere).

State directory: ``witness.key`` (PKCS#8 PEM, mode 0600, created once with ``O_EXCL`` and
never overwritten) and ``state.json`` (rewritten atomically: temporary file, fsync,
``os.replace``).

Exit status of the command: 0 co-signed or unchanged, 1 alarm (fork, rollback, invalid
signature, wrong origin), 2 platform unreachable or unusable, the cosignature not
delivered, or the witness's own state missing or unreadable (argparse's usage errors
are 2 as well).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from custody.verifier import note, tlog

KEY_FILE = "witness.key"
STATE_FILE = "state.json"
STATE_FORMAT = "avrecords-witness-state/v1"
TOKEN_ENV = "AVR_WITNESS_TOKEN"

COSIGNED = "cosigned"
UNCHANGED = "unchanged"
ALARM = "alarm"
UNAVAILABLE = "unavailable"
EXIT_CODES = {COSIGNED: 0, UNCHANGED: 0, ALARM: 1, UNAVAILABLE: 2}

# Outcome.alarm values
FORK = "fork"
ROLLBACK = "rollback"
BAD_SIGNATURE = "signature"
WRONG_ORIGIN = "origin"


class WitnessError(Exception):
    """Something the witness cannot work with (message in Chinese); exit 2."""


class WitnessUnavailable(WitnessError):
    """The platform could not be reached or gave an answer that cannot be used."""


class WitnessStateError(WitnessError):
    """The witness's own state directory is missing, incomplete or unreadable."""


# --- state -----------------------------------------------------------------------------


def _now_seconds(now: int | float | datetime | None) -> int:
    if now is None:
        return int(time.time())
    if isinstance(now, datetime):
        return int(now.timestamp())
    return int(now)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # the rename itself, where possible
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@dataclass
class WitnessState:
    """What a witness remembers: its name, the log it watches and the checkpoint it holds.

    ``checkpoint`` is the full text of the last co-signed checkpoint, the platform's note
    with this witness's cosignature line appended ("" before the first); ``cosignature``
    is that line (no newline), kept to publish again.
    """

    directory: Path
    name: str
    origin: str
    log_key: str  # the pinned log public key, verifier key text
    size: int
    root: bytes
    checkpoint: str
    cosignature: str
    updated_at: str

    @property
    def key_path(self) -> Path:
        return self.directory / KEY_FILE

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def log_verifier(self) -> note.VerifierKey:
        return note.VerifierKey.parse(self.log_key)

    def private_key(self) -> Ed25519PrivateKey:
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        except FileNotFoundError as exc:
            raise WitnessStateError(f"见证人私钥文件不存在：{self.key_path}") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise WitnessStateError(f"无法读取见证人私钥文件 {self.key_path}：{exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise WitnessStateError(f"见证人私钥文件 {self.key_path} 不是 Ed25519 私钥")
        return key

    def verifier(self) -> note.VerifierKey:
        """This witness's own public key (cosignature/v1)."""
        public = self.private_key().public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return note.VerifierKey.make(self.name, public, note.ALG_COSIGNATURE_V1)

    def public_key_text(self) -> str:
        return self.verifier().text()

    @classmethod
    def load(cls, state_dir: str | os.PathLike) -> WitnessState:
        directory = Path(state_dir)
        path = directory / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise WitnessStateError(f"见证人状态文件不存在：{path}（请先运行 init）") from exc
        except (OSError, ValueError) as exc:
            raise WitnessStateError(f"无法读取见证人状态文件 {path}：{exc}") from exc
        try:
            if data.get("format") != STATE_FORMAT:
                raise ValueError(f"格式不是 {STATE_FORMAT}")
            state = cls(directory, str(data["name"]), str(data["origin"]), str(data["log_key"]),
                        int(data["size"]), note.b64decode(data["root"]), str(data["checkpoint"]),
                        str(data.get("cosignature", "")), str(data.get("updated_at", "")))
            note.VerifierKey.parse(state.log_key)
            if state.size < 0 or len(state.root) != 32:
                raise ValueError("树大小或根哈希无效")
            if state.checkpoint:
                held = note.parse_checkpoint(state.checkpoint)
                if (held.origin, held.size, held.root) != (state.origin, state.size, state.root):
                    raise ValueError("保存的检查点与树大小、根哈希不符")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WitnessStateError(f"见证人状态文件 {path} 已损坏：{exc}") from exc
        return state

    def to_json(self) -> dict:
        return {"format": STATE_FORMAT, "name": self.name, "origin": self.origin,
                "log_key": self.log_key, "size": self.size, "root": note.b64encode(self.root),
                "checkpoint": self.checkpoint, "cosignature": self.cosignature,
                "updated_at": self.updated_at}

    def save(self) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n"
        _write_atomic(self.state_path, text.encode("utf-8"))


def init(state_dir: str | os.PathLike, name: str, log_vkey: str, *, origin: str | None = None,
         now: int | float | datetime | None = None) -> str:
    """Create the witness key and state; return the witness's public key text (cosignature/v1).

    ``log_vkey`` is the platform's published Ed25519 log key (``manage.py log_key``);
    ``origin`` defaults to its name (the platform signs under its origin). Refuses when the
    directory already holds a key or a state file: a witness's key is never replaced.
    """
    try:
        log_key = note.VerifierKey.parse(log_vkey)
    except note.NoteError as exc:
        raise WitnessError(f"日志公钥格式不正确：{exc}") from exc
    if log_key.alg != note.ALG_ED25519:
        raise WitnessError("日志公钥必须是 Ed25519 验证公钥（类型 0x01）")
    origin = origin or log_key.name
    directory = Path(state_dir)
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    own = note.VerifierKey.make(name, public, note.ALG_COSIGNATURE_V1)
    try:
        note.VerifierKey.parse(own.text())  # the name is a valid signed-note key name
    except note.NoteError as exc:
        raise WitnessError(f"见证人名称不可用（不能含空白或“+”）：{name!r}") from exc
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if (directory / STATE_FILE).exists():
        raise WitnessStateError(f"{directory} 已有见证人状态文件，拒绝覆盖")
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        fd = os.open(directory / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise WitnessStateError(f"{directory / KEY_FILE} 已存在，拒绝覆盖见证人私钥") from exc
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    seconds = _now_seconds(now)
    WitnessState(directory, name, origin, log_key.text(), 0, tlog.EMPTY_ROOT, "", "",
                 _iso(seconds)).save()
    return own.text()


# --- transport -------------------------------------------------------------------------


class Transport(Protocol):
    def latest_checkpoint(self) -> str:
        """The platform's latest checkpoint, signed note text."""

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The RFC 9162 consistency proof from tree size ``first`` to ``second``."""

    def publish(self, size: int, cosignature_line: str) -> None:
        """Hand the cosignature line (no trailing newline) of the checkpoint of ``size`` over."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the HTTPError for the 3xx is raised instead


class HttpTransport:
    """The platform's custody API over HTTP(S), standard library only.

    ``GET  {base}/api/v1/custody/checkpoint`` → ``{"checkpoint": note, "size": n, "root": b64}``
    ``GET  {base}/api/v1/custody/proof/consistency?first=a&second=b`` → ``{"proof": [b64, ...]}``
    ``POST {base}/api/v1/custody/checkpoints/{size}/cosignatures`` ``{"cosignature": line}`` → 201
    Every request sends ``Authorization: Bearer <token>`` (when a token is given).
    """

    def __init__(self, base_url: str, token: str = "", timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WitnessError(f"平台地址必须是 http:// 或 https:// 开头的网址：{base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def _request(self, method: str, path: str, body: dict | None = None) -> object:
        url = self.base_url + path
        headers = {"Accept": "application/json", "User-Agent": "avrecords-witness/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            detail = ""
            with contextlib.suppress(Exception):
                detail = exc.read(300).decode("utf-8", "replace").strip()
            where = exc.headers.get("Location") if 300 <= exc.code < 400 else None
            extra = f"，重定向到 {where}（请直接使用该地址）" if where else (f"：{detail}" if detail else "")
            raise WitnessUnavailable(f"平台返回 HTTP {exc.code}（{method} {url}）{extra}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WitnessUnavailable(f"无法连接平台 {url}：{reason}") from exc
        except Exception as exc:  # http.client protocol errors and the like
            raise WitnessUnavailable(f"与平台通信出错 {url}：{exc!r}") from exc
        if not 200 <= status < 300:
            raise WitnessUnavailable(f"平台返回 HTTP {status}（{method} {url}）")
        if not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WitnessUnavailable(f"平台返回的内容不是 JSON（{method} {url}）") from exc

    def latest_checkpoint(self) -> str:
        data = self._request("GET", "/api/v1/custody/checkpoint")
        if not isinstance(data, dict) or not isinstance(data.get("checkpoint"), str):
            raise WitnessUnavailable("平台返回的检查点响应缺少 checkpoint 字段")
        return data["checkpoint"]

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        query = urllib.parse.urlencode({"first": first, "second": second})
        data = self._request("GET", f"/api/v1/custody/proof/consistency?{query}")
        proof = data.get("proof") if isinstance(data, dict) else None
        if not isinstance(proof, list) or not all(isinstance(item, str) for item in proof):
            raise WitnessUnavailable("平台返回的一致性证明响应缺少 proof 列表")
        if (data.get("first", first), data.get("second", second)) != (first, second):
            raise WitnessUnavailable(f"平台返回的一致性证明不是从树大小 {first} 到 {second} 的")
        try:
            return [note.b64decode(item) for item in proof]
        except note.NoteError as exc:
            raise WitnessUnavailable(f"平台返回的一致性证明不是 base64：{exc}") from exc

    def publish(self, size: int, cosignature_line: str) -> None:
        self._request("POST", f"/api/v1/custody/checkpoints/{int(size)}/cosignatures",
                      {"cosignature": cosignature_line})


# --- polling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str  # COSIGNED, UNCHANGED, ALARM or UNAVAILABLE
    message: str  # Chinese
    old_size: int  # the size the witness held before this poll
    new_size: int | None  # the platform's size (None when no checkpoint was read)
    alarm: str | None = None  # FORK, ROLLBACK, BAD_SIGNATURE, WRONG_ORIGIN
    checkpoint: str = ""  # the platform's checkpoint as received (evidence for an alarm)
    cosignature: str = ""  # the line co-signed or re-published in this poll

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def cosign(private: Ed25519PrivateKey, name: str, body: str, timestamp: int) -> str:
    """The cosignature/v1 signature line (no trailing newline) over a checkpoint body."""
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = note.key_id(name, note.ALG_COSIGNATURE_V1, public)
    signature = private.sign(note.cosigned_message(body, timestamp))
    return note.signature_line(name, kid, timestamp.to_bytes(8, "big") + signature).rstrip("\n")


def _signed_by(cp: note.Checkpoint, key: note.VerifierKey) -> tuple[bool, bool]:
    """(some line by ``key`` verifies, some line by ``key`` does not)."""
    results = [note.verify_signature(cp.body, sig, key)[0]
               for sig in cp.signatures if sig.name == key.name and sig.key_id == key.key_id]
    return any(results), not all(results)


@contextlib.contextmanager
def _locked(directory: Path):
    """One poll at a time per state directory (POSIX advisory lock; none elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        handle = os.fdopen(os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600), "r+")
    except OSError as exc:
        raise WitnessStateError(f"无法打开见证人状态目录 {directory}：{exc}") from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def poll(state_dir: str | os.PathLike, transport: Transport,
         now: int | float | datetime | None = None) -> Outcome:
    """One round: fetch, verify, co-sign, save, publish (see the module docstring).

    Raises ``WitnessStateError`` when the witness's own state cannot be read; platform
    problems come back as an ``UNAVAILABLE`` outcome, never as an exception.
    """
    directory = Path(state_dir)
    WitnessState.load(directory)  # a clear error before creating the lock file
    with _locked(directory):
        state = WitnessState.load(directory)
        return _poll(state, transport, _now_seconds(now))


def _poll(state: WitnessState, transport: Transport, now: int) -> Outcome:
    old = state.size
    try:
        text = transport.latest_checkpoint()
    except WitnessUnavailable as exc:
        return Outcome(UNAVAILABLE, f"平台不可用：{exc}", old, None)
    try:
        cp = note.parse_checkpoint(text)
    except note.NoteError as exc:
        return Outcome(UNAVAILABLE, f"平台返回的检查点无法解析：{exc}", old, None, checkpoint=str(text))

    def alarm(kind: str, message: str) -> Outcome:
        return Outcome(ALARM, message, old, cp.size, alarm=kind, checkpoint=text)

    log_key = state.log_verifier
    good, bad = _signed_by(cp, log_key)
    if not good or bad:
        why = "有日志公钥的签名行校验失败" if bad else f"没有日志公钥 {log_key.name}（{log_key.key_id.hex()}）的签名"
        return alarm(BAD_SIGNATURE, f"告警：检查点签名无效——{why}，拒绝副署（树大小 {cp.size}）")
    if cp.origin != state.origin:
        return alarm(WRONG_ORIGIN, f"告警：检查点来源不符——应为 {state.origin}，平台给出 {cp.origin}，拒绝副署")
    held_root, new_root = note.b64encode(state.root), note.b64encode(cp.root)
    if cp.size < old:
        return alarm(ROLLBACK, f"告警[ROLLBACK]：日志回滚——平台最新检查点的树大小 {cp.size} 小于本见证人已副署的"
                               f" {old}，日志被截断或回滚，拒绝副署")
    if cp.size == old and cp.root != state.root:
        return alarm(FORK, f"告警[FORK]：日志分叉——树大小同为 {old}，根哈希却不同（本见证人已副署 {held_root}，"
                           f"平台现为 {new_root}），历史记录被改写，拒绝副署")
    if cp.size > old and state.checkpoint and old > 0:
        try:
            proof = transport.consistency_proof(old, cp.size)
        except WitnessUnavailable as exc:
            return Outcome(UNAVAILABLE, f"平台不可用（取一致性证明 {old} → {cp.size}）：{exc}", old, cp.size,
                           checkpoint=text)
        if not tlog.verify_consistency(old, cp.size, state.root, cp.root, list(proof)):
            return alarm(FORK, f"告警[FORK]：日志分叉——平台树大小 {cp.size} 的检查点无法证明是本见证人已副署的树大小"
                               f" {old}（根哈希 {held_root}）的延续（一致性证明校验失败），历史记录可能被改写，拒绝副署")

    held_body = note.parse_checkpoint(state.checkpoint).body if state.checkpoint else None
    if cp.size == old and cp.body == held_body:
        return _unchanged(state, cp, transport, text)

    private = state.private_key()
    line = cosign(private, state.name, cp.body, now)
    state.size, state.root = cp.size, cp.root
    state.checkpoint = text + line + "\n"
    state.cosignature = line
    state.updated_at = _iso(now)
    state.save()
    if held_body is None:
        message = f"已副署树大小 {cp.size} 的检查点（首次副署，以此为信任起点）"
    elif cp.size == old:
        message = f"树未变化（树大小 {cp.size}），平台重新签发了检查点，已副署"
    else:
        message = f"一致性证明校验通过（树大小 {old} → {cp.size}），已副署新检查点"
    try:
        transport.publish(cp.size, line)
    except WitnessUnavailable as exc:
        return Outcome(UNAVAILABLE, f"{message}并已保存，但提交副署失败：{exc}（下次轮询会重新提交）",
                       old, cp.size, checkpoint=text, cosignature=line)
    return Outcome(COSIGNED, f"{message}并已提交", old, cp.size, checkpoint=text, cosignature=line)


def _unchanged(state: WitnessState, cp: note.Checkpoint, transport: Transport, text: str) -> Outcome:
    message = f"检查点未变化（树大小 {cp.size}）"
    if not state.cosignature or _signed_by(cp, state.verifier())[0]:
        return Outcome(UNCHANGED, message, state.size, cp.size, checkpoint=text)
    try:  # the platform's note does not carry our cosignature: hand it over again
        transport.publish(cp.size, state.cosignature)
    except WitnessUnavailable as exc:
        return Outcome(UNAVAILABLE, f"{message}，但重新提交副署失败：{exc}", state.size, cp.size,
                       checkpoint=text, cosignature=state.cosignature)
    return Outcome(UNCHANGED, f"{message}，已重新提交副署", state.size, cp.size, checkpoint=text,
                   cosignature=state.cosignature)


# --- command line ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommands, shared by ``python -m custody.witness`` and ``manage.py witness``."""
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{init,poll,show}")
    p_init = sub.add_parser("init", help="生成见证人密钥与状态目录，打印见证人公钥")
    p_init.add_argument("--state", required=True, help="见证人状态目录")
    p_init.add_argument("--name", required=True, help="见证人名称，例如 audit.example.gov.cn/witness")
    p_init.add_argument("--log-key", required=True, help="平台日志的 Ed25519 公钥文本（manage.py log_key 的输出）")
    p_init.add_argument("--origin", default=None, help="检查点来源（默认取日志公钥的名称）")
    p_poll = sub.add_parser("poll", help="取平台最新检查点，校验一致性后副署并提交")
    p_poll.add_argument("--state", required=True, help="见证人状态目录")
    p_poll.add_argument("--url", required=True, help="平台地址，例如 https://avr.example.gov.cn")
    p_poll.add_argument("--token", default=None,
                        help=f"访问令牌（建议改用环境变量 {TOKEN_ENV}，命令行参数可能被其他用户看到）")
    p_poll.add_argument("--watch", type=float, default=None, metavar="SECONDS",
                        help="每隔 SECONDS 秒轮询一次，直到告警或按 Ctrl-C")
    p_poll.add_argument("--timeout", type=float, default=30.0, help="网络超时秒数（默认 30）")
    p_show = sub.add_parser("show", help="显示已持有的检查点与见证人公钥")
    p_show.add_argument("--state", required=True, help="见证人状态目录")


def run(args: argparse.Namespace, *, transport_factory=None, out=None, err=None, sleep=time.sleep,
        now=None) -> int:
    """Carry out parsed arguments; return the exit status (0 ok, 1 alarm, 2 unavailable)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.subcommand == "init":
            text = init(args.state, args.name, args.log_key, origin=args.origin, now=now)
            out.write(f"已创建见证人密钥 {Path(args.state) / KEY_FILE}。请把下面的见证人公钥登记到平台：\n")
            out.write(text + "\n")
            return 0
        if args.subcommand == "show":
            _show(WitnessState.load(args.state), out)
            return 0
        return _run_poll(args, transport_factory or HttpTransport, out, err, sleep, now)
    except WitnessError as exc:
        err.write(f"错误：{exc}\n")
        return 2


def _show(state: WitnessState, out) -> None:
    out.write(f"见证人：{state.name}\n见证人公钥：{state.public_key_text()}\n")
    out.write(f"日志来源：{state.origin}\n日志公钥：{state.log_key}\n")
    if state.checkpoint:
        out.write(f"已副署树大小：{state.size}\n根哈希：{note.b64encode(state.root)}\n")
    else:
        out.write("尚未副署任何检查点\n")
    out.write(f"更新时间：{state.updated_at}\n")
    if state.checkpoint:
        out.write("最后副署的检查点：\n" + state.checkpoint)


def _run_poll(args, transport_factory, out, err, sleep, now) -> int:
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV, "")
    transport = transport_factory(args.url, token, args.timeout)
    watch = args.watch
    if watch is not None and watch <= 0:
        raise WitnessError("--watch 的间隔必须大于 0 秒")
    code = 0
    try:
        while True:
            outcome = poll(args.state, transport, now=now)
            code = outcome.exit_code
            stamp = f"[{datetime.now().astimezone():%Y-%m-%d %H:%M:%S}] " if watch else ""
            (out if code == 0 else err).write(f"{stamp}{outcome.message}\n")
            if outcome.status == ALARM:
                err.write("平台给出的检查点（证据，请保存）：\n" + outcome.checkpoint
                          + ("" if outcome.checkpoint.endswith("\n") else "\n"))
            if watch is None or outcome.status == ALARM:
                return code
            sleep(watch)
    except KeyboardInterrupt:
        return code


def main(argv: list[str] | None = None, **kwargs) -> int:
    parser = argparse.ArgumentParser(prog="python -m custody.witness",
                                     description="保管日志见证人：校验平台检查点的一致性并副署")
    add_arguments(parser)
    return run(parser.parse_args(argv), **kwargs)


if __name__ == "__main__":
    sys.exit(main())
