"""The local scale-out cluster (bin/cluster): an upload survives the web node it began on.

Two web nodes behind nginx (sticky `hash $request_uri consistent` for tus), two Huey workers,
PostgreSQL, Redis and a Ceph RGW of the cluster's own (uploads in progress are segment objects
in S3; upload locks are PostgreSQL advisory locks). An upload begun through web node A resumes
through web node B after A is SIGKILLed mid-body, and ends as one record with the right SHA-256
and SM3; each node then serves the same bytes of a record.

The cluster starts its own Ceph (not the test one), so these run in bin/test's PostgreSQL pass
(AVR_REQUIRE_S3=1) or when asked for with AVR_TEST_CLUSTER=1; elsewhere they skip.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import random
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from core.testing_server import PYTHON, ROOT, free_port

ENABLED = os.environ.get("AVR_REQUIRE_S3") == "1" or os.environ.get("AVR_TEST_CLUSTER") == "1"

pytestmark = [
    pytest.mark.xdist_group("cluster"),  # one cluster per run: bin/test distributes with loadgroup
    pytest.mark.cluster,
    pytest.mark.postgres,
    pytest.mark.s3,
    pytest.mark.skipif(
        not ENABLED, reason="cluster tests: bin/test's PostgreSQL pass, or AVR_TEST_CLUSTER=1"
    ),
]

CLUSTER = ROOT / "bin" / "cluster"
MiB = 1024 * 1024
SIZE = 96 * MiB
SEND_BEFORE_KILL = 40 * MiB
SEGMENT = 16 * MiB  # storage/backends/s3.py SEGMENT_SIZE: what a killed node has made durable
HANG = 300  # seconds: only a stuck cluster, not a slow machine, gets this far
FINAL = ("stored", "flagged")
STALLED = 6  # seconds without a heartbeat before the sweep runs an item again (default 180)  # random bytes are kept and catalogued, flagged as not media

OFFICER = """
from core.context import correlation
from core.testing import make_person, make_unit
from orgs.models import Department
from orgs.services import issue_api_token
with correlation():
    root = Department.objects.get(parent__isnull=True)
    officer = make_person("officer", unit=make_unit(department=root), username="cluster_officer")
    _row, token = issue_api_token(officer, "cluster test", actor=None)
