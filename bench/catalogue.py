#!/usr/bin/env python
"""The catalogue at 1,000,000 recordings, on SQLite and on PostgreSQL.

For each database it builds a fresh catalogue (a temp AVR_VAR_DIR for SQLite, a
dropped-and-recreated ``avr_bench`` database for PostgreSQL), bulk-loads
synthetic rows (departments, units, people, one StoredObject + one Recording +
one officer link + two custody events per recording), runs ANALYZE, and then
times, as the custodian of one unit (the realistic heavy reader; 1/20 of the
rows are theirs), ``--runs`` times each with varying parameters:

  list    recordings.selectors.list_recordings(user, RecordingFilter(three filters))[:25] + count_capped
  search  a case-number search (RecordingFilter(case_number=...)) [:25] + count_capped
  detail  get_recording(user, pk) + custody_history(recording)
  range   through the real gunicorn server (config/gunicorn.conf.py): time to the first body
          byte of ``Range: bytes=<middle>-`` on a 2 GiB original, signed in by session cookie,
          via the web player endpoint /recordings/<id>/content

It prints ``name: value`` lines: the p95 of each (ms), ``catalogue_p95_ms_<db>`` (the worst
of list/search/detail) and ``range_ttfb_p95_ms`` (the worst over the databases).
Targets: catalogue <= 100 ms on each database, range TTFB <= 50 ms. Not part of CI:

    .venv/bin/python bench/catalogue.py                       # 1M rows, both databases
    .venv/bin/python bench/catalogue.py --rows 100000 --db sqlite --explain
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgres://postgres@127.0.0.1:5432/avr_bench"
UNITS, DEPARTMENTS, OFFICERS_PER_UNIT = 20, 4, 10
BIG_SIZE = 2 * 1024**3
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_S = 2 * 365 * 86400


# ---------------------------------------------------------------------------- the parent


def write_big_original(vault_dir: Path, size: int) -> dict:
    """One real 2 GiB original in the shared scratch vault (digests computed while writing)."""
    from storage.backends.filesystem import FilesystemBackend

    block = bytearray(os.urandom(8 * 1024 * 1024))

    def chunks():
        sent, n = 0, 0
        while sent < size:
            block[:8] = n.to_bytes(8, "little")
            n += 1
            piece = bytes(block[: min(len(block), size - sent)])
            sent += len(piece)
            yield piece

    result = FilesystemBackend(vault_dir).write(chunks())
    return {"key": result.key, **result.digests.as_dict()}


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def parent(args) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="bench-catalogue-", dir=args.dir))
    vault = scratch / "vault"
    results: dict[str, float] = {}
    try:
        print(f"rows: {args.rows}")
        print(f"runs: {args.runs} per measure (p95)")
        big = write_big_original(vault, args.big_mib * 1024 * 1024) if not args.skip_range else None
        for db in args.db.split(","):
            env = {
                **os.environ,
                "AVR_VAR_DIR": str(scratch / db),
                "AVR_VAULT_DIR": str(vault),
                "DJANGO_SETTINGS_MODULE": "config.settings",
            }
            env.pop("DATABASE_URL", None)
            if db == "postgres":
                pg_admin("DROP DATABASE IF EXISTS avr_bench WITH (FORCE)")
                pg_admin("CREATE DATABASE avr_bench")
                env["DATABASE_URL"] = PG_BENCH
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                db,
                "--rows",
                str(args.rows),
                "--runs",
                str(args.runs),
            ]
            if big:
                cmd += ["--big", json.dumps(big)]
            if args.explain:
                cmd.append("--explain")
            proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            sys.stderr.write(proc.stderr[-5000:] if proc.returncode else "")
            for line in proc.stdout.splitlines():
                print(line)
                name, sep, value = line.partition(": ")
                if sep:
                    try:
                        results[name] = float(value)
                    except ValueError:
                        pass
            if proc.returncode:
                print(f"worker_failed_{db}: {proc.returncode}")
                return proc.returncode
            if db == "postgres" and not args.keep:
                pg_admin("DROP DATABASE IF EXISTS avr_bench WITH (FORCE)")
        ttfb = [v for k, v in results.items() if k.startswith("range_ttfb_p95_ms_")]
        if ttfb:
            print(f"range_ttfb_p95_ms: {max(ttfb):.1f}")
        return 0
    finally:
        if not args.keep:
            for dirpath, dirnames, filenames in os.walk(scratch):
                for name in dirnames + filenames:
                    os.chmod(os.path.join(dirpath, name), 0o755)
            shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------------------- the worker


def _hex(n: int, salt: str) -> str:
    return hashlib.sha256(f"{salt}{n}".encode()).hexdigest()


def build(db: str, rows: int, big: dict | None) -> dict:
    """Load the synthetic catalogue; return what the measures need."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from orgs.models import Department, Person, RoleAssignment, Unit

    call_command("migrate", verbosity=0)
    now = timezone.now()
    depts = [
        Department.objects.create(name=f"测试市场监督管理局{i}", code=f"BD{i:03d}", level="county")
        for i in range(DEPARTMENTS)
    ]
    units = [
        Unit.objects.create(
            department=depts[i % DEPARTMENTS], name=f"执法稽查队{i}", code=f"BU{i:03d}"
        )
        for i in range(UNITS)
    ]
    password = make_password("Bench-pass-2026")
    people = Person.objects.bulk_create(
        [
            Person(
                username=f"officer{u}_{k}",
                full_name=f"执法人员{u}-{k}",
                badge_number=f"{u:03d}{k:03d}",
                unit=units[u],
                department=units[u].department,
                password=password,
            )
            for u in range(UNITS)
            for k in range(OFFICERS_PER_UNIT)
        ]
        + [
            Person(
                username="custodian",
                full_name="记录仪管理员",
                unit=units[0],
                department=units[0].department,
                password=password,
            )
        ]
    )
    people = list(Person.objects.order_by("pk"))
    custodian = people[-1]
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(person=p, role="officer", assigned_at=now) for p in people[:-1]]
        + [RoleAssignment(person=custodian, role="custodian", assigned_at=now)]
    )
    officers = [p.pk for p in people[:-1]]

    rng = random.Random(20261122)
    parties = [f"某某商贸有限公司{i}" for i in range(5000)]
    matters = ["现场检查", "查封扣押", "抽样取证", "询问调查", "送达文书"]
    vendor = connection.vendor

    def ts(value: datetime):
        if vendor == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return value

    def flag(value):
        if value is None:
            return None
        return int(value) if vendor == "sqlite" else value

    obj_cols = [
        "id",
        "area",
        "backend",
        "key",
        "sha256",
        "sm3",
        "size",
        "stored_at",
        "write_verified",
        "last_fixity_status",
        "last_fixity_at",
    ]
    rec_cols = [
        "id",
        "original_id",
        "original_filename",
        "raw_filename",
        "media_kind",
        "mime_type",
        "container",
        "video_codec",
        "audio_codec",
        "duration_s",
        "width",
        "height",
        "probe",
        "playable",
        "device_id",
        "device_serial",
        "badge_number",
        "primary_officer_id",
        "unit_id",
        "department_id",
        "start_time",
        "end_time",
        "time_source",
        "place",
        "case_number",
        "party",
        "handler",
        "matter_type",
        "notes",
        "is_important",
        "uploaded_by_id",
        "received_at",
        "upload_deadline",
        "on_time",
        "late_reason",
        "late_reason_text",
        "flags",
        "flagged",
        "flag_reason",
    ]
    m2m_cols = ["recording_id", "person_id"]
    ev_cols = [
        "seq",
        "occurred_at",
        "actor_id",
        "actor_name",
        "action",
        "subject_type",
        "subject_id",
        "details",
        "request_id",
        "prev_hash",
        "hash",
    ]
    unit_dept = {u.pk: u.department_id for u in units}
    unit_ids = [u.pk for u in units]

    def generate():
        objects, recordings, links, events = [], [], [], []
        for i in range(1, rows + 1):
            if i == 1 and big:
                sha, sm3, size, key = big["sha256"], big["sm3"], big["size"], big["key"]
            else:
                sha, sm3 = _hex(i, "sha"), _hex(i, "sm3")
                size, key = (
                    rng.randint(5_000_000, 900_000_000),
                    f"originals/{sha[:2]}/{sha[2:4]}/{sha}",
                )
            start = EPOCH + timedelta(seconds=rng.randrange(SPAN_S))
            duration = rng.randint(30, 3600)
            received = start + timedelta(seconds=duration + rng.randint(600, 40 * 3600))
            unit = unit_ids[(i - 1) % UNITS]  # recording 1 (the real 2 GiB original) is in unit 0
            officer = officers[
                ((i - 1) % UNITS) * OFFICERS_PER_UNIT + rng.randrange(OFFICERS_PER_UNIT)
            ]
            on_time = received <= start + timedelta(seconds=duration + 24 * 3600)
            case = f"市监稽罚〔{start.year}〕{rng.randint(1, 9999)}号" if rng.random() < 0.3 else ""
            objects.append(
                (
                    i,
                    "originals",
                    "filesystem",
                    key,
                    sha,
                    sm3,
                    size,
                    ts(received),
                    flag(True),
                    "pass",
                    ts(received),
                )
            )
            recordings.append(
                (
                    i,
                    i,
                    f"{start:%Y%m%d%H%M%S}_{officer:06d}.mp4",
                    "",
                    "video" if i % 10 else "photo",
                    "video/mp4",
                    "mov,mp4,m4a,3gp,3g2,mj2",
                    "h264",
                    "aac",
                    float(duration),
                    1920,
                    1080,
                    "{}",
                    flag(True),
                    None,
                    f"DSJ{rng.randrange(1000):05d}",
                    f"{officer:06d}",
                    officer,
                    unit,
                    unit_dept[unit],
                    ts(start),
                    ts(start + timedelta(seconds=duration)),
                    "media",
                    f"某区某路{rng.randrange(500)}号",
                    case,
                    rng.choice(parties) if case else "",
                    f"承办人{rng.randrange(100)}",
                    rng.choice(matters),
                    "",
                    flag(False),
                    officer,
                    ts(received),
                    ts(start + timedelta(seconds=duration + 24 * 3600)),
                    flag(on_time),
                    "" if on_time else "off_site",
                    "",
                    "[]",
                    flag(rng.random() < 0.03),
                    "",
                )
            )
            links.append((i, officer))
            for j, (action, subject) in enumerate(
                (("storage.stored", "storedobject"), ("recordings.catalogued", "recording"))
            ):
                seq = 2 * i - 1 + j
                events.append(
                    (
                        seq,
                        ts(received),
                        officer,
                        f"执法人员{officer}",
                        action,
                        subject,
                        str(i),
                        "{}",
                        "",
                        f"{seq - 1:064x}",
                        f"{seq:064x}",
                    )
                )
            if len(recordings) == 20_000 or i == rows:
                yield objects, recordings, links, events
                objects, recordings, links, events = [], [], [], []

    tables = [
        ("storage_storedobject", obj_cols),
        ("recordings_recording", rec_cols),
        ("recordings_recording_officers", m2m_cols),
        ("custody_event", ev_cols),
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("PRAGMA foreign_keys=OFF")
        for batch in generate():
            for (table, cols), data in zip(tables, batch, strict=True):
                if vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
                else:
                    marks = ", ".join("?" * len(cols))
                    cursor.cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", data
                    )
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            for table in (
                "storage_storedobject",
                "recordings_recording",
                "recordings_recording_officers",
            ):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    print(f"load_s_{db}: {time.perf_counter() - started:.1f}")
    return {"custodian": custodian.pk, "unit": units[0].pk}


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )


