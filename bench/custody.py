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
import json, multiprocessing, os, sys, threading, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

call_command("migrate", verbosity=0)
from core.testing import make_person, make_unit
from custody.models import Leaf
from custody.sequencer import integrate_pending
from custody.services import record_event
from orgs.models import Person

WRITERS, OPS = int(os.environ["W"]), int(os.environ["N"])
MODE = os.environ.get("MODE", "process")  # process: like gunicorn workers; thread: one process
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


def work(pk, with_event, barrier, results):
    committed, error = [], None
    try:
        barrier.wait()
        for i in range(OPS):
            with transaction.atomic():
                Person.objects.filter(pk=pk).update(last_login=timezone.now())
                if with_event:
                    event = record_event("auth.login", actor=None, actor_name="bench",
                                         subject=("person", str(pk)), details={"i": i})
            if with_event:
                committed.append((event.pk, time.time()))
    except Exception as exc:
        error = repr(exc)
    finally:
        connection.close()
    results.put((committed, error))


def run(with_event: bool, after_start=None):
    if MODE == "process":
        ctx = multiprocessing.get_context("fork")
        connections.close_all()  # each child opens its own connection
        barrier, results = ctx.Barrier(WRITERS + 1), ctx.Queue()
        workers = [ctx.Process(target=work, args=(pk, with_event, barrier, results)) for pk in people]
    else:
        import queue
        barrier, results = threading.Barrier(WRITERS + 1), queue.Queue()
        workers = [threading.Thread(target=work, args=(pk, with_event, barrier, results)) for pk in people]
    for w in workers:
        w.start()
    if after_start:  # threads start only after the fork: forking a threaded process can deadlock
        after_start()
    barrier.wait()
    started = time.perf_counter()
    outcomes = [results.get() for _ in workers]
    elapsed = time.perf_counter() - started
    for w in workers:
        w.join()
    errors = [e for _c, e in outcomes if e]
    if errors:
        raise SystemExit("errors: " + "; ".join(errors[:3]))
    committed = dict(pair for c, _e in outcomes for pair in c)
    return WRITERS * OPS / elapsed, committed


baseline, _none = run(False)
seq_thread = threading.Thread(target=sequencer)
events, committed = run(True, after_start=seq_thread.start)
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


# --tree N: a log of N events written straight into the tables (as record_event writes them,
# without the business transactions), integrated by the real sequencer, then proofs and a full
# verification timed against a primary-key lookup and a plain scan of the event rows.
_TREE_CHILD = r"""
import json, os, random, secrets, time, uuid
import django
django.setup()
from datetime import timedelta
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

call_command("migrate", verbosity=0)
from custody import tree
from custody.checks import check_custody_log
from custody.entries import digest_of
from custody.models import Event, EventDetails, EventSubject, PendingEvent
from custody.sequencer import integrate_pending

N = int(os.environ["TREE"])
BATCH = 20000
start = timezone.now() - timedelta(days=30)
t0 = time.perf_counter()
for lo in range(0, N, BATCH):
    events, details, subjects, pending = [], [], [], []
    with transaction.atomic():
        first = (Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        for i in range(lo, min(N, lo + BATCH)):
            pk = first + i - lo
            salt = secrets.token_hex(32)
            content = {"purpose": "核查", "access_entry": i}
            events.append(Event(pk=pk, event_uid=uuid.uuid4(), occurred_at=start + timedelta(microseconds=i * 250),
                                actor_id=None, actor_name="bench", action="access.viewed",
                                subject_type="recording", subject_id=str(i % 50000),
                                details_digest=digest_of(salt, content), request_id="bench"))
            details.append(EventDetails(event_id=pk, content=content, salt=salt))
            subjects.append(EventSubject(event_id=pk, subject_type="recording", subject_id=str(i % 50000)))
            pending.append(PendingEvent(event_id=pk))
        Event.objects.bulk_create(events)
        EventDetails.objects.bulk_create(details)
        EventSubject.objects.bulk_create(subjects)
        PendingEvent.objects.bulk_create(pending)
write_s = time.perf_counter() - t0
t0 = time.perf_counter()
while integrate_pending(20000):
    pass
integrate_s = time.perf_counter() - t0
size = tree.tree_size()
assert size == N, (size, N)

def p95(samples):
    samples = sorted(samples)
    return samples[int(0.95 * (len(samples) - 1))] * 1000

rng = random.Random(7)
proof, lookup = [], []
for _ in range(300):
    i = rng.randrange(N)
    t = time.perf_counter(); tree.inclusion_proof(i, size); proof.append(time.perf_counter() - t)
    t = time.perf_counter(); Event.objects.filter(pk=rng.randrange(1, N)).values_list("pk").first(); lookup.append(time.perf_counter() - t)
t0 = time.perf_counter()
scanned = 0
last = 0
while True:
    rows = list(Event.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "details_digest")[:5000])
    if not rows:
        break
    scanned += len(rows); last = rows[-1][0]
scan_s = time.perf_counter() - t0
t0 = time.perf_counter()
report = check_custody_log(include_register=False)
verify_s = time.perf_counter() - t0
assert not report.findings, report.findings[:3]
print(json.dumps({"write_s": write_s, "integrate_s": integrate_s, "proof_p95": p95(proof), "lookup_p95": p95(lookup),
                  "verify_s": verify_s, "scan_s": scan_s}))
"""


