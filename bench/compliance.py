#!/usr/bin/env python
"""The compliance sweep at scale (issue 10): 100,000 activities over 400,000 recordings, on
SQLite and on PostgreSQL.

For each database it builds a fresh catalogue with bench/catalogue.py's builder (the province
org tree, ``--recordings`` recordings with their officers; a temp AVR_VAR_DIR for SQLite, a
dropped-and-recreated ``avr_bench_compliance`` database for PostgreSQL), then adds the
activities: per unit, its recordings in time order, four at a time, make one activity (30% a
seizure, full-process; the rest an on-site inspection, optional) with the recordings' officers
as its officers, its stated start and end the first recording's start and the last one's end
(± a few minutes, so some disagree), markers for some of its content points on its first
recording, and an interruption explaining the first gap of every tenth seizure. Every row is
written with bulk inserts (the services' custody events are not the measure here).

Measures, each against a baseline read in the same run:

compliance_activities_per_s_<db>
    ``activities.findings.sweep_compliance()`` — the nightly sweep — when the findings are
    already stored (the steady state: the checker finds what it found last night), activities
    checked per second (target ≥ 2,000). Beside it the first sweep, which opens every finding
    with its custody event (``compliance_first_sweep_activities_per_s_<db>``), and the
    baseline: reading the same activities' facts without checking or reconciling
    (``activity_facts`` over all of them, ``compliance_facts_per_s_<db>``), and the ratio.

activity_page_p95_ms_<db>
    The activity page (web ``/activities/<id>/``) of an activity with 20 recordings, as its
    unit's custodian (who may view all 20), through Django's test client (``--runs`` times; target ≤ 150 ms), beside the
    recording page of one of its recordings (``recording_page_p95_ms_<db>``) and the ratio.

    .venv/bin/python bench/compliance.py                     # both databases
    .venv/bin/python bench/compliance.py --db sqlite --recordings 40000 --activities 10000
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench import catalogue as cat  # noqa: E402

DB_NAME = "avr_bench_compliance"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
PAGE_RECORDINGS = 20
BATCH = 5000


def parent(args) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="bench-compliance-", dir=args.dir))
    try:
        print(f"recordings: {args.recordings}")
        print(f"activities: {args.activities}")
        for db in args.db.split(","):
            env = {**os.environ, "AVR_VAR_DIR": str(scratch / db), "AVR_VAULT_DIR": str(scratch / "vault"),
                   "DJANGO_SETTINGS_MODULE": "config.settings"}
            env.pop("DATABASE_URL", None)
            if db == "postgres":
                cat.pg_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
                cat.pg_admin(f"CREATE DATABASE {DB_NAME}")
                env["DATABASE_URL"] = PG_URL
            cmd = [sys.executable, __file__, "--worker", db, "--recordings", str(args.recordings),
                   "--activities", str(args.activities), "--runs", str(args.runs)]
            with tempfile.TemporaryFile(mode="w+") as errors:
                proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
                for line in proc.stdout:
                    print(line, end="", flush=True)
                code = proc.wait()
                if code:
                    errors.seek(0)
                    sys.stderr.write(errors.read()[-5000:])
                    print(f"worker_failed_{db}: {code}")
                    return code
            if db == "postgres" and not args.keep:
                cat.pg_admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------------------- the activities


def build_activities(target: int) -> dict:
    """Activities of four recordings each, per unit in time order; returns ids for the page."""
    from django.utils import timezone

    from activities.catalog import effective_catalog
    from activities.choices import InterruptionForm, InterruptionReason, LinkSource
    from activities.models import Activity, ActivityRecording, Interruption
    from orgs.models import Department, Unit
    from recordings.choices import MarkerKind
    from recordings.models import Marker, Recording

    rng = random.Random(7)
    now = timezone.now()
    catalogs: dict[int, tuple] = {}
    for department in Department.objects.all():
        catalog = effective_catalog(department)
        seizure = next(e for e in catalog if e.matter.scope == "samr" and e.matter.code == "seizure")
        inspection = next(e for e in catalog if e.matter.scope == "samr" and e.level == "optional")
        catalogs[department.pk] = (seizure, inspection)
    # twice the even share per unit: the units short of recordings are made up by the others
    per_unit = max(1, 2 * target // Unit.objects.count())
    made = 0
    page_activity = None
    for unit in Unit.objects.order_by("pk"):
        if made >= target:
            break
        rows = list(Recording.objects.filter(unit=unit).order_by("start_time", "pk").values_list(
            "pk", "start_time", "end_time", "primary_officer_id")[: per_unit * 4 + PAGE_RECORDINGS])
        groups = [rows[n:n + 4] for n in range(0, len(rows) - 3, 4)][:min(per_unit, target - made)]
        if page_activity is None and len(rows) >= len(groups) * 4 + PAGE_RECORDINGS:
            groups.append(rows[-PAGE_RECORDINGS:])  # the page's activity: 20 recordings of its own
        seizure, inspection = catalogs[unit.department_id]
        activities = []
        for n, group in enumerate(groups):
            binding = seizure if rng.random() < 0.3 else inspection
            start = group[0][1] - timedelta(minutes=rng.choice((0, 1, 3, 20)))
            end = max(r[2] for r in group) + timedelta(minutes=rng.choice((0, 2, 10)))
            activities.append(Activity(
                department_id=unit.department_id, unit_id=unit.pk, matter=binding.matter,
                required_level=binding.level, required_points=list(binding.content_points),
                title=f"现场执法活动 {unit.pk}-{n}", place="某区某路", starts_at=start, ends_at=end,
                created_at=now))
        Activity.objects.bulk_create(activities, batch_size=BATCH)
        links, officer_links, markers, interruptions = [], [], [], []
        through = Activity.officers.through
        for activity, group in zip(activities, groups, strict=True):
            for pk, _start, _end, _officer in group:
                links.append(ActivityRecording(activity=activity, recording_id=pk, source=LinkSource.MANUAL,
                                               linked_at=now))
            for officer in {r[3] for r in group if r[3]}:
                officer_links.append(through(activity_id=activity.pk, person_id=officer))
            for k, point in enumerate(activity.required_points[: rng.randrange(len(activity.required_points) + 1)]):
                markers.append(Marker(recording_id=group[0][0], offset_s=k, kind=MarkerKind.CONTENT_POINT,
                                      content_point=point, created_at=now))
            if activity.required_level == "full_process" and activity.pk % 10 == 0 and len(group) > 1:
                interruptions.append(Interruption(
                    activity=activity, starts_at=group[0][2], ends_at=max(group[1][1], group[0][2] + timedelta(seconds=1)),
                    reason=InterruptionReason.BATTERY, form=InterruptionForm.WRITTEN, created_at=now))
        ActivityRecording.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
        through.objects.bulk_create(officer_links, batch_size=BATCH, ignore_conflicts=True)
        Marker.objects.bulk_create(markers, batch_size=BATCH)
        Interruption.objects.bulk_create(interruptions, batch_size=BATCH)
        if page_activity is None and len(groups) > 0 and len(groups[-1]) == PAGE_RECORDINGS:
            page_activity = activities[-1].pk
        made += len(groups)
    return {"page_activity": page_activity}


# ---------------------------------------------------------------------------- the measures


def sweep_measure(db: str) -> None:
    from activities.findings import activity_facts, sweep_compliance
    from activities.models import Activity, ComplianceFinding

    count = Activity.objects.count()
    started = time.perf_counter()
    first = sweep_compliance()
    first_s = time.perf_counter() - started
    print(f"compliance_findings_{db}: {ComplianceFinding.objects.count()} ({first['opened']} opened)", flush=True)
    print(f"compliance_first_sweep_activities_per_s_{db}: {count / first_s:.0f}", flush=True)
    profile = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    started = time.perf_counter()
    again = sweep_compliance()
    steady_s = time.perf_counter() - started
    if profile is not None:
        import io
        import pstats

        profile.disable()
        out = io.StringIO()  # stdout: the worker's stderr is shown only when it fails
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
        print("\n".join("# " + line for line in out.getvalue().splitlines()), flush=True)
    started = time.perf_counter()
    ids = list(Activity.objects.order_by("pk").values_list("pk", flat=True))
    for n in range(0, len(ids), 500):
        activity_facts(list(Activity.objects.filter(pk__in=ids[n:n + 500])))
    facts_s = time.perf_counter() - started
    print(f"compliance_second_sweep_opened_{db}: {again['opened']}")
    print(f"compliance_facts_per_s_{db}: {count / facts_s:.0f}")
    print(f"compliance_activities_per_s_{db}: {count / steady_s:.0f}")
    print(f"compliance_sweep_over_facts_ratio_{db}: {steady_s / facts_s:.2f}", flush=True)


def page_measure(db: str, activity_id: int | None, runs: int) -> None:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from activities.models import Activity, ActivityRecording
    from core.testing import force_login_verified

    if activity_id is None:
        print(f"activity_page_{db}: no activity with {PAGE_RECORDINGS} recordings was built")
        return
    from orgs.models import Person

    activity = Activity.objects.get(pk=activity_id)
    # the unit's custodian: sees every recording of the activity (an officer sees their own)
    officer = Person.objects.filter(unit_id=activity.unit_id, role_assignments__role="custodian").first()
    recording_id = ActivityRecording.objects.filter(activity=activity).values_list("recording_id", flat=True).first()
    try:
        page = reverse("web:activity_detail", args=[activity_id])
    except NoReverseMatch:
        print(f"activity_page_{db}: the activity page is not there yet (web:activity_detail)")
        return
    client = Client()
    force_login_verified(client, officer)
    timings = {"activity": [], "recording": []}
    for n in range(runs + 3):
        for name, url in (("activity", page), ("recording", f"/recordings/{recording_id}/")):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if n >= 3:
                timings[name].append(elapsed)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(page)
    if os.environ.get("BENCH_PROFILE"):
        by_sql: dict[str, list[float]] = {}
        for q in queries.captured_queries:
            by_sql.setdefault(q["sql"][:160], []).append(float(q["time"]))
        for sql, times in sorted(by_sql.items(), key=lambda kv: -sum(kv[1]))[:25]:
            print(f"# {sum(times) * 1000:8.1f} ms x{len(times):3d}  {sql}")
        import cProfile
        import io
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(5):
            client.get(page)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
        print("\n".join("# " + line for line in out.getvalue().splitlines()))
    print(f"activity_page_queries_{db}: {len(queries.captured_queries)}")
    a, r = cat.p95(timings["activity"]), cat.p95(timings["recording"])
    links = ActivityRecording.objects.filter(activity=activity).count()
    print(f"activity_page_recordings_{db}: {links}")
    print(f"activity_page_p95_ms_{db}: {a:.1f}")
    print(f"recording_page_p95_ms_{db}: {r:.1f}")
    print(f"activity_page_over_recording_page_{db}: {a / r:.2f}", flush=True)


def worker(args) -> int:
    import django

    django.setup()
    db = args.worker
    if db == "postgres":
        cat.PG_BENCH = PG_URL
    scale = cat.scale_label(args.recordings)
    started = time.perf_counter()
    cat.build(db, args.recordings, None, scale)
    print(f"load_s_{db}: {time.perf_counter() - started:.1f}", flush=True)
    started = time.perf_counter()
    info = build_activities(args.activities)
    from activities.models import Activity, ActivityRecording

    print(f"activities_{db}: {Activity.objects.count()} with {ActivityRecording.objects.count()} recordings "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    if db == "postgres":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    sweep_measure(db)
    page_measure(db, info["page_activity"], args.runs)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recordings", type=int, default=400_000)
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--dir", default=str(ROOT / "var"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    return worker(args) if args.worker else parent(args)


if __name__ == "__main__":
    sys.exit(main())
