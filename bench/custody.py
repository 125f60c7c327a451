#!/usr/bin/env python
"""Custody log write throughput: 8 concurrent writers, each a small business change + its event.

Issue 7 targets (measured here so every change to the log is compared in the same run):

  custody_events_per_s           PostgreSQL, 8 writers, change + event        target >= 2,000
  custody_events_per_s_sqlite    SQLite, 8 writers, change + event            target >= 500
  baseline_ops_per_s[_sqlite]    the same writers doing the change with no event (the ceiling)
  custody_ratio[_sqlite]         events per second / baseline
  integration_lag_p95_s[_sqlite] commit -> leaf in the tree, with a sequencer running beside
                                 the writers as the worker runs it                target <= 2
  --tree N: proof_p95_ms         inclusion proof in a tree of N events              target <= 20
            verify_full_s        full verification of N events                      target <= 600
            (baselines: a primary-key lookup; a plain scan of the N event rows)

The business change is one UPDATE of a person's ``last_login`` in its own transaction; the event
is ``record_event(...)`` inside that transaction, as every service does. Each database is a
fresh scratch one (a temp AVR_VAR_DIR for SQLite; ``avr_bench_custody`` dropped and created on
the local PostgreSQL). Not part of CI:

    .venv/bin/python bench/custody.py                   # both databases, 8 x 250 operations
    .venv/bin/python bench/custody.py --db postgres --ops 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgres://postgres@127.0.0.1:5432/avr_bench_custody"

# Runs in a child process so each database gets its own settings.
_CHILD = r"""
import json, os, sys, threading, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

call_command("migrate", verbosity=0)
from core.testing import make_person, make_unit
from custody.services import record_event
from orgs.models import Person

from custody.models import Leaf
from custody.sequencer import integrate_pending

WRITERS, OPS = int(os.environ["W"]), int(os.environ["N"])
committed = {}  # event pk -> commit time (epoch seconds)
stop = threading.Event()


def sequencer():
    # what the worker task integrate_log does: integrate while there is work, else poll
    while not stop.is_set():
        if not integrate_pending():
            time.sleep(0.05)
    while integrate_pending():
        pass
    connection.close()

unit = make_unit()
people = [make_person("officer", unit=unit).pk for _ in range(WRITERS)]


def run(with_event: bool) -> float:
    barrier = threading.Barrier(WRITERS + 1)
    errors = []

    def work(pk):
        try:
            barrier.wait()
            for i in range(OPS):
                with transaction.atomic():
                    Person.objects.filter(pk=pk).update(last_login=timezone.now())
                    if with_event:
                        event = record_event("auth.login", actor=None, actor_name="bench",
                                             subject=("person", str(pk)), details={"i": i})
                if with_event:
                    committed[event.pk] = time.time()
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in people]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit("errors: " + "; ".join(errors[:3]))
    return WRITERS * OPS / elapsed


baseline = run(False)
seq_thread = threading.Thread(target=sequencer)
seq_thread.start()
events = run(True)
stop.set()
seq_thread.join()
lags = sorted(
    integrated.timestamp() - committed[pk]
    for pk, integrated in Leaf.objects.filter(event_id__in=list(committed)).values_list("event_id", "integrated_at")
)
assert len(lags) == len(committed), "every committed event has its leaf"
p95 = lags[int(0.95 * (len(lags) - 1))]
print(json.dumps({"baseline": baseline, "events": events, "lag_p95": p95}))
"""


def _run_child(env: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pg_recreate() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS avr_bench_custody WITH (FORCE)")
        admin.execute("CREATE DATABASE avr_bench_custody")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--ops", type=int, default=250, help="operations per writer")
    args = parser.parse_args()
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "W": str(args.writers),
        "N": str(args.ops),
        # the kick enqueues into a scratch Huey store nobody consumes; the child's own
        # sequencer thread integrates, as the worker would
        "AVR_HUEY_IMMEDIATE": "0",
    }
    print(f"writers: {args.writers}")
    print(f"ops_per_writer: {args.ops}")
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="avr-bench-custody-") as var:
            env = {**base_env, "AVR_VAR_DIR": var}
            env.pop("DATABASE_URL", None)
            result = _run_child(env)
        print(f"baseline_ops_per_s_sqlite: {result['baseline']:.0f}")
        print(f"custody_events_per_s_sqlite: {result['events']:.0f}")
        print(f"custody_ratio_sqlite: {result['events'] / result['baseline']:.3f}")
        print(f"integration_lag_p95_s_sqlite: {result['lag_p95']:.3f}")
    if args.db in ("postgres", "both"):
        _pg_recreate()
        with tempfile.TemporaryDirectory(prefix="avr-bench-custody-") as var:
            result = _run_child({**base_env, "AVR_VAR_DIR": var, "DATABASE_URL": PG_BENCH})
        print(f"baseline_ops_per_s: {result['baseline']:.0f}")
        print(f"custody_events_per_s: {result['events']:.0f}")
        print(f"custody_ratio: {result['events'] / result['baseline']:.3f}")
        print(f"integration_lag_p95_s: {result['lag_p95']:.3f}")


if __name__ == "__main__":
    main()
