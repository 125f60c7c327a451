"""Drive a local scale-out cluster (bin/cluster) from Python: the cluster tests and bench/scaleout.py.

``Cluster(directory).start()`` runs ``bin/cluster start`` there and makes an officer with an API
token; then HTTP through nginx or to one web node, tus uploads, the cluster's S3 and
``manage.py shell`` in the cluster's environment.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from core.testing_server import PYTHON, ROOT, free_port

CLUSTER = ROOT / "bin" / "cluster"
HANG = 300  # seconds: only a stuck cluster, not a slow machine, gets this far
FINAL = ("stored", "flagged")  # random bytes are kept and catalogued, flagged as not media

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

    def __init__(self, directory: Path, **env_overrides: str):
        self.dir = directory
        env = dict(os.environ)
        env.update(env_overrides)
        env["AVR_CLUSTER_PORT"] = str(free_port())  # never the developer's 8080
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
