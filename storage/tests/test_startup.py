"""In S3 mode the platform refuses to start on a store it cannot use, and says why (INT-2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.tests.s3_testing import ENDPOINT, s3_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.req("INT-2")


def _env(tmp_path, **s3):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AVR_S3_", "AVR_VAULT", "DATABASE_URL"))}
    config = s3_config(**s3)
    env.update({
        "AVR_VAR_DIR": str(tmp_path), "AVR_VAULT_BACKEND": "s3", "AVR_S3_ENDPOINT": config["endpoint"],
        "AVR_S3_ACCESS_KEY": config["access_key"] or "dummy", "AVR_S3_SECRET_KEY": config["secret_key"] or "dummy",
        "AVR_S3_BUCKET": config["bucket"], "AVR_S3_DERIVATIVE_BUCKET": config["derivative_bucket"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
    })
    return env


def _start_web(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import config.wsgi"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_web_node_refuses_to_start_on_an_unreachable_store(tmp_path):
    result = _start_web(_env(tmp_path, endpoint="http://127.0.0.1:9"))
    assert result.returncode == 3  # gunicorn's "worker failed to boot": the master stops
    assert "平台拒绝启动" in result.stderr and "无法连接" in result.stderr
    check = subprocess.run([sys.executable, "manage.py", "check_vault"], cwd=ROOT,
                           env=_env(tmp_path, endpoint="http://127.0.0.1:9"), capture_output=True, text=True, timeout=120)
    assert check.returncode != 0 and "不可用" in check.stderr


@pytest.mark.s3
@pytest.mark.skipif(not ENDPOINT, reason="no S3 endpoint (AVR_TEST_S3_ENDPOINT)")
def test_web_node_refuses_a_wrong_key_and_starts_with_the_right_one(tmp_path):
    wrong = _start_web(_env(tmp_path, secret_key="wrong"))
    assert wrong.returncode == 3 and "密钥" in wrong.stderr
    right = _start_web(_env(tmp_path))
    assert right.returncode == 0, right.stderr
