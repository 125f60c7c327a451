#!/usr/bin/env python
"""Upload benchmark: a 2 GiB file through the web server over loopback with a tus client.

The platform is started with ``bin/up`` (the README's first command) on a free port and a
throw-away var dir; the client is a minimal streaming tus 1.0 client (creation + PATCH).

Prints ``name: value`` lines:
  ingest_s      the same file written straight into a vault (digests in one pass)
  upload_s      the tus upload through gunicorn (started as bin/up starts it)
  upload_ratio  ingest_s / upload_s              (target >= 0.7)
  peak_rss_mb   largest RSS of any server or worker process during the upload (target <= 300)

Usage: .venv/bin/python bench/upload.py [--size-mib 2048] [--chunk-mib 0]
(--chunk-mib 0 sends the whole file in one PATCH, as Uppy does by default.)
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core.testing_server import _descendants, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def make_file(path: Path, size: int) -> None:
    block = bytearray(os.urandom(16 * 1024 * 1024))
    with open(path, "wb") as out:
        written = 0
        while written < size:
            n = min(len(block), size - written)
            out.write(block[:n])
            block[written % len(block)] ^= 0xFF  # not periodic: every block differs
            written += n


# what a process is, by its command line (first match): the benchmarks' CPU accounting
PROCESS_KINDS = (("gunicorn", "web"), ("run_huey", "worker"), ("radosgw", "rgw"),
                 ("ceph-osd", "osd"), ("ceph-mon", "mon"), ("nginx", "nginx"))


def cpu_times() -> dict[str, float]:
    """CPU seconds (user + system) so far of every running process of each kind above, of this
    process ("client") and of the whole machine (from /proc/stat: kernel threads included,
    idle and iowait not). Differences over a phase divided by its bytes give ms per MB."""
    tick = os.sysconf("SC_CLK_TCK")
    times = dict.fromkeys([kind for _, kind in PROCESS_KINDS], 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = next((k for needle, k in PROCESS_KINDS if needle.encode() in cmdline), None)
        if kind:
            times[kind] += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    usage = os.times()
    times["client"] = usage.user + usage.system
    with open("/proc/stat") as stat:
        jiffies = [int(v) for v in stat.readline().split()[1:]]
    times["machine"] = (sum(jiffies) - jiffies[3] - jiffies[4]) / tick
    return times


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def time_vault_ingest(path: Path, var: Path) -> float:
    code = (
        "import time;from storage.backends.filesystem import FilesystemBackend;"
        f"b=FilesystemBackend({str(var / 'bench-vault')!r});t=time.perf_counter();"
        f"b.write(open({str(path)!r},'rb'));print(time.perf_counter()-t)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "AVR_VAR_DIR": str(var)}
    out = subprocess.run([PY, "-c", "import django;django.setup();" + code], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True)
    shutil.rmtree(var / "bench-vault", ignore_errors=True)
    return float(out.stdout.strip().splitlines()[-1])


SETUP_USER = """
from core.testing import make_unit, make_person
from orgs.services import issue_api_token
person = make_person("officer", unit=make_unit(), username="bench")
row, secret = issue_api_token(person, "bench", actor=None)
print("TOKEN=" + secret)
"""


def start_platform(var: Path, port: int) -> tuple[subprocess.Popen, str]:
    """Migrate and make a token, then start the platform exactly as the README's first command does."""
    env = {**os.environ, "AVR_VAR_DIR": str(var), "AVR_BIND": f"127.0.0.1:{port}", "AVR_ACCESS_LOG": ""}
    env.pop("DATABASE_URL", None)
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run([PY, "manage.py", "shell", "-c", SETUP_USER], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    token = next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))
    platform = subprocess.Popen([str(ROOT / "bin" / "up")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if platform.poll() is not None:
            raise SystemExit("bin/up exited before the server answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("OPTIONS", "/api/v1/uploads/")
            if conn.getresponse().status == 204:
                return platform, token
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


def tus_upload(port: int, token: str, path: Path, chunk: int) -> float:
    size = path.stat().st_size
    meta = "filename " + base64.b64encode(path.name.encode()).decode()
    headers = {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=1024 * 1024)
    start = time.perf_counter()
    conn.request("POST", "/api/v1/uploads/", headers={**headers, "Upload-Length": str(size), "Upload-Metadata": meta})
    response = conn.getresponse()
    response.read()
    if response.status != 201:
        raise SystemExit(f"creation failed: {response.status}")
    location = response.getheader("Location")
    offset = 0
    with open(path, "rb") as handle:
        while offset < size:
            length = size - offset if chunk <= 0 else min(chunk, size - offset)
            conn.putrequest("PATCH", location, skip_accept_encoding=True)
            for key, value in {**headers, "Upload-Offset": str(offset), "Content-Length": str(length),
                               "Content-Type": "application/offset+octet-stream"}.items():
                conn.putheader(key, value)
            conn.endheaders()
            # sendfile: the client costs the machine (shared with the server here) next to nothing,
            # as a dock on its own machine would
            conn.sock.sendfile(handle, offset, length)
            response = conn.getresponse()
            response.read()
            if response.status != 204:
                raise SystemExit(f"PATCH failed: {response.status}")
            offset = int(response.getheader("Upload-Offset"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--chunk-mib", type=int, default=0)
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var", prefix="bench-upload-") as tmp:
        var = Path(tmp)
        source = var / "bench_2g.MP4"
        make_file(source, args.size_mib * 1024 * 1024)
        subprocess.run(["cat", str(source)], stdout=subprocess.DEVNULL, check=True)  # warm cache
        ingest_s = time_vault_ingest(source, var)
        port = free_port()
        platform, token = start_platform(var, port)
        peak = [0.0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                pids = [p for p in _descendants(platform.pid) if p != platform.pid]  # not the bash script
                peak[0] = max([peak[0]] + [rss_mb(p) for p in pids])
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            upload_s = tus_upload(port, token, source, args.chunk_mib * 1024 * 1024)
            time.sleep(2.0)  # keep sampling while the worker runs the pipeline on the new original
        finally:
            done.set()
            sampler.join()
            os.killpg(platform.pid, signal.SIGTERM)
            platform.wait(timeout=30)
        print(f"size_mib: {args.size_mib}")
        print(f"ingest_s: {ingest_s:.3f}")
        print(f"upload_s: {upload_s:.3f}")
        print(f"upload_ratio: {ingest_s / upload_s:.3f}")
        print(f"peak_rss_mb: {peak[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
