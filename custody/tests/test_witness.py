"""The witness (custody/witness.py): co-signs consistent checkpoints, alarms on forks and rollbacks.

No database: the platform is a fake transport over custody.merkle.MemoryTree, signing with a
test Ed25519 log key; HttpTransport is tested against a small http.server in a thread.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from custody import signing, witness
from custody.keys import Ed25519LogKey
from custody.merkle import MemoryTree
from custody.verifier import check, note

pytestmark = pytest.mark.req("ACC-5")

ORIGIN = "avrecords.test/custody"
WITNESS_NAME = "audit.example.gov.cn/witness"
T0 = 1_767_225_600


def entries(n: int, tag: str = "e") -> list[bytes]:
    return [f"{tag}{i}".encode() for i in range(n)]


class FakePlatform:
    """The platform as the witness sees it: a tree, a log key, a list of received cosignatures."""

    def __init__(self, key: Ed25519LogKey, tree: MemoryTree | None = None) -> None:
        self.key = key
        self.tree = tree or MemoryTree()
        self.published: list[tuple[int, str]] = []
        self.proofs: list[tuple[int, int]] = []
        self.down = False
        self.publish_down = False
        self.text: str | None = None  # a checkpoint to serve instead of the tree's

    def checkpoint(self) -> str:
        return signing.sign_checkpoint(ORIGIN, self.tree.size, self.tree.root(), keys=[self.key])

    def latest_checkpoint(self) -> str:
        if self.down:
            raise witness.WitnessUnavailable("无法连接平台 http://platform.test：Connection refused")
        return self.text if self.text is not None else self.checkpoint()

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        self.proofs.append((first, second))
        return self.tree.consistency_proof(first, second)

    def publish(self, size: int, cosignature_line: str) -> None:
        if self.publish_down:
            raise witness.WitnessUnavailable("平台返回 HTTP 503")
        self.published.append((size, cosignature_line))


@pytest.fixture
def log_key() -> Ed25519LogKey:
    return Ed25519LogKey(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def state_dir(tmp_path, log_key) -> Path:
    directory = tmp_path / "witness"
    witness.init(directory, WITNESS_NAME, log_key.verifier.text(), now=T0)
    return directory


@pytest.fixture
def platform(log_key) -> FakePlatform:
    return FakePlatform(log_key, MemoryTree(entries(5)))


def state_json(directory: Path) -> dict:
    return json.loads((directory / witness.STATE_FILE).read_text(encoding="utf-8"))


def witness_key(directory: Path) -> note.VerifierKey:
    return note.VerifierKey.parse(witness.WitnessState.load(directory).public_key_text())


def cosignature_ok(checkpoint_text: str, line: str, key: note.VerifierKey) -> tuple[bool, str]:
    cp = note.parse_checkpoint(checkpoint_text + line + "\n")
    [sig] = [s for s in cp.signatures if s.name == key.name and s.key_id == key.key_id]
    return note.verify_signature(cp.body, sig, key)


# --- init ------------------------------------------------------------------------------


def test_init_creates_a_0600_key_and_refuses_to_overwrite_it(tmp_path, log_key):
    directory = tmp_path / "w"
    text = witness.init(directory, WITNESS_NAME, log_key.verifier.text(), now=T0)
    key = note.VerifierKey.parse(text)
    assert key.name == WITNESS_NAME and key.alg == note.ALG_COSIGNATURE_V1
    assert text.startswith(f"{WITNESS_NAME}+{key.key_id.hex()}+")
    assert stat.S_IMODE(os.stat(directory / witness.KEY_FILE).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    data = state_json(directory)
    assert (data["origin"], data["log_key"], data["size"], data["checkpoint"]) == (
        ORIGIN, log_key.verifier.text(), 0, "")
    assert data["updated_at"] == "2026-01-01T00:00:00Z"
    pem = (directory / witness.KEY_FILE).read_bytes()
    with pytest.raises(witness.WitnessError, match="拒绝覆盖"):
        witness.init(directory, WITNESS_NAME, log_key.verifier.text())
    (directory / witness.STATE_FILE).unlink()  # even without the state, the key stays
    with pytest.raises(witness.WitnessError, match="拒绝覆盖见证人私钥"):
        witness.init(directory, WITNESS_NAME, log_key.verifier.text())
    assert (directory / witness.KEY_FILE).read_bytes() == pem


def test_init_refuses_bad_keys_and_names(tmp_path, log_key):
    with pytest.raises(witness.WitnessError, match="日志公钥格式不正确"):
        witness.init(tmp_path / "a", WITNESS_NAME, "not a key")
    cosigner = note.VerifierKey.make("w", log_key.public, note.ALG_COSIGNATURE_V1).text()
    with pytest.raises(witness.WitnessError, match="Ed25519"):
        witness.init(tmp_path / "b", WITNESS_NAME, cosigner)
    with pytest.raises(witness.WitnessError, match="见证人名称"):
        witness.init(tmp_path / "c", "bad name", log_key.verifier.text())
    assert not (tmp_path / "c" / witness.KEY_FILE).exists()


# --- poll ------------------------------------------------------------------------------


def test_first_poll_cosigns_and_saves_state(state_dir, platform):
    outcome = witness.poll(state_dir, platform, now=T0 + 10)
    assert (outcome.status, outcome.exit_code, outcome.old_size, outcome.new_size) == (
        witness.COSIGNED, 0, 0, 5)
    assert "首次副署" in outcome.message
    assert platform.proofs == []  # nothing to prove from the empty tree
    [(size, line)] = platform.published
    assert size == 5 and not line.endswith("\n") and line == outcome.cosignature
    data = state_json(state_dir)
    assert data["size"] == 5 and data["root"] == note.b64encode(platform.tree.root())
    assert data["checkpoint"] == platform.checkpoint() + line + "\n"
    assert data["updated_at"] == "2026-01-01T00:00:10Z"
    ok, kind = cosignature_ok(platform.checkpoint(), line, witness_key(state_dir))
    assert ok and kind == f"cosignature/v1 time {T0 + 10}"


def test_growing_tree_is_cosigned_after_a_verified_consistency_proof(state_dir, platform, log_key):
    witness.poll(state_dir, platform, now=T0)
    for entry in entries(6, "more"):
        platform.tree.append_entry(entry)
    outcome = witness.poll(state_dir, platform, now=T0 + 60)
    assert (outcome.status, outcome.old_size, outcome.new_size) == (witness.COSIGNED, 5, 11)
    assert "一致性证明校验通过" in outcome.message
    assert platform.proofs == [(5, 11)]
    size, line = platform.published[-1]
    assert size == 11
    key = witness_key(state_dir)
    assert cosignature_ok(platform.checkpoint(), line, key) == (True, f"cosignature/v1 time {T0 + 60}")
    # the blob is key id || 8-byte big-endian time || signature, as C2SP tlog-cosignature says
    raw = note.b64decode(line.rsplit(" ", 1)[1])
    assert raw[:4] == key.key_id and int.from_bytes(raw[4:12], "big") == T0 + 60 and len(raw) == 76
    # the standalone verifier accepts the co-signed note with both public keys
    results = check.check_bundle({"format": "avrecords-custody-bundle/v1",
                                  "keys": [log_key.verifier.text(), key.text()],
                                  "checkpoint": platform.checkpoint() + line + "\n", "entries": []})
    sigs = [r.status for r in results if r.part == "signature"]
    assert sigs == [check.PASS, check.PASS]
    assert state_json(state_dir)["size"] == 11


def test_unchanged_checkpoint(state_dir, platform):
    witness.poll(state_dir, platform, now=T0)
    before = state_json(state_dir)
    line = platform.published[-1][1]
    platform.text = platform.checkpoint() + line + "\n"  # the platform shows our cosignature
    outcome = witness.poll(state_dir, platform, now=T0 + 5)
    assert (outcome.status, outcome.exit_code, outcome.message) == (
        witness.UNCHANGED, 0, "检查点未变化（树大小 5）")
    assert len(platform.published) == 1 and state_json(state_dir) == before


def test_unchanged_checkpoint_without_our_cosignature_republishes_it(state_dir, platform):
    platform.publish_down = True
    first = witness.poll(state_dir, platform, now=T0)
    assert first.status == witness.UNAVAILABLE and first.exit_code == 2
    assert "提交副署失败" in first.message
    assert state_json(state_dir)["size"] == 5  # verified, so held even though not delivered
    platform.publish_down = False
    again = witness.poll(state_dir, platform, now=T0 + 5)
    assert again.status == witness.UNCHANGED and "已重新提交副署" in again.message
    assert platform.published == [(5, first.cosignature)]


def test_fork_same_size_other_root_is_an_alarm_and_keeps_state(state_dir, platform, log_key):
    witness.poll(state_dir, platform, now=T0)
    before = (state_dir / witness.STATE_FILE).read_bytes()
    forked = FakePlatform(log_key, MemoryTree(entries(5, "rewritten")))
    outcome = witness.poll(state_dir, forked, now=T0 + 5)
    assert (outcome.status, outcome.alarm, outcome.exit_code) == (witness.ALARM, witness.FORK, 1)
    assert "分叉" in outcome.message and "根哈希却不同" in outcome.message
    assert outcome.checkpoint == forked.checkpoint()  # evidence
    assert forked.published == [] and (state_dir / witness.STATE_FILE).read_bytes() == before


def test_fork_larger_tree_with_rewritten_prefix_fails_the_consistency_proof(state_dir, platform, log_key):
    witness.poll(state_dir, platform, now=T0)
    before = (state_dir / witness.STATE_FILE).read_bytes()
    history = entries(5)
    history[2] = b"changed"
    rewritten = FakePlatform(log_key, MemoryTree(history + entries(4, "new")))
    outcome = witness.poll(state_dir, rewritten, now=T0 + 5)
    assert (outcome.status, outcome.alarm, outcome.exit_code) == (witness.ALARM, witness.FORK, 1)
    assert "一致性证明校验失败" in outcome.message and "历史记录可能被改写" in outcome.message
    assert rewritten.proofs == [(5, 9)] and rewritten.published == []
    assert (state_dir / witness.STATE_FILE).read_bytes() == before
    # the alarm repeats on the next poll: the witness still holds the good checkpoint
    assert witness.poll(state_dir, rewritten, now=T0 + 6).alarm == witness.FORK


def test_rollback_smaller_tree_is_an_alarm(state_dir, platform, log_key):
    witness.poll(state_dir, platform, now=T0)
    before = (state_dir / witness.STATE_FILE).read_bytes()
    truncated = FakePlatform(log_key, MemoryTree(entries(3)))
    outcome = witness.poll(state_dir, truncated, now=T0 + 5)
    assert (outcome.status, outcome.alarm, outcome.exit_code) == (witness.ALARM, witness.ROLLBACK, 1)
    assert (outcome.old_size, outcome.new_size) == (5, 3) and "回滚" in outcome.message
    assert (state_dir / witness.STATE_FILE).read_bytes() == before


def test_checkpoint_signed_by_a_wrong_key_is_an_alarm(state_dir, platform):
    impostor = FakePlatform(Ed25519LogKey(ORIGIN, Ed25519PrivateKey.generate()), platform.tree)
    outcome = witness.poll(state_dir, impostor, now=T0)
    assert (outcome.status, outcome.alarm, outcome.exit_code) == (witness.ALARM, witness.BAD_SIGNATURE, 1)
    assert "检查点签名无效" in outcome.message
    assert impostor.published == [] and state_json(state_dir)["size"] == 0


def test_tampered_checkpoint_signature_is_an_alarm(state_dir, platform):
    lines = platform.checkpoint().split("\n")
    lines[1] = "6"  # the size changed after signing: the pinned key's line no longer verifies
    platform.text = "\n".join(lines)
    outcome = witness.poll(state_dir, platform, now=T0)
    assert outcome.alarm == witness.BAD_SIGNATURE and "签名行校验失败" in outcome.message


def test_other_origin_is_an_alarm(tmp_path, log_key, platform):
    directory = tmp_path / "w"
    witness.init(directory, WITNESS_NAME, log_key.verifier.text(), origin="other.example/custody")
    outcome = witness.poll(directory, platform, now=T0)
    assert outcome.alarm == witness.WRONG_ORIGIN and "来源不符" in outcome.message


def test_transport_failure_is_unavailable(state_dir, platform):
    platform.down = True
    outcome = witness.poll(state_dir, platform, now=T0)
    assert (outcome.status, outcome.exit_code, outcome.new_size) == (witness.UNAVAILABLE, 2, None)
    assert "平台不可用" in outcome.message
    platform.down = False
    platform.text = "<html>502 Bad Gateway</html>"
    assert witness.poll(state_dir, platform, now=T0).status == witness.UNAVAILABLE
    assert state_json(state_dir)["size"] == 0


def test_corrupt_state_is_refused(state_dir, platform):
    (state_dir / witness.STATE_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(witness.WitnessStateError, match="无法读取见证人状态文件"):
        witness.poll(state_dir, platform)


# --- command line ----------------------------------------------------------------------


def run_main(argv, platform=None):
    out, err = io.StringIO(), io.StringIO()
    code = witness.main(argv, transport_factory=lambda url, token, timeout: platform,
                        out=out, err=err, now=T0)
    return code, out.getvalue(), err.getvalue()


def test_main_exit_codes(tmp_path, log_key, platform):
    state = str(tmp_path / "cli")
    code, out, _err = run_main(["init", "--state", state, "--name", WITNESS_NAME,
                                "--log-key", log_key.verifier.text()])
    assert code == 0 and out.strip().splitlines()[-1] == witness.WitnessState.load(state).public_key_text()
    code, _out, err = run_main(["init", "--state", state, "--name", WITNESS_NAME,
                                "--log-key", log_key.verifier.text()])
    assert code == 2 and "拒绝覆盖" in err
    poll = ["poll", "--state", state, "--url", "http://platform.test"]
    code, out, _err = run_main(poll, platform)
    assert code == 0 and "已副署" in out
    code, out, _err = run_main(poll, platform)
    assert code == 0 and "检查点未变化" in out
    code, out, _err = run_main(["show", "--state", state])
    assert code == 0 and "已副署树大小：5" in out and WITNESS_NAME in out
    code, _out, err = run_main(poll, FakePlatform(log_key, MemoryTree(entries(2))))
    assert code == 1 and "回滚" in err and "证据" in err
    platform.down = True
    code, _out, err = run_main(poll, platform)
    assert code == 2 and "平台不可用" in err
    code, _out, err = run_main(["show", "--state", str(tmp_path / "missing")])
    assert code == 2 and "请先运行 init" in err


def test_watch_polls_until_an_alarm(state_dir, platform, log_key):
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:  # the log is rewritten while the witness watches
            platform.tree = MemoryTree(entries(5, "forged") + entries(3))

    out, err = io.StringIO(), io.StringIO()
    code = witness.main(["poll", "--state", str(state_dir), "--url", "http://p.test", "--watch", "7"],
                        transport_factory=lambda *a: platform, out=out, err=err, sleep=sleep, now=T0)
    assert code == 1 and sleeps == [7, 7] and "分叉" in err.getvalue()
    assert "已副署" in out.getvalue() and "检查点未变化" in out.getvalue()


def test_token_comes_from_the_environment(state_dir, platform, monkeypatch):
    seen = []
    monkeypatch.setenv(witness.TOKEN_ENV, "secret-from-env")
    witness.main(["poll", "--state", str(state_dir), "--url", "http://p.test"],
                 transport_factory=lambda url, token, timeout: seen.append(token) or platform,
                 out=io.StringIO(), err=io.StringIO())
    witness.main(["poll", "--state", str(state_dir), "--url", "http://p.test", "--token", "cli"],
                 transport_factory=lambda url, token, timeout: seen.append(token) or platform,
                 out=io.StringIO(), err=io.StringIO())
    assert seen == ["secret-from-env", "cli"]


def test_management_command_delegates_and_exits_with_the_code(tmp_path, log_key, platform, monkeypatch):
    state = str(tmp_path / "mc")
    out = io.StringIO()
    call_command("witness", "init", "--state", state, "--name", WITNESS_NAME,
                 "--log-key", log_key.verifier.text(), stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith(WITNESS_NAME + "+")
    current = {"platform": platform}
    monkeypatch.setattr(witness, "HttpTransport", lambda url, token, timeout: current["platform"])
    out = io.StringIO()
    call_command("witness", "poll", "--state", state, "--url", "http://p.test", stdout=out)
    assert "已副署" in out.getvalue()
    current["platform"] = FakePlatform(log_key, MemoryTree(entries(5, "x")))
    with pytest.raises(SystemExit) as exc:
        call_command("witness", "poll", "--state", state, "--url", "http://p.test",
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert exc.value.code == 1
    platform.down = True
    current["platform"] = platform
    with pytest.raises(SystemExit) as exc:
        call_command("witness", "poll", "--state", state, "--url", "http://p.test",
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert exc.value.code == 2


def test_module_runs_standalone_without_django(tmp_path, log_key):
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = ("import sys, custody.witness as w; rc = w.main(sys.argv[1:]); "
            "assert 'django' not in sys.modules, 'imported Django'; sys.exit(rc)")
    args = ["init", "--state", str(tmp_path / "s"), "--name", WITNESS_NAME, "--log-key", log_key.verifier.text()]
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(WITNESS_NAME + "+")
    result = subprocess.run([sys.executable, "-m", "custody.witness", "poll", "--state", str(tmp_path / "s"),
                             "--url", "http://127.0.0.1:9", "--timeout", "5"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "无法连接平台" in result.stderr and "Traceback" not in result.stderr


# --- HttpTransport ---------------------------------------------------------------------


class FakeServer:
    """The platform's custody API in a thread, backed by a FakePlatform."""

    def __init__(self, platform: FakePlatform) -> None:
        self.platform = platform
        self.requests: list[tuple[str, str, str | None, bytes]] = []
        self.fail_with: int | None = None
        self.body_override: bytes | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, payload):
                raw = server.body_override if server.body_override is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append((self.command, self.path, self.headers.get("Authorization"), body))
                return body

            def do_GET(self):
                self._record()
                if server.fail_with:
                    return self._reply(server.fail_with, {"detail": "服务器内部错误"})
                from urllib.parse import parse_qs, urlsplit
                url = urlsplit(self.path)
                if url.path == "/api/v1/custody/checkpoint":
                    tree = server.platform.tree
                    return self._reply(200, {"checkpoint": server.platform.checkpoint(), "size": tree.size,
                                             "root": note.b64encode(tree.root())})
                if url.path == "/api/v1/custody/proof/consistency":
                    q = parse_qs(url.query)
                    first, second = int(q["first"][0]), int(q["second"][0])
                    proof = server.platform.tree.consistency_proof(first, second)
                    return self._reply(200, {"first": first, "second": second,
                                             "proof": [note.b64encode(h) for h in proof]})
                return self._reply(404, {"detail": "not found"})

            def do_POST(self):
                body = self._record()
                if server.fail_with:
                    return self._reply(server.fail_with, {"detail": "error"})
                size = int(self.path.split("/")[-2])
                server.platform.published.append((size, json.loads(body)["cosignature"]))
                return self._reply(201, {"ok": True})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_http_transport_round_trip(state_dir, platform):
    with FakeServer(platform) as server:
        transport = witness.HttpTransport(server.url + "/", "tok-123", timeout=5)
        assert witness.poll(state_dir, transport, now=T0).status == witness.COSIGNED
        for entry in entries(3, "more"):
            platform.tree.append_entry(entry)
        outcome = witness.poll(state_dir, transport, now=T0 + 1)
        assert outcome.status == witness.COSIGNED and outcome.new_size == 8
    methods_paths = [(m, p) for m, p, _auth, _body in server.requests]
    assert methods_paths == [
        ("GET", "/api/v1/custody/checkpoint"),
        ("POST", "/api/v1/custody/checkpoints/5/cosignatures"),
        ("GET", "/api/v1/custody/checkpoint"),
        ("GET", "/api/v1/custody/proof/consistency?first=5&second=8"),
        ("POST", "/api/v1/custody/checkpoints/8/cosignatures"),
    ]
    assert all(auth == "Bearer tok-123" for _m, _p, auth, _b in server.requests)
    body = json.loads(server.requests[-1][3])
    assert body == {"cosignature": outcome.cosignature} and body["cosignature"].startswith("\u2014 " + WITNESS_NAME)
    assert platform.published[-1] == (8, outcome.cosignature)