def _run_child(env: dict, code: str = _CHILD) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200
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
    parser.add_argument("--threads", action="store_true", help="writers as threads of one process (default: processes)")
    parser.add_argument("--tree", type=int, default=0, metavar="N",
                        help="instead: proofs and full verification on a log of N events")
    args = parser.parse_args()
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "W": str(args.writers),
        "N": str(args.ops),
        "MODE": "thread" if args.threads else "process",
        # the kick enqueues into a scratch Huey store nobody consumes; the child's own
        # sequencer thread integrates, as the worker would
        "AVR_HUEY_IMMEDIATE": "0",
    }
    if args.tree:
        _tree(args, base_env)
        return
    print(f"writers: {args.writers} ({'threads' if args.threads else 'processes'})")
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


def _tree(args, base_env: dict) -> None:
    print(f"tree_events: {args.tree}")
    runs = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="avr-bench-custody-") as var:
            env = {**base_env, "AVR_VAR_DIR": var, "TREE": str(args.tree)}
            env.pop("DATABASE_URL", None)
            runs.append(("_sqlite", _run_child(env, _TREE_CHILD)))
    if args.db in ("postgres", "both"):
        _pg_recreate()
        with tempfile.TemporaryDirectory(prefix="avr-bench-custody-") as var:
            env = {**base_env, "AVR_VAR_DIR": var, "DATABASE_URL": PG_BENCH, "TREE": str(args.tree)}
            runs.append(("", _run_child(env, _TREE_CHILD)))
    for suffix, r in runs:
        print(f"write_s{suffix}: {r['write_s']:.1f}")
        print(f"integrate_s{suffix}: {r['integrate_s']:.1f}")
        print(f"integrate_events_per_s{suffix}: {args.tree / r['integrate_s']:.0f}")
        print(f"proof_p95_ms{suffix}: {r['proof_p95']:.2f}")
        print(f"pk_lookup_p95_ms{suffix}: {r['lookup_p95']:.2f}")
        print(f"proof_ratio{suffix}: {r['proof_p95'] / r['lookup_p95']:.2f}")
        print(f"verify_full_s{suffix}: {r['verify_s']:.1f}")
        print(f"scan_s{suffix}: {r['scan_s']:.1f}")
        print(f"verify_ratio{suffix}: {r['verify_s'] / r['scan_s']:.1f}")


if __name__ == "__main__":
    main()
