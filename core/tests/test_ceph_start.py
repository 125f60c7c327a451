"""bin/_ceph.sh: an S3 gateway whose port was taken after it was checked free moves to another.

bin/test and bin/cluster start Ceph with ``AVR_CEPH_RGW_PORT=auto``: the port is checked free
when chosen, but radosgw binds it seconds later (after the monitor and the OSD are up), and a
cluster start once failed in CI with "failed to bind address …: Address already in use". Here
the window is made certain: the check is told the port is free while a socket holds it.
"""

import os
import shutil
import socket
import subprocess
import urllib.request

import pytest

from core.testing_server import ROOT

ENABLED = os.environ.get("AVR_REQUIRE_S3") == "1" or os.environ.get("AVR_TEST_CLUSTER") == "1"

pytestmark = [
    pytest.mark.s3,
    pytest.mark.skipif(not ENABLED, reason="starts Ceph: bin/test's PostgreSQL pass, or AVR_TEST_CLUSTER=1"),
    pytest.mark.skipif(shutil.which("radosgw") is None, reason="Ceph is not installed"),
]

SCRIPT = r"""
set -u
source bin/_setup.sh
source bin/_ceph.sh
eval "real_port_free() $(declare -f ceph_port_free | tail -n +2)"
ceph_port_free() { [ "$1" = "$TAKEN" ] && return 0; real_port_free "$1"; }
eval "real_free_port() $(declare -f ceph_free_port | tail -n +2)"
ceph_free_port() {
    if [ ! -e "$DIR.first" ]; then : >"$DIR.first"; echo "$TAKEN"; else real_free_port "$@"; fi
}
AVR_CEPH_RGW_PORT=auto AVR_CEPH_MON_PORT="$MON" ceph_start "$DIR"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env_file(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_the_gateway_moves_off_a_port_taken_after_the_check(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()  # accepts, never answers: what a stray server on that port would do
    taken = holder.getsockname()[1]
    directory = tmp_path / "ceph"
    env = {**os.environ, "TAKEN": str(taken), "MON": str(_free_port()), "DIR": str(directory)}
    try:
        started = subprocess.run(["bash", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=240)
        output = started.stdout + started.stderr
        assert started.returncode == 0, output
        assert f"端口 {taken} 已被占用，S3 网关改用" in output
        endpoint = _env_file(directory / "avr-ceph.env")["AVR_S3_ENDPOINT"]
        assert endpoint.startswith("http://127.0.0.1:") and not endpoint.endswith(f":{taken}")
        with urllib.request.urlopen(endpoint + "/", timeout=10) as response:  # the gateway answers
            assert response.status == 200
        assert f"endpoint=127.0.0.1:{endpoint.rsplit(':', 1)[1]} " in (directory / "ceph.conf").read_text()
    finally:
        holder.close()
        subprocess.run(["bash", "-c", 'source bin/_setup.sh; source bin/_ceph.sh; ceph_stop "$DIR"'],
                       cwd=ROOT, env=env, capture_output=True, timeout=120)
