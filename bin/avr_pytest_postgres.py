"""pytest plugin for bin/test's PostgreSQL pass: a `postgres`- or `s3`-marked test may not skip there.

Loaded with ``-p avr_pytest_postgres`` (bin/ on PYTHONPATH) only in that pass. With
AVR_REQUIRE_POSTGRES=1, a PostgreSQL-only test that silently skipped (wrong DATABASE_URL,
missing driver) fails the run instead of hiding; with AVR_REQUIRE_S3=1, so does an S3 test
that skipped (no Ceph gateway: bin/test could not start it, or its variables did not arrive).
"""

from __future__ import annotations

import os

import pytest

# marker -> the environment variable that makes a skip of a test carrying it a failure
REQUIRED = {
    "postgres": ("AVR_REQUIRE_POSTGRES", "postgres-marked test skipped in the PostgreSQL pass"),
    "s3": ("AVR_REQUIRE_S3", "s3-marked test skipped in the PostgreSQL pass (S3 gateway required)"),
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    for marker, (variable, message) in REQUIRED.items():
        if os.environ.get(variable) != "1" or item.get_closest_marker(marker) is None:
            continue
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"{message}: {reason}"
        return