def test_http_transport_errors_are_witness_unavailable(platform):
    with FakeServer(platform) as server:
        transport = witness.HttpTransport(server.url, "tok", timeout=5)
        server.fail_with = 500
        with pytest.raises(witness.WitnessUnavailable, match="HTTP 500"):
            transport.latest_checkpoint()
        with pytest.raises(witness.WitnessUnavailable, match="HTTP 500"):
            transport.publish(5, "\u2014 w AAAA")
        server.fail_with = None
        server.body_override = b"<html>not json</html>"
        with pytest.raises(witness.WitnessUnavailable, match="不是 JSON"):
            transport.latest_checkpoint()
        server.body_override = b'{"proof": ["%%%"]}'
        with pytest.raises(witness.WitnessUnavailable, match="base64"):
            transport.consistency_proof(2, 5)
        server.body_override = b'{"size": 5}'
        with pytest.raises(witness.WitnessUnavailable, match="checkpoint"):
            transport.latest_checkpoint()
    with pytest.raises(witness.WitnessUnavailable, match="无法连接平台"):
        witness.HttpTransport(server.url, "tok", timeout=2).latest_checkpoint()  # server gone
    with pytest.raises(witness.WitnessError, match="http"):
        witness.HttpTransport("file:///etc/passwd", "tok")
