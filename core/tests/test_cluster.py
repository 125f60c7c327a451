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

import contextlib
import hashlib
import http.client
import os
import random
import time
from pathlib import Path

import pytest

from core.testing import make_video
from core.testing_browser import launch_chromium, needs_chromium, screenshot_dir
from core.testing_cluster import FINAL, HANG, Cluster
from storage.backends.s3 import SEGMENT_SIZE

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

MiB = 1024 * 1024
SIZE = 96 * MiB
SEND_BEFORE_KILL = 40 * MiB
SEGMENT = SEGMENT_SIZE  # what a killed node has made durable: whole staging segments
STALLED = 6  # seconds without a heartbeat before the sweep runs an item again (default 180)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # a killed worker's item is soon run again
    instance = Cluster(tmp_path_factory.mktemp("cluster"), AVR_INGEST_STALLED_SECONDS=str(STALLED))
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

    _wait_until(lambda: staged() >= 2 * SEGMENT, "the first node never staged two segments")
    cluster.run("kill", first, str(cluster.dir))
    try:
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
    finally:
        # the killed node comes back and serves again (also for the tests after this one)
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


@needs_chromium
@pytest.mark.browser
@pytest.mark.req("INT-2", "ACC-2")
def test_playback_with_seeking_from_s3_through_the_load_balancer(cluster):
    """A clip uploaded into the cluster plays and seeks in Chromium through nginx: the player's
    Range requests are answered from the S3 original (206), and the play is registered."""
    from playwright.sync_api import expect, sync_playwright

    clip = make_video(10.0, width=640, height=360, fps=15, variant=11)
    location = cluster.create_upload(len(clip), "DSJA0099999_000001_20261201093000_0001.MP4")
    done = cluster.patch(location, clip, 0)
    item = cluster.wait_final(int(done.getheader("X-Ingest-Item")))
    recording_id = item["recording_id"]
    backend = cluster.shell(
        "from recordings.models import Recording; "
        f"print(Recording.objects.get(pk={recording_id}).original.backend)"
    )
    assert backend.strip().splitlines()[-1] == "s3"

    base = f"http://127.0.0.1:{cluster.port()}"
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
        page.set_default_timeout(30_000)
        ranged = []
        page.on("response", lambda r: ranged.append(r.status) if "/content" in r.url else None)
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "cluster_officer")
        page.fill("input[name=password]", "Test-pass-2026")
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        page.goto(f"{base}/recordings/{recording_id}/")
        expect(page.locator("video.player")).to_be_visible()
        page.wait_for_function("() => document.querySelector('video.player').readyState >= 1")
        duration = page.evaluate("() => document.querySelector('video.player').duration")
        assert 9.5 <= duration <= 10.5, duration
        page.evaluate("() => { const v = document.querySelector('video.player'); v.muted = true; return v.play(); }")
        page.wait_for_function("() => document.querySelector('video.player').currentTime > 0.3")
        position = page.evaluate(
            "() => new Promise(done => { const v = document.querySelector('video.player');"
            " v.addEventListener('seeked', () => done(v.currentTime), {once: true}); v.currentTime = 8.0; })"
        )
        assert position >= 7.9, f"seek did not move the playhead: currentTime={position}"
        page.wait_for_function("() => document.querySelector('video.player').currentTime > 8.2")
        page.evaluate("() => document.querySelector('video.player').pause()")
        page.screenshot(path=screenshot_dir() / "cluster-s3-playing.png")
        browser.close()
    assert 206 in ranged, ranged
    plays = cluster.shell(
        "from access.models import AccessEntry; "
        f"print(AccessEntry.objects.filter(action='play', recording_id={recording_id}).count())"
    )
    assert int(plays.strip().splitlines()[-1]) >= 1