print("TOKEN=" + token)
"""


def _read_pairs(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pairs[key] = value
    return pairs


class Cluster:
    """One `bin/cluster start` in a directory of its own, and the means to talk to it."""

    def __init__(self, directory: Path):
        self.dir = directory
        env = dict(os.environ)
        env["AVR_CLUSTER_PORT"] = str(free_port())  # never the developer's 8080
        env["AVR_INGEST_STALLED_SECONDS"] = str(STALLED)  # a killed worker's item is soon rerun
        url = env.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://")):
            # the server (and login) this pass already uses, not necessarily postgres@ with trust
            parts = urlsplit(url)
            env["AVR_CLUSTER_PG_URL"] = urlunsplit(parts._replace(path="/postgres"))
        self.env = env
        self.meta: dict[str, str] = {}
        self.token = ""

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(CLUSTER), *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=HANG)
        if check and result.returncode != 0:
            raise AssertionError(
                f"bin/cluster {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}\n{self.logs()}"
            )
        return result

    def logs(self) -> str:
        out = []
        for log in sorted((self.dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-15:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def start(self) -> None:
        self.run("start", "--no-install", str(self.dir))
        self.meta = _read_pairs(self.dir / "cluster.meta")
        self.token = next(
            line.split("=", 1)[1] for line in self.shell(OFFICER).splitlines()
            if line.startswith("TOKEN=")
        )

    def stop(self) -> None:
        self.run("stop", str(self.dir))

    def shell(self, code: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            **_read_pairs(self.dir / "cluster.env"),
            "AVR_VAR_DIR": str(self.dir / "setup"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        result = subprocess.run([str(PYTHON), "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=HANG)
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        return result.stdout

    # -- HTTP ---------------------------------------------------------------------------------
    def port(self, node: str = "") -> int:
        return int(self.meta[f"{node.upper()}_PORT" if node else "PORT"])

    def connection(self, node: str = "", timeout: float = 120) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port(node), timeout=timeout)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def tus(self, **extra: str) -> dict[str, str]:
        return self.headers(**{"Tus-Resumable": "1.0.0", **extra})

    def request(self, method: str, path: str, *, node: str = "", body=None, headers=None):
        """(response, body bytes) of one request through nginx, or to one node directly."""
        conn = self.connection(node)
        try:
            conn.request(method, path, body=body, headers=headers or self.headers())
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()

    def api(self, path: str, node: str = "") -> dict:
        response, body = self.request("GET", path, node=node)
        assert response.status == 200, (path, response.status, body[:500])
        return json.loads(body)

    def node_of(self, response) -> str:
        """The web node nginx finally passed the request to (X-Upstream lists every one tried)."""
        upstream = response.getheader("X-Upstream", "").split(",")[-1].strip()
        for node in ("webA", "webB"):
            if upstream == f"127.0.0.1:{self.port(node)}":
                return node
        raise AssertionError(f"unknown upstream {upstream!r}")

    def create_upload(self, size: int, filename: str) -> str:
        metadata = "filename " + base64.b64encode(filename.encode()).decode()
        response, body = self.request(
            "POST", "/api/v1/uploads/",
            headers=self.tus(**{"Upload-Length": str(size), "Upload-Metadata": metadata}),
        )
        assert response.status == 201, body
        return response.getheader("Location")

    def head(self, location: str):
        response, _body = self.request("HEAD", location, headers=self.tus())
        assert response.status == 200, response.status
        return response

    def patch(self, location: str, data: bytes, offset: int):
        response, body = self.request(
            "PATCH", location, body=data,
            headers=self.tus(**{"Upload-Offset": str(offset),
                                "Content-Type": "application/offset+octet-stream"}),
        )
        assert response.status == 204, body.decode("utf-8", "replace")
        return response

    def staging_keys(self) -> list[str]:
        """Objects of uploads in progress (or left behind) in the cluster's S3."""
        import boto3

        env = _read_pairs(self.dir / "cluster.env")
        client = boto3.client("s3", endpoint_url=env["AVR_S3_ENDPOINT"], region_name="us-east-1",
                              aws_access_key_id=env["AVR_S3_ACCESS_KEY"],
                              aws_secret_access_key=env["AVR_S3_SECRET_KEY"])
        listing = client.list_objects_v2(Bucket=env["AVR_S3_DERIVATIVE_BUCKET"], Prefix="staging/")
        return [item["Key"] for item in listing.get("Contents", [])]

    def wait_final(self, item_id: int) -> dict:
        started = time.monotonic()
        while True:
            item = self.api(f"/api/v1/ingest-items/{item_id}")
            if item["status"] in FINAL and item["recording_id"]:
                return item
            assert item["status"] != "failed", item
            assert time.monotonic() - started < HANG, f"ingest item never final: {item}\n{self.logs()}"
            time.sleep(0.3)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    instance = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()


def _payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _wait_until(condition, what: str) -> None:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < HANG, what
        time.sleep(0.1)


@pytest.mark.req("ING-6")
def test_upload_survives_its_web_node_being_killed(cluster):
    data = _payload(SIZE, seed=20261202)
    sha256 = hashlib.sha256(data).hexdigest()
    sm3 = hashlib.new("sm3", data).hexdigest()
    location = cluster.create_upload(SIZE, "集群续传.mp4")

    # nginx hashes the upload's URI: HEAD and PATCH of it go to the same node
    first = cluster.node_of(cluster.head(location))
    other = "webB" if first == "webA" else "webA"

    # One PATCH for the whole file; send 40 MiB of it, then kill its node mid-body once the node
    # has made some of it durable in S3 (whole segments; the rest is lost with the process).
    conn = cluster.connection()
    conn.putrequest("PATCH", location, skip_accept_encoding=True)
    for key, value in cluster.tus(**{
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(SIZE),
    }).items():
        conn.putheader(key, value)
    conn.endheaders()
    view = memoryview(data)
    for start in range(0, SEND_BEFORE_KILL, MiB):
        conn.send(view[start:start + MiB])

    def staged() -> int:
        response = cluster.head(location)
        assert cluster.node_of(response) == first  # the node is alive: no re-routing yet
        return int(response.getheader("Upload-Offset"))

    _wait_until(lambda: staged() >= 2 * SEGMENT, "the first node never staged 32 MiB")
    cluster.run("kill", first, str(cluster.dir))
    with contextlib.suppress(OSError, http.client.HTTPException):
        conn.getresponse().read()  # 502 from nginx, or the connection is cut
    conn.close()

    # The dead node is skipped; the other one reports what S3 holds and takes the rest.
    head = cluster.head(location)
    assert cluster.node_of(head) == other
    offset = int(head.getheader("Upload-Offset"))
    assert 2 * SEGMENT <= offset <= SEND_BEFORE_KILL
    assert offset % SEGMENT == 0  # exactly the segments the first node flushed
    done = cluster.patch(location, view[offset:].tobytes(), offset)
    assert cluster.node_of(done) == other
    assert int(done.getheader("Upload-Offset")) == SIZE

    item = cluster.wait_final(int(done.getheader("X-Ingest-Item")))
    assert (item["size"], item["sha256"], item["sm3"]) == (SIZE, sha256, sm3)
    assert item["filename"] == "集群续传.mp4"
    recording = cluster.api(f"/api/v1/recordings/{item['recording_id']}")
    assert recording["digests"]["sha256"] == sha256
    assert recording["digests"]["sm3"] == sm3
    # exactly one record for the interrupted upload (any node, same catalogue), and nothing of
    # the upload left in S3's staging area
    listed = cluster.api("/api/v1/recordings?limit=200")["items"]
    assert [r["id"] for r in listed if r["sha256"] == sha256] == [item["recording_id"]]
    _wait_until(lambda: not cluster.staging_keys(), "staged segments left behind")

    # the killed node comes back and serves again
    cluster.run("restart-node", first, str(cluster.dir))
    response, _body = cluster.request("OPTIONS", "/api/v1/uploads/", node=first)
    assert response.status == 204


