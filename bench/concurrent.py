#!/usr/bin/env python
"""Concurrent uploads on the embedded default: the dock at shift change (issue 8).

The platform is started as the README's first command starts it (``bin/up``, SQLite and the
filesystem vault) on a free port; N different files are uploaded at once through tus from N
threads, each one PATCH, as Uppy and the dock agent send them.

Prints ``name: value`` lines:
  sm3_single_MBps       ``openssl dgst -sm3`` on one of the files (the slowest stage, sequential)
  single_MBps           one upload alone through the platform
  concurrent_MBps       aggregate of N uploads at once (total bytes / wall time)
  concurrent_ratio      concurrent_MBps / (min(cores, N) × sm3_single_MBps)      (target ≥ 0.6)
  concurrent_speedup    concurrent_MBps / single_MBps
  peak_rss_mb           largest RSS of any platform process meanwhile
  cpu_ms_per_MB_<who>   CPU time (user + system) per MB uploaded during the concurrent phase:
                        web (gunicorn), worker (Huey), client (this script's sendfile), machine
                        (all of it, kernel threads included) — bench.upload.cpu_times

Usage: .venv/bin/python bench/concurrent.py [--files 8] [--size-mib 512] [--web-workers N]
       [--profile "perf record -a -g -o /tmp/perf.data"]   (run during the concurrent phase,
                                                            stopped with SIGINT)
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from upload import ROOT, cpu_times, make_file, rss_mb, start_platform, tus_upload  # noqa: E402

from core.testing_server import _descendants, free_port  # noqa: E402


def sm3_rate(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["openssl", "dgst", "-sm3", str(path)], check=True, capture_output=True)
    return path.stat().st_size / (time.perf_counter() - start) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--web-workers", type=int, default=0, help="AVR_WEB_WORKERS (0: the default)")
    parser.add_argument("--profile", default="", help="a profiler command run during the concurrent phase")
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    cores = os.cpu_count() or 1
    if args.web_workers:
        os.environ["AVR_WEB_WORKERS"] = str(args.web_workers)
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var", prefix="bench-concurrent-") as tmp:
        var = Path(tmp)
        files = []
        for i in range(args.files):
            path = var / f"DSJ-{i:02d}.MP4"
            make_file(path, size)
            files.append(path)
        for path in files:
            subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm cache
        sm3 = max(sm3_rate(files[0]) for _ in range(2))
        port = free_port()
        platform, token = start_platform(var, port)
        peak = [0.0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                pids = [p for p in _descendants(platform.pid) if p != platform.pid]
                peak[0] = max([peak[0]] + [rss_mb(p) for p in pids])
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            single = size / tus_upload(port, token, files[0], 0) / 1e6
            time.sleep(3)  # let the worker finish the first one's pipeline
            errors: list[BaseException] = []

            def one(path):
                try:
                    tus_upload(port, token, path, 0)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=one, args=(p,)) for p in files[1:] + files[:1]]
            # files[0] again too: a duplicate of bytes already stored is still a full upload
            profiler = subprocess.Popen(shlex.split(args.profile)) if args.profile else None
            before = cpu_times()
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            after = cpu_times()
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=120)
            if errors:
                raise SystemExit(f"an upload failed: {errors[0]}")
        finally:
            done.set()
            sampler.join()
            os.killpg(platform.pid, signal.SIGTERM)
            platform.wait(timeout=30)
        aggregate = size * len(files) / wall / 1e6
        print(f"files: {len(files)}")
        print(f"size_mib: {args.size_mib}")
        print(f"cores: {cores}")
        print(f"sm3_single_MBps: {sm3:.0f}")
        print(f"single_MBps: {single:.0f}")
        print(f"concurrent_MBps: {aggregate:.0f}")
        print(f"concurrent_ratio: {aggregate / (min(cores, len(files)) * sm3):.2f}")
        print(f"concurrent_speedup: {aggregate / single:.2f}")
        print(f"peak_rss_mb: {peak[0]:.0f}")
        megabytes = size * len(files) / 1e6
        for who in after:
            print(f"cpu_ms_per_MB_{who}: {(after[who] - before[who]) * 1000 / megabytes:.2f}")


if __name__ == "__main__":
    sys.exit(main())
