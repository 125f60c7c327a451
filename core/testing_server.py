"""Start the platform for real (gunicorn + Huey consumer) against a throw-away var dir.

Used by tests that must cross a real socket (the browser journey, a server
killed mid-upload) and by the benchmarks. Never touches the test database.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Platform:
    """``with Platform(var_dir) as p:`` migrates, then runs web (+ worker) until the block ends."""

    def __init__(self, var_dir: Path, *, worker: bool = True, extra_env: dict | None = None):
        self.var_dir = Path(var_dir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.worker = worker
        self.env = {
            **os.environ,
            "AVR_VAR_DIR": str(self.var_dir),
            "AVR_BIND": f"127.0.0.1:{self.port}",
            "AVR_ACCESS_LOG": "",
            "AVR_HUEY_IMMEDIATE": "0",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **(extra_env or {}),
        }
        # the embedded default: SQLite, vault and queue under var_dir — also when the calling
        # shell points at a store (eval "$(bin/ceph env)" exports AVR_VAULT_BACKEND and AVR_S3_*)
        inherited = [n for n in self.env if n.startswith("AVR_S3_")]
        for name in ("DATABASE_URL", "REDIS_URL", "AVR_VAULT_DIR", "AVR_VAULT_BACKEND", *inherited):
            if name not in (extra_env or {}):
                self.env.pop(name, None)
        self.web: subprocess.Popen | None = None
        self.consumer: subprocess.Popen | None = None
        self.log = self.var_dir / "platform.log"

    # -- set-up ---------------------------------------------------------------
    def manage(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    # -- processes ------------------------------------------------------------
    def start(self) -> Platform:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "-v0")
        self.start_web()
        if self.worker:
            self.start_worker()
        return self

    def _spawn(self, *argv: str) -> subprocess.Popen:
        with open(self.log, "ab") as log:
            return subprocess.Popen(list(argv), cwd=ROOT, env=self.env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start_web(self, timeout: float = 30) -> None:
        self.web = self._spawn(str(GUNICORN), "-c", "config/gunicorn.conf.py")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("OPTIONS", "/api/v1/uploads/")
                if conn.getresponse().status == 204:
                    return
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not come up in {timeout} s")

    def start_worker(self) -> None:
        self.consumer = self._spawn(str(PYTHON), "manage.py", "run_huey")

    @staticmethod
    def _stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def kill_web(self) -> None:
        """SIGKILL the web server's whole process group (a crash, not a shutdown)."""
        self._stop(self.web, signal.SIGKILL)

    def stop(self) -> None:
        self._stop(self.web)
        self._stop(self.consumer)

    def pids(self) -> list[int]:
        """Every process of the platform (for memory sampling)."""
        found = []
        for proc in (self.web, self.consumer):
            if proc is not None and proc.poll() is None:
                found.extend(_descendants(proc.pid))
        return found

    def __enter__(self) -> Platform:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _descendants(pid: int) -> list[int]:
    out = [pid]
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            out.extend(_descendants(int(child)))
    return out