def measure(fn, params: list) -> float:
    for p in params[:3]:
        fn(p)  # warm-up
    times = []
    for p in params:
        start = time.perf_counter()
        fn(p)
        times.append((time.perf_counter() - start) * 1000)
    return p95(times)


def explain(qs) -> str:
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN ANALYZE " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join("    " + " ".join(str(c) for c in row) for row in cursor.fetchall())


def catalogue(db: str, runs: int, info: dict, show_plans: bool) -> None:
    from django.db import connection

    from core.querysets import count_capped
    from orgs.models import Person
    from recordings.models import Recording
    from recordings.selectors import (
        RecordingFilter,
        custody_history,
        get_recording,
        list_recordings,
    )

    user = Person.objects.get(pk=info["custodian"])
    rng = random.Random(7)
    own_ids = list(
        Recording.objects.filter(unit_id=info["unit"]).values_list("pk", flat=True)[:5000]
    )
    cases = list(
        Recording.objects.filter(unit_id=info["unit"])
        .exclude(case_number="")
        .values_list("case_number", flat=True)[:2000]
    )

    def list_filters(_):
        day = (EPOCH + timedelta(days=rng.randrange(600))).date()
        return RecordingFilter(
            date_from=day, date_to=day + timedelta(days=90), media_kind="video", status="ok"
        )

    def run_list(f):
        qs = list_recordings(user, f)
        page = list(qs[:25])
        [
            (r.unit.name, r.primary_officer and r.primary_officer.full_name, r.original.size)
            for r in page
        ]
        count_capped(qs)

    def run_detail(pk):
        recording = get_recording(user, pk)
        list(custody_history(recording))

    list_params = [list_filters(i) for i in range(runs)]
    search_params = [RecordingFilter(case_number=rng.choice(cases)) for _ in range(runs)]
    detail_params = [rng.choice(own_ids) for _ in range(runs)]
    figures = {
        "list": measure(run_list, list_params),
        "search": measure(run_list, search_params),
        "detail": measure(run_detail, detail_params),
    }
    for name, value in figures.items():
        print(f"{name}_p95_ms_{db}: {value:.1f}")
    print(f"catalogue_p95_ms_{db}: {max(figures.values()):.1f}")
    if show_plans:
        print(f"plan_list_{db}: |\n{explain(list_recordings(user, list_params[0])[:25])}")
        print(f"plan_search_{db}: |\n{explain(list_recordings(user, search_params[0])[:25])}")
        count_qs = list_recordings(user, search_params[0]).order_by()[:10001]
        print(f"plan_search_count_{db}: |\n{explain(count_qs)}")
    connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def range_ttfb(db: str, runs: int, info: dict, big: dict) -> None:
    """TTFB of a mid-file Range request through gunicorn, signed in by session cookie."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from orgs.models import Person

    user = Person.objects.get(pk=info["custodian"])
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    port = free_port()
    env = {**os.environ, "AVR_BIND": f"127.0.0.1:{port}", "AVR_ACCESS_LOG": "/dev/null"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
        path = "/recordings/1/content"
        rng = random.Random(3)

        def one(offset: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"Range": f"bytes={offset}-", "Cookie": cookie})
            response = conn.getresponse()
            if response.status != 206:
                raise RuntimeError(f"expected 206, got {response.status}: {response.read(300)!r}")
            if not response.read(1):
                raise RuntimeError("no body byte")
            conn.close()

        half = big["size"] // 2
        offsets = [half + rng.randrange(-(big["size"] // 8), big["size"] // 8) for _ in range(runs)]
        print(f"range_ttfb_p95_ms_{db}: {measure(one, offsets):.1f}")
        print(
            f"range_endpoint_{db}: {path} (web player, session cookie, {big['size']} byte original)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def worker(args) -> int:
    import django

    django.setup()
    big = json.loads(args.big) if args.big else None
    info = build(args.worker, args.rows, big)
    catalogue(args.worker, args.runs, info, args.explain)
    if big:
        range_ttfb(args.worker, args.runs, info, big)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite,postgres (comma-separated)")
    parser.add_argument(
        "--big-mib", type=int, default=BIG_SIZE // 1024**2, help="size of the ranged original"
    )
    parser.add_argument("--skip-range", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and avr_bench")
    parser.add_argument("--dir", default=str(ROOT / "var"), help="scratch folder")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--big", help=argparse.SUPPRESS)
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    return worker(args) if args.worker else parent(args)


if __name__ == "__main__":
    sys.exit(main())