def test_both_nodes_serve_the_same_catalogue(cluster):
    data = _payload(3 * MiB + 12345, seed=7)
    location = cluster.create_upload(len(data), "两节点.bin")
    done = cluster.patch(location, data, 0)
    item = cluster.wait_final(int(done.getheader("X-Ingest-Item")))
    content = f"/api/v1/recordings/{item['recording_id']}/content"

    for first, last in ((0, 999), (MiB - 7, 2 * MiB + 100), (len(data) - 5000, len(data) - 1)):
        served = []
        for node in ("webA", "webB", ""):  # each node directly, then through nginx
            response, body = cluster.request(
                "GET", content, node=node, headers=cluster.headers(Range=f"bytes={first}-{last}")
            )
            assert response.status == 206, (node, response.status, body[:300])
            assert response.getheader("Content-Range") == f"bytes {first}-{last}/{len(data)}"
            served.append(body)
        assert served == [data[first:last + 1]] * 3


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _busy_worker(cluster) -> str:
    """The worker process that is running the item now: the one using the CPU (hashing)."""
    pids = {name: int((cluster.dir / "pids" / f"{name}.pid").read_text().split()[0])
            for name in ("worker1", "worker2")}
    before = {name: _cpu_ticks(pid) for name, pid in pids.items()}
    time.sleep(0.5)
    used = {name: _cpu_ticks(pid) - before[name] for name, pid in pids.items()}
    return max(used, key=used.get)


@pytest.mark.req("ING-6", "INT-2")
def test_a_worker_killed_mid_item_leaves_exactly_one_recording(cluster):
    """SIGKILL the worker running an ingest item; the sweep hands it to the other worker, which
    completes it once: one stored original, one recording, digests as uploaded."""
    size = 192 * MiB
    data = _payload(size, seed=8)
    sha256 = hashlib.sha256(data).hexdigest()
    location = cluster.create_upload(size, "后台中断.mp4")
    done = cluster.patch(location, data, 0)
    item_id = int(done.getheader("X-Ingest-Item"))
    _wait_until(lambda: cluster.api(f"/api/v1/ingest-items/{item_id}")["status"] == "processing",
                "the item never started processing")
    victim = _busy_worker(cluster)
    cluster.run("kill", victim, str(cluster.dir))
    item = cluster.api(f"/api/v1/ingest-items/{item_id}")
    if item["status"] in FINAL:  # the machine was faster than the kill: nothing to prove here
        pytest.fail("the item finished before its worker could be killed; make it larger")
    time.sleep(STALLED + 1)  # no heartbeat from the dead worker
    requeued = cluster.shell("from ingest.tasks import requeue_stalled_items; print(requeue_stalled_items())")
    assert requeued.strip().splitlines()[-1] == "1"
    item = cluster.wait_final(item_id)
    assert (item["size"], item["sha256"]) == (size, sha256)
    listed = cluster.api("/api/v1/recordings?limit=200")["items"]
    assert [r["id"] for r in listed if r["sha256"] == sha256] == [item["recording_id"]]
    counts = cluster.shell(
        "from storage.models import StoredObject; from recordings.models import Recording; "
        f"print(StoredObject.objects.filter(sha256='{sha256}', area='originals').count(), "
        f"Recording.objects.filter(original__sha256='{sha256}').count())"
    )
    assert counts.strip().splitlines()[-1] == "1 1"
    cluster.run("restart-node", victim, str(cluster.dir))
