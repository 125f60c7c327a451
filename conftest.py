"""Root test configuration: vault in a temp folder, tasks inline, requirement tracking."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property-based tests: reproducible in CI (a fixed seed per test), no example database in the
# checkout, and no per-example deadline on a busy 2-core machine.
hypothesis_settings.register_profile("avr", database=None, derandomize=True, deadline=None)
hypothesis_settings.load_profile(os.environ.get("AVR_HYPOTHESIS_PROFILE", "avr"))

RESULTS_FILE = Path(os.environ.get("AVR_VAR_DIR", Path(__file__).parent / "var")) / "requirement-results.json"


@pytest.fixture(autouse=True)
def _isolated_vault(request, tmp_path, settings):
    """Every test gets its own vault (a folder; on S3 a key prefix); tasks run inline.

    With ``AVR_TEST_VAULT=s3`` (bin/test's PostgreSQL pass, Ceph RGW) new objects go to S3, so
    ingest, playback and fixity run there; tests about the filesystem backend itself are marked
    ``filesystem_vault`` and keep it.
    """
    from huey.contrib.djhuey import HUEY

    from storage.backends import reset_vault_cache

    settings.VAULT_DIR = tmp_path / "vault"
    if os.environ.get("AVR_TEST_VAULT") == "s3" and request.node.get_closest_marker("filesystem_vault") is None:
        from storage.tests.s3_testing import s3_config

        settings.VAULT_BACKEND = "s3"
        settings.S3_VAULT = s3_config()
    else:
        settings.VAULT_BACKEND = "filesystem"
    settings.LOG_KEY_FILE = tmp_path / "keys" / "log-ed25519.key"
    settings.LOG_SM2_KEY_FILE = tmp_path / "keys" / "log-sm2.key"
    # cheap password hashing; no WhiteNoise scan of node_modules per test client
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_USE_FINDERS = False
    reset_vault_cache()
    HUEY.immediate = True
    yield
    reset_vault_cache()


@pytest.fixture(autouse=True)
def _force_login_is_a_complete_sign_in(monkeypatch):
    """``client.force_login(person)`` signs in with the second factor too (core.testing:
    a department head or an administrator is enrolled for the test); the two-factor tests
    sign in through the forms."""
    from django.test.client import ClientMixin

    from core.testing import force_login_verified

    monkeypatch.setattr(ClientMixin, "force_login", force_login_verified)


def pytest_configure(config):
    config._req_results = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    ids = [i for mark in item.iter_markers(name="req") for i in mark.args]
    if not ids:
        return
    results = item.config._req_results
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for req_id in ids:
            entry = results.setdefault(req_id, {"passed": [], "failed": [], "skipped": []})
            entry[report.outcome if report.outcome in entry else "failed"].append(item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    results = getattr(session.config, "_req_results", None)
    if not results or hasattr(session.config, "workerinput"):
        _dump_worker(session, results)
        return
    _merge_and_write(results)


def _dump_worker(session, results):
    worker = getattr(session.config, "workerinput", None)
    if worker is None or not results:
        return
    path = RESULTS_FILE.with_name(f"requirement-results.{worker['workerid']}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False))


def _merge_and_write(results):
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, ensure_ascii=False, indent=1))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Under xdist, the controller merges what the workers wrote."""
    if hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("xdist"):
        return
    parts = sorted(RESULTS_FILE.parent.glob("requirement-results.gw*.json"))
    if not parts:
        return
    merged: dict = {}
    for part in parts:
        for req_id, entry in json.loads(part.read_text()).items():
            target = merged.setdefault(req_id, {"passed": [], "failed": [], "skipped": []})
            for key in target:
                target[key].extend(entry.get(key, []))
        part.unlink()
    _merge_and_write(merged)
