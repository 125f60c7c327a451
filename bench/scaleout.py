#!/usr/bin/env python
"""Scale-out benchmark: 8 concurrent uploads through the two-node cluster into Ceph RGW (issue 8).

Starts ``bin/cluster`` (two web nodes, two workers, nginx, PostgreSQL, Redis, Ceph RGW with a
file-backed BlueStore OSD) in a temporary directory, then in the same run:

  baseline   boto3 ``upload_file`` of the same N files from N threads straight into the
             cluster's RGW (the best a client can do against this store)
  platform   N tus uploads at once through nginx (one PATCH each, sent with sendfile)

Prints ``name: value`` lines:
  s3_baseline_MBps            aggregate of the boto3 uploads
  s3_upload_MBps              aggregate of the tus uploads, until every PATCH is acknowledged
  s3_ingest_ratio             s3_upload_MBps / s3_baseline_MBps                     (target ≥ 0.7)
  s3_catalogued_MBps          aggregate until every item is catalogued (commit + read-back)
  peak_rss_mb                 largest RSS of any web node or worker process (target ≤ 300)
  range_ttfb_p95_ms_s3        first body byte of ``Range: bytes=<random>-`` through nginx on a
                              recording in S3, signed in by token                   (target ≤ 80)
  range_ttfb_p95_ms_rgw       the same ranges straight from RGW with boto3 (baseline)
  cpu_ms_per_MB_<phase>_<who> CPU per MB during the boto3 baseline and the tus uploads, by kind
                              of process (web, worker, rgw, osd, mon, nginx, client, machine)

  --profile "perf record -a -g -o FILE" runs that command during the tus uploads (SIGINT after)

Usage: .venv/bin/python bench/scaleout.py [--files 8] [--size-mib 512] [--ranges 60]
"""

from __future__ import annotations

import argparse
import random
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# bench/ itself (sys.path[0] for a script) must not be on the path: bench/concurrent.py would
# shadow the standard library's ``concurrent`` package that boto3 imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.upload import cpu_times, make_file, rss_mb  # noqa: E402
from core.testing_cluster import Cluster, _read_pairs  # noqa: E402
from core.testing_server import _descendants  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def s3_client(env: dict):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=env["AVR_S3_ENDPOINT"], region_name="us-east-1",
        aws_access_key_id=env["AVR_S3_ACCESS_KEY"], aws_secret_access_key=env["AVR_S3_SECRET_KEY"],
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=32,
                      request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"),
    )


def tus_upload(cluster: Cluster, path: Path) -> int:
    """One tus upload through nginx, the body sent with sendfile; returns the ingest item id."""
    size = path.stat().st_size
    location = cluster.create_upload(size, path.name)
    conn = cluster.connection(timeout=1800)
    try:
        conn.putrequest("PATCH", location, skip_accept_encoding=True)
        for key, value in cluster.tus(**{"Upload-Offset": "0", "Content-Length": str(size),
                                          "Content-Type": "application/offset+octet-stream"}).items():
            conn.putheader(key, value)
        conn.endheaders()
        with open(path, "rb") as handle:
            conn.sock.sendfile(handle, 0, size)
        response = conn.getresponse()
        body = response.read()
        if response.status != 204:
            raise SystemExit(f"PATCH failed: {response.status} {body[:300]!r}")
        return int(response.getheader("X-Ingest-Item"))
    finally:
        conn.close()


def in_threads(fn, items) -> float:
    errors: list[BaseException] = []

    def run(item):
        try:
            fn(item)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in items]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"failed: {errors[0]!r}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--ranges", type=int, default=60)
    parser.add_argument("--profile", default="", help="a profiler command run during the uploads")
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var", prefix="bench-scaleout-") as tmp:
        tmp = Path(tmp)
        files = []
        for i in range(args.files):
            path = tmp / f"DSJ-S3-{i:02d}.MP4"
            make_file(path, size)
            files.append(path)
        cluster = Cluster(tmp / "cluster", AVR_CEPH_OBJECTSTORE="bluestore",
                          AVR_CEPH_BLUESTORE_BYTES=str(max(20, 4 * args.files * args.size_mib // 1024) * 1024**3))
        cluster.start()
        try:
            env = _read_pairs(cluster.dir / "cluster.env")
            client = s3_client(env)
            bucket = env["AVR_S3_DERIVATIVE_BUCKET"]
            base_before = cpu_times()
            baseline_s = in_threads(lambda p: client.upload_file(str(p), bucket, f"bench/{p.name}"), files)
            base_after = cpu_times()

            names = ("webA", "webB", "worker1", "worker2")
            pids = [int((cluster.dir / "pids" / f"{n}.pid").read_text().split()[0]) for n in names]
            peak = [0.0, ""]
            done = threading.Event()

            def sample():  # every process of each node: gunicorn's workers are children
                while not done.is_set():
                    for name, pid in zip(names, pids, strict=True):
                        for child in _descendants(pid):
                            rss = rss_mb(child)
                            if rss > peak[0]:
                                peak[:] = [rss, f"{name} pid {child}" + (" (master)" if child == pid else "")]
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            items: list[int] = []
            profiler = subprocess.Popen(shlex.split(args.profile)) if args.profile else None
            before = cpu_times()
            start = time.perf_counter()
            upload_s = in_threads(lambda p: items.append(tus_upload(cluster, p)), files)
            uploaded = cpu_times()
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=120)
            finals = [cluster.wait_final(item) for item in items]
            catalogued_s = time.perf_counter() - start
            done.set()
            sampler.join()

            recording = finals[0]["recording_id"]
            ttfb, rgw = [], []
            rng = random.Random(1)
            name = "bench/" + files[0].name
            for _ in range(args.ranges):
                offset = rng.randrange(0, size - 1)
                conn = cluster.connection()
                t = time.perf_counter()
                conn.request("GET", f"/api/v1/recordings/{recording}/content",
                             headers=cluster.headers(Range=f"bytes={offset}-"))
                response = conn.getresponse()
                response.read(1)
                ttfb.append((time.perf_counter() - t) * 1000)
                assert response.status == 206, response.status
                conn.close()
                t = time.perf_counter()
                body = client.get_object(Bucket=bucket, Key=name, Range=f"bytes={offset}-")["Body"]
                body.read(1)
                rgw.append((time.perf_counter() - t) * 1000)
                body.close()
        finally:
            cluster.stop()
        total = size * len(files) / 1e6
        print(f"files: {len(files)}")
        print(f"size_mib: {args.size_mib}")
        print(f"s3_baseline_MBps: {total / baseline_s:.0f}")
        print(f"s3_upload_MBps: {total / upload_s:.0f}")
        print(f"s3_ingest_ratio: {baseline_s / upload_s:.2f}")
        print(f"s3_catalogued_MBps: {total / catalogued_s:.0f}")
        print(f"peak_rss_mb: {peak[0]:.0f}")
        print(f"peak_rss_process: {peak[1]}")
        print(f"range_ttfb_p95_ms_s3: {p95(ttfb):.1f}")
        print(f"range_ttfb_p95_ms_rgw: {p95(rgw):.1f}")
        megabytes = total
        for phase, (a, b) in {"baseline": (base_before, base_after), "upload": (before, uploaded)}.items():
            for who in b:
                print(f"cpu_ms_per_MB_{phase}_{who}: {(b[who] - a[who]) * 1000 / megabytes:.2f}")


if __name__ == "__main__":
    sys.exit(main())
