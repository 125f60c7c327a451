"""pytest plugin for bin/test's PostgreSQL pass: a `postgres`-marked test may not skip there.

Loaded with ``-p avr_pytest_postgres`` (bin/ on PYTHONPATH) only when
AVR_REQUIRE_POSTGRES=1, so a PostgreSQL-only test that silently skipped
(wrong DATABASE_URL, missing driver) fails the run instead of hiding.
"""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("AVR_REQUIRE_POSTGRES") != "1" or not report.skipped:
        return
    if item.get_closest_marker("postgres") is None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"postgres-marked test skipped in the PostgreSQL pass: {reason}"
