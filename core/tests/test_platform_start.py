"""Starting the platform for real: `bin/up --demo`, two instances side by side, log time stamps.

Issue 6: the banner after `bin/up --demo` still said to load the demo data; bootstrap and the demo
made two root departments; log lines mixed UTC and +08:00; every instance used gunicorn's one
control socket under the home folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.testing_server import ROOT, Platform, free_port

SHANGHAI = ZoneInfo("Asia/Shanghai")

# "[2026-05-20 14:03:07 +0800]" (gunicorn's error log, Django, Huey) and
# "[20/May/2026:14:03:07 +0800]" (gunicorn's access log)
_STAMPS = (
    (re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ([+-]\d{4})\]"), "%Y-%m-%d %H:%M:%S %z"),
    (re.compile(r"\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) ([+-]\d{4})\]"), "%d/%b/%Y:%H:%M:%S %z"),
)
_RECORD_START = re.compile(r"^\[\d{4}-|^\S+ - \S+ \[")  # a log record's first line


def _stamps(line: str) -> list[datetime]:
    found = []
    for pattern, fmt in _STAMPS:
        for text, offset in pattern.findall(line):
            found.append(datetime.strptime(f"{text} {offset}", fmt))
    return found


def assert_log_times_in_platform_zone(text: str, *, since: datetime) -> int:
    """Every log record carries one time stamp, in Asia/Shanghai with its offset, and it is right."""
    records = [line for line in text.splitlines() if _RECORD_START.match(line)]
    assert records, text
    for line in records:
        stamps = _stamps(line)
        assert stamps, f"no time stamp with an offset: {line!r}"
        for stamp in stamps:
            assert stamp.utcoffset() == timedelta(hours=8), line
            # the wall-clock time is Shanghai's, not UTC's labelled +0800
            assert since - timedelta(seconds=5) <= stamp <= datetime.now(SHANGHAI), line
    return len(records)


def _base_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "TZ": "UTC",  # the machine's zone is not the platform's
        "HOME": str(home),
        "XDG_RUNTIME_DIR": "",  # gunicorn's default socket would then be ~/.gunicorn/gunicorn.ctl
        "AVR_ACCESS_LOG": "-",
    }


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


# --- gunicorn: one control socket per instance, under its AVR_VAR_DIR -------------------------


def _wait_for_socket(path: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_socket():
            return path
        time.sleep(0.1)
    raise AssertionError(f"no control socket at {path}")


def _master_pid(socket_path: Path) -> int:
    from gunicorn.ctl.client import ControlClient

    with ControlClient(str(socket_path), timeout=10) as client:
        return client.send_command("show stats")["pid"]


def test_two_instances_on_one_machine_each_have_their_own_control_socket(tmp_path):
    env = _base_env(tmp_path)
    a = Platform(tmp_path / "a", worker=False, extra_env=env)
    b = Platform(tmp_path / "b", worker=False, extra_env=env)
    try:
        a.start()
        b.start()
        sockets = [_wait_for_socket(p.var_dir / "gunicorn.ctl") for p in (a, b)]
        assert [_master_pid(s) for s in sockets] == [a.web.pid, b.web.pid]

        a.stop()
        # the first one's shutdown removes its own socket, never the other's
        assert not sockets[0].exists()
        assert _master_pid(sockets[1]) == b.web.pid
        assert not (Path(env["HOME"]) / ".gunicorn").exists()
    finally:
        a.stop()
        b.stop()


def test_gunicorn_config_control_socket_follows_var_dir_or_is_off():
    script = (
        "from gunicorn.config import Config;c=Config();"
        "[c.set(k,v) for k,v in __import__('runpy').run_path('config/gunicorn.conf.py').items()"
        " if k in c.settings];print(c.control_socket, c.control_socket_disable)"
    )

    def computed(var_dir: str) -> str:
        env = {**os.environ, "AVR_VAR_DIR": var_dir}
        return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()

    assert computed("/srv/avr-a") == "/srv/avr-a/gunicorn.ctl False"
    assert computed("/srv/avr-b") == "/srv/avr-b/gunicorn.ctl False"
    deep = "/srv/" + "d" * 120
    assert computed(deep) == f"{deep}/gunicorn.ctl True"  # too long for a Unix socket: off


# --- every log line in the platform's time zone --------------------------------------------------


def test_web_worker_and_django_log_lines_all_in_asia_shanghai(tmp_path):
    since = datetime.now(SHANGHAI).replace(microsecond=0)
    platform = Platform(tmp_path / "v", extra_env=_base_env(tmp_path))
    (platform.var_dir / "static").mkdir(parents=True)  # no WhiteNoise warning in the log
    with platform:
        assert _get(platform.port, "/login/") == 200
        django_line = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", "shell", "-c",
             "import logging; logging.getLogger('storage').warning('probe')"],
            cwd=ROOT, env=platform.env, capture_output=True, text=True, check=True,
        ).stderr
        deadline = time.monotonic() + 30
        while "Huey consumer started" not in platform.log.read_text():
            assert time.monotonic() < deadline, platform.log.read_text()
            time.sleep(0.2)
    log = platform.log.read_text()
    assert '"GET /login/ HTTP/1.1" 200' in log  # an access-log line
    assert "Booting worker" in log and "huey.consumer" in log
    assert assert_log_times_in_platform_zone(log, since=since) >= 6
    assert "[WARNING] storage: probe" in django_line
    assert assert_log_times_in_platform_zone(django_line, since=since) == 1


# --- bin/up --demo ----------------------------------------------------------------------------


def _stamp_is_fresh(stamp: Path, want: str) -> bool:
    return stamp.exists() and stamp.read_text().strip() == want


def _bin_up_would_install() -> bool:
    """bin/up installs when its stamps are stale; a test must never install packages."""
    py = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    py += "-" + sys.version.split()[0]
    node = hashlib.sha256(
        b"".join((ROOT / name).read_bytes() for name in ("package.json", "package-lock.json"))
    ).hexdigest()
    return not (
        _stamp_is_fresh(ROOT / ".venv" / ".avr-deps", py)
        and _stamp_is_fresh(ROOT / "node_modules" / ".avr-stamp", node)
    )


class BinUp:
    """`bin/up [args]` in the background, its output in a file, stopped as Ctrl-C stops it."""

    def __init__(self, tmp_path: Path, *args: str):
        self.var_dir = tmp_path / "var"
        self.port = free_port()
        self.output = tmp_path / f"up{'-'.join(args)}.log"
        env = {**os.environ, **_base_env(tmp_path), "AVR_VAR_DIR": str(self.var_dir),
               "AVR_BIND": f"127.0.0.1:{self.port}"}
        for name in ("DATABASE_URL", "REDIS_URL", "AVR_VAULT_DIR", "AVR_HUEY_IMMEDIATE"):
            env.pop(name, None)
        self.env = env
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen([str(ROOT / "bin" / "up"), *args], cwd=ROOT, env=env,
                                            stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for_banner(self, timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while "press Ctrl-C to stop" not in self.text():
            if self.process.poll() is not None:
                raise AssertionError(f"bin/up exited:\n{self.text()[-4000:]}")
            assert time.monotonic() < deadline, self.text()[-4000:]
            time.sleep(0.5)
        return self.text()

    def stop(self) -> None:
        if self.process.poll() is None:
            # TERM takes the same path as Ctrl-C (INT may be ignored in a background child)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # nothing of it may outlive the test

    def query(self, code: str) -> str:
        return subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "shell", "-c", code],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[-1]  # after shell's notes


_ROOTS = (
    "from orgs.models import Department as D, Person as P;"
    "print([d.code for d in D.objects.filter(parent=None)], P.objects.get(username='admin').department.code)"
)


@pytest.mark.req("ACC-6", "INT-1")
@pytest.mark.skipif(_bin_up_would_install(), reason="bin/up would install packages (stale stamps)")
def test_bin_up_demo_one_tree_banner_says_what_was_done_logs_in_one_zone(tmp_path):
    since = datetime.now(SHANGHAI).replace(microsecond=0)
    up = BinUp(tmp_path, "--demo")
    try:
        text = up.wait_for_banner()
        assert _get(up.port, "/login/") == 200
        time.sleep(1)
    finally:
        up.stop()
    text = up.text()
    banner = text[text.index("the platform is running"):]
    assert "演示数据已载入" in banner
    assert "seed_demo" not in banner and "another terminal" not in banner
    assert "演示账号" in text and "Demo-2026!" in text  # listed above the banner
    assert OTP_SHOWN.search(text)
    assert up.query(_ROOTS) == "['DEMO-PROV'] DEMO-PROV"
    # bin/up's own lines ("==> ...") and the commands' output carry no time; log records do
    assert assert_log_times_in_platform_zone(text, since=since) >= 5
    assert not (tmp_path / "home" / ".gunicorn").exists()

    again = BinUp(tmp_path)  # the same var dir, without --demo: still one tree
    try:
        text = again.wait_for_banner()
    finally:
        again.stop()
    banner = text[text.index("the platform is running"):]
    assert "bin/up --demo" in banner and "演示数据已载入" not in banner
    assert not OTP_SHOWN.search(text)
    assert again.query(_ROOTS) == "['DEMO-PROV'] DEMO-PROV"


OTP_SHOWN = re.compile(r"一次性密码 \S+（首次登录须修改）")
