"""Property-based fuzz plumbing (issue 6): the rule is a clear 4xx on bad input, never a 5xx.

Shared by ``api/tests/test_fuzz.py`` (every OpenAPI operation and the tus endpoint) and
``web/tests/test_fuzz.py`` (every URL pattern of the web UI, its GET filters and POST forms):

- values that broke the platform before: days and instants at the ends of the calendar,
  integers far beyond any database column, long and odd Unicode text (NUL bytes, lone
  surrogates, bidi controls, emoji, GBK bytes), empty values — as Hypothesis strategies and
  as a short list per kind of field (``SWEEP``) for a systematic one-field-at-a-time sweep;
- strategies derived from an OpenAPI parameter schema and from a Django form field, so a new
  operation, parameter or form field is fuzzed without touching the tests; "plausible"
  values (well-formed, the ends of the type included) with at most one bad value
  (``one_bad``) so that requests pass validation and reach the code behind it;
- ``FuzzWorld``: a small org chart with recordings, ingest items and open uploads, made through
  the real helpers and services, so that requests pass authentication and run real queries;
- ``exercise()``: send one request in-process with the test client, inside a savepoint that
  is rolled back afterwards (and the open uploads' staging files reset), and fail on a 5xx or
  a Python traceback in the body;
- ``run_fuzz()``: the sweep (all distinct failures listed), then Hypothesis (failures shrunk).

The test client keeps ``raise_request_exception`` on, deliberately: an exception a view raises
(the API's catch-all handler re-sends it through ``got_request_exception``) comes back to the
test, and ``exercise`` raises ``ServerError`` chained to it, so the report names the
exception and the file:line where it was raised, and Hypothesis tells distinct faults apart.
A 5xx answered without an exception (the tus views log and answer 500) is caught from the
log record, or failed on its status alone.

Values are ``str`` (sent UTF-8 encoded, lone surrogates passed through as the bytes a broken
client would send) or ``bytes`` (sent as they are: GBK, truncated or invalid UTF-8).

Runs are deterministic: a fixed seed per target, no example database. Environment:
``AVR_FUZZ_EXAMPLES=<n>`` examples per target (default: each target's own budget, all of it
about half a minute per database on two idle cores); ``AVR_FUZZ_EXAMPLES_SCALE=<x>`` scales
those budgets; ``AVR_FUZZ_RANDOM=1`` fresh random seeds (exploration, not for CI);
``AVR_FUZZ_DEBUG=1`` prints every generated request with its status (use with ``-s``).
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import logging
import os
import re
import threading
import zlib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Hypothesis keeps its caches (there is no example database: runs are seeded) under var/, which
# git and pytest ignore, instead of a .hypothesis folder in the working tree.
set_hypothesis_home_dir(Path(os.environ.get("AVR_VAR_DIR") or PROJECT_ROOT / "var") / "hypothesis")

# --- run settings -------------------------------------------------------------------------

EXAMPLES_SCALE = float(os.environ.get("AVR_FUZZ_EXAMPLES_SCALE", "1") or 1)


def fuzz_seeded(name: str):
    """A fixed seed per fuzz target (so every run tries the same requests; ``derandomize``
    alone gives every target the same seed, and some seeds get stuck on a few requests).
    ``AVR_FUZZ_RANDOM=1`` explores with fresh seeds instead."""
    if os.environ.get("AVR_FUZZ_RANDOM"):
        return lambda test: test
    return seed(zlib.crc32(name.encode("utf-8")))


def fuzz_settings(max_examples: int) -> settings:
    """Bounded, deterministic, no deadline (CI machines are slow and busy)."""
    override = os.environ.get("AVR_FUZZ_EXAMPLES")
    examples = int(override) if override else max(1, int(max_examples * EXAMPLES_SCALE))
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not os.environ.get("AVR_FUZZ_RANDOM"),
        database=None,
        print_blob=False,
        report_multiple_bugs=True,
        # "explain" re-runs failing examples many times to annotate them: too slow for CI.
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=(
            # the world is built once per test; every example runs in its own rolled-back savepoint
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ),
    )


# --- raw values ---------------------------------------------------------------------------

HUGE = "9" * 40

EXTREME_INTEGERS = [
    "0", "-1", "1", "-0", "+1", " 1 ", "01", "00000000000000000000001",
    str(2**31 - 1), str(2**31), str(2**32), str(2**53 + 1),
    str(2**63 - 1), str(2**63), str(-(2**63)), str(-(2**63) - 1), str(2**64),
    "9" * 19, "9" * 20, "9999999999999999999999999", HUGE, "-" + HUGE, "1" + "0" * 39,
    "1e3", "1.5", "1e308", "1e999", "NaN", "nan", "inf", "-inf", "Infinity",
    "0x10", "0b1", "1_000", "١٢٣", "１２３", "½", "²", "1 2", "1,2", "1;2",
    "true", "null", "[]", "{}",
]  # fmt: skip

EXTREME_DATES = [
    "0001-01-01", "9999-12-31", "1900-01-01", "1899-12-31", "1969-12-31", "1970-01-01",
    "2000-02-29", "2038-01-19", "2099-12-31", "2100-01-01",
    "2026-02-29", "2026-02-30", "2026-04-31", "2026-13-01", "2026-00-10", "2026-12-32",
    "0000-00-00", "0000-01-01", "10000-01-01", "99999-12-31", "-0001-01-01", "+2026-03-15",
    "2026-1-1", "2026/03/15", "03/15/2026", "15/03/2026", "12/31/9999", "01/01/0001",
    "20260315", "2026-03-15T00:00", "2026-03-15 junk", "２０２６-０３-１５", "٢٠٢٦-٠٣-١٥",
    "9999-12-31T23:59:59", "2099-12-31T23:59:59", "0001-01-01T00:00:00",
]  # fmt: skip

EXTREME_DATETIMES = [
    "9999-12-31T23:59", "9999-12-31T23:59:59", "9999-12-31 23:59:59", "9999-12-31 23:59",
    "0001-01-01T00:00", "0001-01-01T00:00:00", "0001-01-01 00:00",
    "1900-01-01T00:00", "1900-01-01T00:00:00", "1969-12-31T23:59:59", "1970-01-01T00:00:00",
    "2099-12-31T23:59:59", "2100-01-01T00:00:00", "2038-01-19T03:14:08",
    "2026-02-30T10:00", "2026-03-15T24:00", "2026-03-15T23:60", "2026-03-15T23:59:60",
    "2026-03-15T10:00:00Z", "2026-03-15T10:00:00+14:00", "2026-03-15T10:00:00-12:00",
    "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999",
    "2026-03-15T10:00:00.9999999", "0000-01-01T00:00", "10000-01-01T00:00", "2026-03-15T",
    "T10:00", "2026-03-15", "1773570000", "-62135596800",
]  # fmt: skip

LONG_TEXT = "执法记录" * 800  # 3,200 characters

ODD_TEXTS = [
    "", " ", "\t", "\n", "\r\n", "\x00", "a\x00b", "\x00" * 16, "\x7f\x1b[31m", "\x85",
    "\u202e\u202d", "\u200f\u200e", "abc\u202egpm.exe", "\ufeff", "\u200b\u200c\u200d",
    "\u2028\u2029", "e" + "\u0301" * 64, "😀", "👨‍👩‍👧‍👦", "🏳️‍🌈", "\U0010ffff", "\uffff", "\ufffd",
    "𠀀𪚥", "Ω≈ç√", "ｆｕｌｌ　ｗｉｄｔｈ", "ǅ", "İ", "ß", "ﬃ", "ٍّ", "ก้้้้้้้้",
    "\ud800", "\udfff", "a\udcff", "\udbff\udfff",
    "%", "%%", "%s%d%n", "%(name)s", "{}", "{0}", "{{x}}", "\\", "\\x00", "'\"`", "' OR 1=1 --",
    "../../../../etc/passwd", "C:\\Windows\\win.ini", "<script>alert(1)</script>", "${jndi:x}",
    "null", "None", "undefined", "NaN", "true", "[]", "{}",
    "a" * 64, "a" * 65, "a" * 100, "a" * 101, "a" * 200, "a" * 201, "a" * 255, "a" * 256,
    "a" * 500, "a" * 501, "a" * 2001, "a" * 3001, LONG_TEXT, "😀" * 1500, "\x00" * 3000,
    "\u202e" * 3000, "字" * 5000,
]  # fmt: skip

ODD_BYTES = [
    "执法记录仪".encode("gbk"), "某市监处罚〔2026〕15号".encode("gb18030"), b"\xb0\xa1\xb0\xa2",
    b"\x81\x30\x81\x30", b"\xff\xfe", b"\xfe\xff\x00a", b"\xef\xbb\xbf", b"\xc0\xaf", b"\xc0\x80",
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\x80", b"\xe6\x89", b"\xff" * 300,
    b"\x00", b"%", b"%zz", b"%00", b"%u202e", b"+", b"&", b"=", b";", b"#", b"?", b"\r\n",
    "执法".encode("utf-16"), "執法".encode("big5"), "执法".encode("shift_jis", "replace"),
]  # fmt: skip


def wire(value) -> bytes:
    """The bytes a client sends for ``value`` (lone surrogates as their raw UTF-8 form)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def latin1(value) -> str:
    """A header value as WSGI hands it to Django: the raw bytes decoded as latin-1."""
    return wire(value).replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")


# --- value strategies ----------------------------------------------------------------------

# Well-formed values at the ends of what their type allows: a form or a parameter of that type
# accepts them, so they reach the code behind it (where "the day after" or "24 hours later"
# overflowed, or an integer did not fit a database column).
VALID_DATE_EDGES = [
    "0001-01-01", "9999-12-31", "1900-01-01", "1969-12-31", "1970-01-01", "2000-02-29",
    "2099-12-31", "2100-01-01",
]  # fmt: skip
VALID_DATETIME_EDGES = [
    "9999-12-31T23:59", "9999-12-31T23:59:59", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00",
    "0001-01-01T00:00:00+14:00", "1900-01-01T00:00:00", "1970-01-01T00:00:00",
    "2099-12-31T23:59:59", "2100-01-01T00:00",
]  # fmt: skip
VALID_INT_EDGES = [HUGE, "9999999999999999999999999", str(2**63), str(2**63 - 1), str(-(2**63) - 1),
                   "-1", "0", str(2**31)]

# One value per line of attack, for the systematic sweep: every field and parameter gets each
# value of its kind on its own, all other fields left out.
SWEEP = {
    "date": ["0001-01-01", "9999-12-31", "1900-01-01", "2099-12-31T23:59:59", "2026-02-30",
             "12/31/9999", "10000-01-01", ""],
    "datetime": ["9999-12-31T23:59", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00",
                 "0001-01-01T00:00:00+14:00", "1900-01-01T00:00", "2099-12-31T23:59:59",
                 "2026-02-30T10:00", ""],
    "int": [HUGE, "9999999999999999999999999", str(2**63), str(2**63 - 1), "-1", "0", "١٢٣", ""],
    "text": [LONG_TEXT, "a\x00b", "\ud800", "abc\u202egpm.exe", "👨‍👩‍👧‍👦", "执法记录仪".encode("gbk"),
             "%(x)s{0}", ""],
    "choice": ["\x00", "nope", HUGE, ""],
    "bool": ["2", "\x00", ""],
    "uuid": ["00000000-0000-0000-0000-000000000000", HUGE, "\x00"],
}  # fmt: skip


@cache
def integers_text() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(EXTREME_INTEGERS),
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.integers(min_value=-5, max_value=10**6).map(str),
    )


@cache
def valid_dates() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(VALID_DATE_EDGES), st.dates().map(lambda d: d.isoformat()))


@cache
def dates_text() -> st.SearchStrategy:
    return st.one_of(
        valid_dates(),
        st.sampled_from(EXTREME_DATES),
        st.dates().map(lambda d: f"{d.month:02d}/{d.day:02d}/{d.year:04d}"),
    )


@cache
def valid_datetimes() -> st.SearchStrategy:
    formatted = st.tuples(
        st.datetimes(), st.sampled_from(["T", " "]), st.sampled_from(["minutes", "seconds"])
    ).map(lambda t: t[0].isoformat(sep=t[1], timespec=t[2]))
    aware = st.tuples(
        st.datetimes(), st.integers(min_value=-14 * 60, max_value=14 * 60)
    ).map(lambda t: t[0].isoformat(timespec="seconds") + _offset(t[1]))
    return st.one_of(st.sampled_from(VALID_DATETIME_EDGES), formatted, aware)


@cache
def datetimes_text() -> st.SearchStrategy:
    return st.one_of(valid_datetimes(), st.sampled_from(EXTREME_DATETIMES))


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@cache
def long_text() -> st.SearchStrategy:
    return st.tuples(
        st.text(min_size=1, max_size=3), st.integers(min_value=1000, max_value=3100)
    ).map(lambda t: t[0] * t[1])


@cache
def odd_text() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(ODD_TEXTS),
        st.text(max_size=24),
        st.text(st.characters(categories=("Cs", "Cc", "Cf", "Co", "Zl", "Zp")), max_size=8),
        st.sampled_from(ODD_BYTES),
        st.binary(max_size=24),
        long_text(),
    )


@cache
def nasty() -> st.SearchStrategy:
    """Any value a broken or hostile client might send for any field."""
    return st.one_of(odd_text(), integers_text(), dates_text(), datetimes_text())


@cache
def edge_or_nasty(kind: str) -> st.SearchStrategy:
    """The one bad value of an otherwise plausible request: an edge of the field's kind, or
    anything at all."""
    return st.one_of(st.sampled_from(SWEEP.get(kind, SWEEP["text"])), nasty())


@cache
def text_fitting(max_length: int | None) -> st.SearchStrategy:
    """Plausible text that fits ``max_length`` (short, or exactly at the limit)."""
    plain = st.text(st.characters(categories=("L", "N", "P", "Zs")), max_size=min(max_length or 40, 40))
    if not max_length:
        return plain
    return st.one_of(plain, st.sampled_from(["字" * max_length, "a" * max_length]))


@cache
def text_within(max_length: int | None) -> st.SearchStrategy:
    """Text that fits ``max_length``, and text just beyond it."""
    if not max_length:
        return st.one_of(text_fitting(None), st.just("字" * 3001))
    return st.one_of(
        text_fitting(max_length),
        st.sampled_from(["字" * (max_length + 1), "a" * (max_length + 1), "😀" * max_length]),
    )


def ids_text(ids: Iterable[int]) -> st.SearchStrategy:
    """One of ``ids`` (repeats weigh more; shrinking goes to the first)."""
    return _ids_text(tuple(ids))


@cache
def _ids_text(ids: tuple[int, ...]) -> st.SearchStrategy:
    return st.sampled_from([str(i) for i in ids]) if ids else st.just("1")


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """None means: leave the key out."""
    return st.one_of(st.none(), strategy)


def mostly(usual: st.SearchStrategy, unusual: st.SearchStrategy, one_in: int = 8) -> st.SearchStrategy:
    """``usual`` except about once in ``one_in`` draws (shrinks towards ``usual``)."""
    return st.integers(min_value=0, max_value=one_in - 1).flatmap(
        lambda i: unusual if i == one_in - 1 else usual
    )


def one_bad(plausible: dict, kinds: dict[str, str], *, present: dict[str, int] | None = None) -> st.SearchStrategy:
    """Pairs where every value is plausible (or left out) except at most one, which gets an
    edge of its kind or a nasty value. Such requests usually validate, so the bad value
    reaches the code behind the form or parameter. ``present[name]``: the field is sent
    about once in that many draws (default 3; 2 for required fields)."""
    present = present or {}
    values = st.fixed_dictionaries({
        name: mostly(st.none(), strategy, present.get(name, 3)) for name, strategy in plausible.items()
    })
    names = sorted(plausible)
    bad = (
        optional(st.sampled_from(names).flatmap(lambda n: edge_or_nasty(kinds.get(n, "text")).map(lambda v: (n, v))))
        if names else st.none()
    )
    return st.tuples(values, bad).map(lambda t: pairs_from({**t[0], **({t[1][0]: t[1][1]} if t[1] else {})}))


# --- query strings, form bodies, headers ------------------------------------------------

RAW_QUERIES = ["%", "&&&", "=", "==", "a=%zz", "a=%ff%fe", ";;", "a[]=1&a[]=2", "%00=%00", "?", "#x"]


def encode_pairs(pairs: Iterable[tuple[str, object]]) -> str:
    """``key=value&…`` with every byte percent-encoded (values may be bytes or surrogates)."""
    return "&".join(f"{quote(wire(k), safe='')}={quote(wire(v), safe='')}" for k, v in pairs)


def encode_multipart(pairs: Iterable[tuple[str, object]], boundary: str = "avr-fuzz-boundary") -> bytes:
    """A multipart/form-data body whose values are sent byte for byte."""
    mark = b"--" + boundary.encode()
    lines = []
    for key, value in pairs:
        name = wire(key).replace(b'"', b"%22").replace(b"\r", b"").replace(b"\n", b"")
        lines += [mark, b'Content-Disposition: form-data; name="' + name + b'"', b"", wire(value)]
    lines += [mark + b"--", b""]
    return b"\r\n".join(lines)


def pairs_from(values: dict) -> list[tuple[str, object]]:
    """{name: value | [values] | None} → query pairs (lists repeat the key, None is left out)."""
    pairs = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs.extend((key, v) for v in value)
        else:
            pairs.append((key, value))
    return pairs


def junk_pairs(names: Iterable[str]) -> st.SearchStrategy:
    """A few extra pairs: known names with odd values, repeated keys, odd keys."""
    names = sorted(set(names)) or ["q"]
    key = st.one_of(st.sampled_from(names), odd_text())
    return st.lists(st.tuples(key, nasty()), max_size=2)


# Headers any view (or middleware) may read; each example sends a few of them.
COMMON_HEADERS = {
    "Range": st.one_of(
        st.sampled_from([
            "bytes=0-", "bytes=0-0", "bytes=-1", "bytes=-0", "bytes=1-0", "bytes=5-", "bytes=0-1,2-3",
            "bytes=99999999999999999999999-", f"bytes=0-{HUGE}", f"bytes=-{HUGE}", "bytes=١-٢",
            "bytes=--", "bytes=", "bytes", "items=0-1", "bytes=18446744073709551616-",
        ]),
        st.tuples(integers_text(), integers_text()).map(lambda t: f"bytes={t[0]}-{t[1]}"),
        nasty(),
    ),
    "If-Range": st.one_of(st.sampled_from(['"x"', "W/\"x\"", "Wed, 21 Oct 2015 07:28:00 GMT"]), nasty()),
    "Referer": st.one_of(
        st.sampled_from([
            "/recordings/", "http://testserver/recordings/?q=%00", "http://evil.example/",
            "//evil.example", "javascript:alert(1)", "http://testserver:99999/", "http://[::1",
        ]),
        nasty(),
    ),
    "HX-Request": st.sampled_from(["true", "false", ""]),
    "HX-Target": st.one_of(st.sampled_from(["results", "history", "access", ""]), nasty()),
    "Accept-Language": st.one_of(
        st.sampled_from(["zh-hans", "en", "xx-YY", "*", "zh;q=NaN", "en;q=" + HUGE, "a" * 500]), nasty()
    ),
    "User-Agent": nasty(),
    "X-Request-ID": st.one_of(st.sampled_from(["执法" * 4, "æ" * 64, "a" * 65, "abcdefgh"]), nasty()),
    "X-Forwarded-For": nasty(),
}


def header_values(extra: dict[str, st.SearchStrategy] | None = None) -> st.SearchStrategy:
    """A few headers (each present about one time in six), latin-1 as WSGI delivers them."""
    pool = {**COMMON_HEADERS, **(extra or {})}
    return st.fixed_dictionaries(
        {name: mostly(st.none(), strategy.map(latin1), 6) for name, strategy in sorted(pool.items())}
    ).map(lambda headers: {k: v for k, v in headers.items() if v is not None})


# --- OpenAPI schemas → strategies -----------------------------------------------------------


def resolve(schema: dict, components: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = components.get("schemas", {})[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _alternatives(schema: dict, components: dict) -> list[dict]:
    alternatives = schema.get("anyOf") or schema.get("oneOf") or []
    return [s for s in (resolve(a, components) for a in alternatives) if s.get("type") != "null"]


def schema_kind(schema: dict, components: dict) -> str:
    """The sweep kind of a parameter: date, datetime, int, bool, choice, uuid or text."""
    schema = resolve(schema, components)
    real = _alternatives(schema, components)
    if real:
        return schema_kind(real[0], components)
    if "enum" in schema:
        return "choice"
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "array":
        return schema_kind(schema.get("items", {}), components)
    if kind in ("integer", "number"):
        return "int"
    if kind == "boolean":
        return "bool"
    if kind == "string" and fmt in ("date", "date-time", "uuid"):
        return {"date": "date", "date-time": "datetime", "uuid": "uuid"}[fmt]
    return "text"


def _integer_boundaries(schema: dict) -> list[str]:
    values = []
    for key in ("minimum", "maximum"):
        if key in schema:
            bound = int(schema[key])
            values += [str(bound - 1), str(bound), str(bound + 1)]
    return values


def param_plausible(schema: dict, components: dict, ids: Iterable[int]) -> st.SearchStrategy:
    """Well-typed values for a parameter, the ends of its type included (an unbounded integer
    gets 40 digits, a date 0001-01-01): what the parameter itself accepts."""
    schema = resolve(schema, components)
    ids = list(ids)
    real = _alternatives(schema, components)
    if real:
        return st.one_of(*(param_plausible(s, components, ids) for s in real))
    if "enum" in schema:
        return st.sampled_from([str(v) for v in schema["enum"]])
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is None and high is None:
            return mostly(ids_text(ids), st.one_of(st.sampled_from(VALID_INT_EDGES), integers_text()), 3)
        low = int(low) if low is not None else -(10**40)
        high = int(high) if high is not None else 10**40
        inside = [i for i in ids if low <= i <= high]
        return mostly(
            ids_text(inside) if inside else st.just(str(low)),
            st.one_of(st.sampled_from([str(low), str(high)]), st.integers(low, high).map(str)),
            3,
        )
    if kind == "number":
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr), st.sampled_from(VALID_INT_EDGES))
    if kind == "boolean":
        return st.sampled_from(["true", "false", "1", "0", "yes", "no", "on", "off"])
    if kind == "array":
        return st.lists(param_plausible(schema.get("items", {}), components, ids), max_size=4)
    if kind == "string" and fmt == "date":
        return valid_dates()
    if kind == "string" and fmt == "date-time":
        return valid_datetimes()
    if kind == "string" and fmt == "uuid":
        return st.uuids().map(str)
    if kind == "string":
        return text_fitting(schema.get("maxLength"))
    return odd_text()


def param_values(schema: dict, components: dict, ids: Iterable[int]) -> st.SearchStrategy:
    """Any value for a parameter: plausible ones (mostly) and nasty ones."""
    schema = resolve(schema, components)
    nasty_too = st.one_of(st.sampled_from(_integer_boundaries(schema) or ["0"]), nasty())
    if schema.get("type") == "array":
        return st.lists(param_values(schema.get("items", {}), components, ids), max_size=4)
    return mostly(param_plausible(schema, components, ids), nasty_too, 3)


def json_values(schema: dict, components: dict, ids: Iterable[int], depth: int = 0) -> st.SearchStrategy:
    """JSON-able values for a request body: the schema's shape with odd values, or wrong types."""
    schema = resolve(schema, components)
    ids = list(ids)
    wrong = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        odd_text().map(lambda v: v if isinstance(v, str) else v.decode("latin-1")),
        st.just([]),
        st.just({}),
    )
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return st.one_of(*(json_values(s, components, ids, depth + 1) for s in alternatives), wrong)
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), wrong)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 3:
            return st.just({})
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {
            name: (json_values(sub, components, ids, depth + 1) if name in required
                   else optional(json_values(sub, components, ids, depth + 1)))
            for name, sub in properties.items()
        }
        body = st.fixed_dictionaries(fields).map(
            lambda d: {k: v for k, v in d.items() if v is not None or k in required}
        )
        extra = st.dictionaries(odd_text().map(lambda v: v if isinstance(v, str) else v.hex()), wrong, max_size=2)
        return st.one_of(st.tuples(body, extra).map(lambda t: {**t[1], **t[0]}), wrong)
    if kind == "array":
        return st.one_of(st.lists(json_values(schema.get("items", {}), components, ids, depth + 1), max_size=4), wrong)
    if kind == "integer":
        bounds = [int(v) for v in _integer_boundaries(schema)]
        return st.one_of(st.sampled_from(ids or [1]), st.sampled_from(bounds or [0]),
                         st.sampled_from([2**63, -(2**63) - 1, 10**40, -1, 0]), wrong)
    if kind == "string":
        fmt = schema.get("format")
        text = dates_text() if fmt == "date" else datetimes_text() if fmt == "date-time" else text_within(schema.get("maxLength"))
        return st.one_of(text, wrong)
    return wrong


RAW_BODIES = [b"", b"{", b"[", b"null", b'"x"', b"{}" * 1000, b"[" * 5000, b"\xff\xfe\x00", b'{"a": 1e999}',
              b'{"a": NaN}', b'{"\\ud800": "\\udfff"}', b"\x00", ("{" + '"a":' * 3000 + "1").encode()]


def json_body(schema: dict, components: dict, ids: Iterable[int]) -> st.SearchStrategy:
    encoded = json_values(schema, components, ids).map(lambda v: json.dumps(v).encode())
    return st.one_of(encoded, st.sampled_from(RAW_BODIES))


def json_sweep(schema: dict, components: dict) -> list[bytes]:
    """Bodies for the sweep: each top-level property alone with each edge of its kind, and
    the raw bodies (broken JSON, deep nesting, lone surrogates)."""
    schema = resolve(schema, components)
    bodies = list(RAW_BODIES)
    for name, sub in schema.get("properties", {}).items():
        kind = schema_kind(sub, components)
        for value in SWEEP[kind]:
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            if kind == "int" and text.lstrip("-").isdigit():
                bodies.append(json.dumps({name: int(text)}).encode())
            bodies.append(json.dumps({name: text}).encode())
    return bodies


# --- Django form fields → strategies ---------------------------------------------------------


def form_fields(form_class) -> dict:
    """The fields of a form as an unbound instance has them (choices set in ``__init__``),
    else the class's declared fields (forms whose constructor needs arguments)."""
    try:
        return dict(form_class().fields)
    except TypeError:
        return dict(form_class.base_fields)


def _choices(field) -> list[str]:
    return [str(v) for v, label in getattr(field, "choices", []) if not isinstance(label, list | tuple)]


def _numeric(field) -> bool:
    from django import forms

    return (
        isinstance(field, forms.IntegerField)
        or getattr(field, "coerce", None) is int
        or (isinstance(field, forms.ChoiceField) and not any(c for c in _choices(field)))
        or type(field).__name__.startswith("Id")
    )


def field_kind(field) -> str:
    """The sweep kind of a form field: date, datetime, int, bool, choice or text."""
    from django import forms

    if isinstance(field, forms.DateTimeField):
        return "datetime"
    if isinstance(field, forms.DateField):
        return "date"
    if isinstance(field, forms.BooleanField):
        return "bool"
    if _numeric(field):
        return "int"
    if isinstance(field, forms.ChoiceField):
        return "choice"
    return "text"


def form_plausible(field, ids: Iterable[int]) -> st.SearchStrategy:
    """Well-formed values for one field, the ends of its type included (a date field gets
    0001-01-01 and 9999-12-31, a free integer 40 digits): what the field itself accepts."""
    from django import forms

    ids = list(ids)
    if isinstance(field, forms.MultipleChoiceField):
        return st.lists(ids_text(ids) if _numeric(field) else st.sampled_from(_choices(field) or [""]), max_size=3)
    kind = field_kind(field)
    if kind == "datetime":
        return valid_datetimes()
    if kind == "date":
        return valid_dates()
    if kind == "bool":
        return st.sampled_from(["on", "1", "true", "True", "false", "0", ""])
    if kind == "int":
        choices = [c for c in _choices(field) if c]
        if isinstance(field, forms.ChoiceField):  # a choice among rows: the rows' ids
            return ids_text([*map(int, filter(str.isdigit, choices)), *ids])
        return mostly(ids_text(ids), st.sampled_from(VALID_INT_EDGES), 3)
    if kind == "choice":
        return st.sampled_from(_choices(field) or [""])
    return text_fitting(getattr(field, "max_length", None))


def form_field_values(field, ids: Iterable[int]) -> st.SearchStrategy:
    """Any value for one field: plausible ones and nasty ones."""
    from django import forms

    if isinstance(field, forms.MultipleChoiceField):
        return st.lists(st.one_of(ids_text(list(ids)), integers_text(), nasty()), max_size=4)
    limit = getattr(field, "max_length", None)
    over = [text_within(limit)] if field_kind(field) == "text" else []
    return st.one_of(form_plausible(field, ids), *over, nasty())


def form_pairs(form_class, ids_for, *, extra_names: Iterable[str] = (),
               known: dict[str, st.SearchStrategy] | None = None) -> st.SearchStrategy:
    """Pairs for a whole form (``ids_for(field name)`` gives the ids a field may name).

    Half the time every field is plausible (or left out) except at most one (``one_bad``):
    such a form usually validates, so the request reaches the service behind the form.
    Otherwise any field may be anything, with a little junk besides.
    """
    declared = form_fields(form_class)
    known = known or {}
    plausible = {
        name: known[name] if name in known else form_plausible(field, ids_for(name))
        for name, field in declared.items()
    }
    anything = {
        name: optional(known[name] if name in known else form_field_values(field, ids_for(name)))
        for name, field in declared.items()
    }
    kinds = {name: field_kind(field) for name, field in declared.items()}
    required = {name: 2 for name, field in declared.items() if field.required}
    wild = st.tuples(st.fixed_dictionaries(anything), junk_pairs([*declared, *extra_names])).map(
        lambda t: pairs_from(t[0]) + t[1]
    )
    return st.one_of(one_bad(plausible, kinds, present=required), wild)


def benign_value(field, ids: list[int]):
    """A harmless valid value for a required field (the sweep's background)."""
    kind = field_kind(field)
    if kind == "datetime":
        return "2026-03-15T10:00"
    if kind == "date":
        return "2026-03-15"
    if kind == "bool":
        return "on"
    if kind == "int":
        return str(ids[0]) if ids else "1"
    if kind == "choice":
        return next((c for c in _choices(field) if c), "")
    return "测试"


def form_sweep(form_class, ids_for, *, known: dict | None = None) -> list[list[tuple[str, object]]]:
    """Pair lists for the sweep: each field alone (required fields kept benign) with each
    edge of its kind."""
    declared = form_fields(form_class)
    known = known or {}
    base = {
        name: known.get(name, benign_value(field, list(ids_for(name))))
        for name, field in declared.items() if field.required or name in known
    }
    return [
        pairs_from({**base, name: value})
        for name, declared_field in declared.items()
        for value in SWEEP[field_kind(declared_field)]
    ]


def source_parameters(module) -> tuple[set[str], set[str]]:
    """(request parameter names, header names) a view module reads by literal name."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return set(), set()
    params = set(re.findall(r"\.(?:GET|POST|data)(?:\.get\(|\[)\s*[\"']([^\"']+)[\"']", source))
    headers = set(re.findall(r"headers(?:\.get\(|\[)\s*[\"']([^\"']+)[\"']", source))
    headers |= {
        name[5:].replace("_", "-").title()
        for name in re.findall(r"META(?:\.get\(|\[)\s*[\"'](HTTP_[A-Z_]+)[\"']", source)
    }
    return params, headers


# --- tus --------------------------------------------------------------------------------------

TUS_VERSIONS = ["1.0.0", "1.0.0", "1.0.0", "0.2.2", "", "1.0.0 ", "1.0", HUGE]


@cache
def tus_integers() -> st.SearchStrategy:
    """Upload-Length / Upload-Offset values."""
    return st.one_of(
        st.sampled_from(["0", "1", "10", "100", "1000", "4096"]), integers_text(), nasty()
    ).map(latin1)


def _metadata_value(key: str, ids: list[int]) -> st.SearchStrategy:
    huge_lists = st.lists(st.one_of(integers_text(), ids_text(ids)), min_size=1, max_size=4).map(
        lambda parts: ",".join(parts)
    )
    if key == "unit_id":
        return st.one_of(ids_text(ids), integers_text(), nasty())
    if key == "officer_ids":
        return st.one_of(ids_text(ids), huge_lists, st.sampled_from([HUGE, f"1,{HUGE}", f"{HUGE}，{HUGE}", "1 2\t3", ",,,"]), nasty())
    if key == "sha256":
        return st.one_of(st.binary(min_size=32, max_size=32).map(bytes.hex), st.sampled_from(["A" * 64, "g" * 64, "0" * 65]), nasty())
    if key == "late_reason":
        return st.one_of(st.sampled_from(["continuous_duty", "off_site", "remote_area", "device_fault", "other", "OTHER"]), nasty())
    if key == "important":
        return st.one_of(st.sampled_from(["1", "true", "yes", "on", "0"]), nasty())
    if key in ("filename", "filetype"):
        return st.one_of(
            st.sampled_from([
                "DSJ-A0012345_10020301_20260315093000_0001.MP4", "DSJ-A0012345_10020301_99991231235959_0001.MP4",
                "DSJ-A0012345_10020301_00010101000000_0001.MP4", "DSJ-A0012345_" + HUGE + "_20260315093000_0001.MP4",
                "../../etc/passwd", "clip\x00.mp4", "\u202egpm.exe", "con.mp4", ".", "..", "a" * 300 + ".mp4",
                "video/mp4", "image/jpeg; charset=\x00",
            ]),
            nasty(),
        )
    return st.one_of(text_within(200), nasty())


def tus_metadata(keys: Iterable[str], ids_for) -> st.SearchStrategy:
    """An ``Upload-Metadata`` header: known keys with odd values, base64 good and bad.

    ``ids_for(key)`` gives the ids a key may name (``FuzzWorld.ids_for``)."""
    keys = sorted(set(keys))

    def entry(key: str) -> st.SearchStrategy:
        value = _metadata_value(key, list(ids_for(key))).map(wire)
        good = value.map(lambda raw: f"{key} {base64.b64encode(raw).decode('ascii')}")
        odd = st.one_of(
            value.map(lambda raw: f"{key} {base64.b64encode(raw).decode('ascii').rstrip('=')}"),
            st.sampled_from([key, f"{key} !!!", f"{key} a", f"{key} {base64.b64encode(b'x').decode()} extra", f"{key}  "]),
        )
        return mostly(good, odd, 6)

    odd_key = odd_text().map(latin1).filter(lambda k: "," not in k and " " not in k)
    entries = st.lists(mostly(st.sampled_from(keys), odd_key, 6).flatmap(entry), max_size=6)
    return mostly(
        entries.map(",".join),
        st.one_of(
            st.sampled_from(["", ",", " ", ",,", "filename", "filename YQ==,filename YQ==", "a b c", "\x00"]),
            nasty().map(latin1),
        ),
        6,
    )


# --- the world the requests run against --------------------------------------------------------

# A principal names a person of the world and how they authenticate: "<name>" signs in with a
# session, "<name>:token" sends a Bearer token; "anonymous" and "bad-token" are what they say.
# (listed twice: drawn twice as often; the officer first, where shrinking goes)
WEB_PRINCIPALS = [
    "officer", "custodian", "department_head", "officer", "unit_head", "colleague", "custodian",
    "outsider", "auditor", "admin", "anonymous",
]  # fmt: skip
API_PRINCIPALS = [
    "officer:token", "custodian", "department_head:token", "unit_head:token", "officer",
    "outsider:token", "auditor:token", "admin:token", "anonymous", "bad-token",
]  # fmt: skip
BAD_TOKENS = ["Bearer avr_0000000000_nope", "Bearer ", "Bearer \x00", "Basic Zm9vOmJhcg==", "Bearer",
              "Bearer avr_" + "0" * 10 + "_" + "x" * 5000, "bearer avr_é_é", "Bearer avr__", "Bearer  avr"]


@cache
def bad_authorization() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(BAD_TOKENS), nasty().map(lambda v: "Bearer " + latin1(v)))


def principal_headers(principals: list[str]) -> st.SearchStrategy:
    """(principal, extra headers): a bad token comes with its Authorization header."""
    return st.sampled_from(principals).flatmap(
        lambda p: bad_authorization().map(lambda auth: (p, {"Authorization": auth}))
        if p == "bad-token"
        else st.just((p, {}))
    )


@dataclass
class FuzzWorld:
    people: dict
    tokens: dict
    recordings: list
    ingest_items: list
    uploads: list
    ids: list[int] = field(default_factory=list)
    upload_ids: list[str] = field(default_factory=list)
    id_pools: dict = field(default_factory=dict)
    slugs: list[str] = field(default_factory=list)  # derivative kinds the world has
    bodies: dict = field(default_factory=dict)  # operation path -> a body the handler accepts
    witness_keys: list[str] = field(default_factory=list)  # for settings.LOG_WITNESSES

    def ids_for(self, name: str) -> list[int]:
        """Ids a parameter called ``name`` most likely refers to (``recording_id`` → the
        recordings), followed by every other id of the world."""
        name = name.lower()
        for hint, pool in self.id_pools.items():
            if hint in name:  # listed three times: drawn about three times as often
                return [*pool, *pool, *pool, *(i for i in self.ids if i not in pool)]
        return list(self.ids)

    def restore_files(self) -> None:
        """Put the open uploads' staging files back as they were (empty): the savepoint rolls
        back the database, not the vault, and tus takes the staging file's size as the truth."""
        from storage.backends import get_vault

        vault = get_vault()
        for upload in self.uploads:
            staging = vault.staging(upload.staging_name)
            if staging.size():
                staging.discard()

    def pool_for(self, name: str) -> list[int]:
        """Only the ids a parameter called ``name`` most likely refers to."""
        name = name.lower()
        return next((pool for hint, pool in self.id_pools.items() if hint in name), list(self.ids))

    def client(self, principal: str, extra_headers: dict | None = None):
        """A fresh test client for one example: (client, headers to send)."""
        from django.test import Client

        client = Client()
        headers = dict(extra_headers or {})
        name, _sep, how = principal.partition(":")
        if name == "bad-token":
            headers.setdefault("Authorization", BAD_TOKENS[0])
        elif how == "token":
            headers.setdefault("Authorization", f"Bearer {self.tokens[name]}")
        elif name != "anonymous":
            client.force_login(self.people[name])
        return client, headers


def build_fuzz_world() -> FuzzWorld:
    """Two units of one department and an outside unit; every role; recordings of each kind
    (one late, one with a poster), ingest items in several states and open tus uploads."""
    from django.utils import timezone

    from core.testing import make_department, make_jpeg, make_person, make_recording, make_unit
    from custody.checkpoints import make_checkpoint
    from custody.keys import ensure_log_keys
    from ingest.choices import IngestSource
    from ingest.models import IngestItem
    from ingest.services import create_upload, store_derivative_bytes
    from orgs.services import issue_api_token

    department = make_department(level="county")
    unit_a = make_unit(department, "执法稽查大队")
    unit_b = make_unit(department, "食品安全监管科")
    unit_c = make_unit(make_department(level="county"))
    people = {
        "officer": make_person("officer", unit=unit_a, full_name="张伟"),
        "colleague": make_person("officer", unit=unit_a, full_name="李娜"),
        "custodian": make_person("custodian", unit=unit_a, full_name="王强"),
        "unit_head": make_person("unit_head", unit=unit_a, full_name="刘洋"),
        "department_head": make_person("department_head", department=department, full_name="赵磊"),
        "unit_b_officer": make_person("officer", unit=unit_b, full_name="孙丽"),
        "outsider": make_person("officer", unit=unit_c, full_name="陈静"),
        "auditor": make_person("audit_admin", department=department, full_name="审计管理员"),
        "admin": make_person("system_admin", department=department, full_name="系统管理员"),
    }
    officer = people["officer"]
    now = timezone.now()
    recordings = [
        make_recording(
            officer, case_number="某市监处罚〔2026〕15号", party="某某食品有限公司", place="某路1号",
            start_time=now - timedelta(hours=2), end_time=now - timedelta(hours=1, minutes=58),
            officer_ids=[officer.pk, people["colleague"].pk], device_serial="A0012345",
        ),
        make_recording(  # late: recorded five days before it arrived
            officer, case_number="某市监处罚〔2026〕16号", start_time=now - timedelta(days=5),
            end_time=now - timedelta(days=5) + timedelta(minutes=3), notes="逾期上传",
        ),
        make_recording(people["colleague"], media_kind="audio", mime_type="audio/mp4", party="某公司"),
        make_recording(officer, media_kind="photo", mime_type="image/jpeg", duration_s=None, data=make_jpeg()),
        make_recording(people["unit_b_officer"], case_number="某市监处罚〔2026〕17号"),
        make_recording(people["outsider"]),
    ]
    store_derivative_bytes(
        recordings[0], actor=officer, kind="poster", source=io.BytesIO(make_jpeg()), mime_type="image/jpeg"
    )
    items = []
    for person, status, recording in (
        (officer, "stored", recordings[0]),
        (officer, "flagged", recordings[1]),
        (officer, "failed", None),
        (people["colleague"], "stored", recordings[2]),
        (people["outsider"], "stored", recordings[5]),
    ):
        items.append(
            IngestItem.objects.create(
                filename="DSJ-A0012345_10020301_20260315093000_0001.MP4", size=4096, status=status,
                created_by=person, created_at=now, updated_at=now, recording=recording,
                steps=[{"step": "digest", "status": "done"}], source=IngestSource.API,
            )
        )
    uploads = [
        create_upload(actor=person, length=1000, metadata={"filename": b"clip.mp4"}, source=IngestSource.API)
        for person in (officer, people["custodian"], people["outsider"])
    ]
    tokens = {
        name: issue_api_token(person, "模糊测试", actor=None)[1] for name, person in people.items()
    }
    requests = _fuzz_access_requests(people, department, unit_a, recordings)
    activity, case, activity_bodies = _fuzz_activities(people, unit_a, recordings[0])
    ensure_log_keys()
    checkpoint = make_checkpoint(trigger="manual")
    witness_key, cosignature = _fuzz_witness(checkpoint)  # the log's state and proofs have something to show
    ids = sorted(
        {r.pk for r in recordings} | {i.pk for i in items} | {p.pk for p in people.values()}
        | {unit_a.pk, unit_b.pk, unit_c.pk, department.pk, activity.pk, case.pk}
    )
    findings = list(activity.findings.values_list("pk", flat=True)) or [0]
    interruptions = list(activity.interruptions.values_list("pk", flat=True)) or [0]
    person_ids = [p.pk for p in people.values()]
    return FuzzWorld(
        people=people, tokens=tokens, recordings=recordings, ingest_items=items, uploads=uploads,
        ids=ids, upload_ids=[str(u.pk) for u in uploads],
        id_pools={
            "recording": [r.pk for r in recordings], "item": [i.pk for i in items],
            "unit": [unit_a.pk, unit_b.pk, unit_c.pk], "department": [department.pk],
            "officer": person_ids, "person": person_ids, "user": person_ids,
            "pk": [r.pk for r in recordings] + [r.pk for r in requests],
            # the <pk> of the access request pages (web/tests/test_fuzz.py picks it by route)
            "access_request": [r.pk for r in requests],
            "size": [checkpoint.size], "tree_size": [checkpoint.size], "second": [checkpoint.size],
            "first": [1], "leaf_index": [0],
            # the activity pages' and the integration API's ids (activities/)
            "activity": [activity.pk], "case": [case.pk], "finding": findings, "interruption": interruptions,
            "activity_id": [activity.pk], "case_id": [case.pk], "finding_id": findings,
            "interruption_id": interruptions,
        },
        slugs=["poster"],
        bodies={"/api/v1/custody/checkpoints/{size}/cosignatures": json.dumps({"cosignature": cosignature}).encode(),
                **activity_bodies},
        witness_keys=[witness_key],
    )


def _fuzz_access_requests(people, department, unit_a, recordings) -> list:
    """A pending request (the department head decides) and an approved external provision (its
    approval form can be downloaded), so the request pages have something to show."""
    from datetime import timedelta

    from django.utils import timezone

    from access import approvals
    from storage.backends import get_vault
    from storage.backends.base import Area
    from storage.services import register_stored_object

    until = timezone.now() + timedelta(days=7)
    pending = approvals.create_request(
        people["unit_b_officer"], department=department, unit=unit_a, recording_ids=[recordings[0].pk],
        purpose_code="case_handling", purpose_text="模糊测试", actions=["view", "play"], valid_until=until)
    external = approvals.create_request(
        people["officer"], department=department, unit=unit_a, kind="external", recording_ids=[recordings[0].pk],
        purpose_code="case_handling", purpose_text="移送公安机关", valid_until=until, recipient="某市公安局")
    approvals.approve(external.pk, people["department_head"], "同意")
    # a party's copy with its written application (ACC-4), so the application download has one
    application = register_stored_object(get_vault().write([b"%PDF-1.4\n% fuzz party application\n%%EOF\n"]),
                                         area=Area.ORIGINAL, actor=people["officer"])
    party = approvals.create_request(
        people["officer"], department=department, unit=unit_a, kind="party_copy", recording_ids=[recordings[0].pk],
        purpose_code="reconsideration", purpose_text="当事人申请复制", valid_until=until, recipient="某公司（当事人）",
        party_application=application)
    approvals.approve(party.pk, people["department_head"], "同意")
    return [party, external, pending]  # the first is the one each baseline request names


def _fuzz_activities(people, unit, recording):
    """A pushed seizure of a case with a linked recording (so it has findings) and a recorded
    interruption, and accepted bodies of the integration pushes (activities/api.py)."""
    from datetime import timedelta

    from activities.choices import InterruptionForm
    from activities.conduct import record_interruption
    from activities.models import MatterType
    from activities.services import ActivityValues, CaseValues, create_activity, create_case
    from recordings.choices import MarkerKind
    from recordings.markers import add_marker

    head = people["department_head"]
    case = create_case(unit.department, CaseValues(number="某市监处罚〔2026〕99号", party_name="某公司",
                                                   external_system="办案系统", external_id="AJ-99"), actor=head)
    seizure = MatterType.objects.get(scope="samr", code="seizure", current=True)
    start = recording.start_time
    activity = create_activity(unit, ActivityValues(
        matter_id=seizure.pk, title="查封现场", officer_ids=(people["officer"].pk, people["colleague"].pk),
        case_id=case.pk, starts_at=start, ends_at=start + timedelta(hours=1), external_system="办案系统",
        external_id="HD-99"), actor=head)
    from activities.services import link_recording

    link_recording(activity.pk, recording.pk, actor=people["officer"])
    marker = add_marker(recording.pk, actor=people["officer"], offset_s=1, kind=MarkerKind.RESUME_STATEMENT,
                        note="更换电池后继续记录")
    record_interruption(activity.pk, actor=people["officer"], starts_at=start + timedelta(seconds=30),
                        ends_at=start + timedelta(seconds=60), reason="battery", form=InterruptionForm.VOICE,
                        marker_id=marker.pk)
    badges = [people["officer"].badge_number, people["colleague"].badge_number]
    bodies = {
        "/api/v1/cases": json.dumps({
            "department_id": unit.department_id, "number": "某市监处罚〔2026〕99号", "party_name": "某公司",
            "external_system": "办案系统", "external_id": "AJ-99"}).encode(),
        "/api/v1/activities": json.dumps({
            "unit_id": unit.pk, "matter": "samr:inspection_art41", "title": "双随机抽查",
            "starts_at": start.isoformat(), "officer_badge_numbers": badges, "device_serials": ["A0012345"],
            "case_id": case.pk, "external_system": "双随机监管系统", "external_id": "SSJ-99"}).encode(),
        "/api/v1/documents": json.dumps({
            "activity_id": activity.pk, "doc_type": "site_record", "number": "某市监现〔2026〕9号",
            "stated_start": start.isoformat(), "external_system": "办案系统", "external_id": "WS-99"}).encode(),
    }
    return activity, case, bodies


def _fuzz_witness(checkpoint) -> tuple[str, str]:
    """A witness key (register it in LOG_WITNESSES) and its valid co-signature of ``checkpoint``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from custody.verifier import note
    from custody.witness import cosign

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    name = "witness.example/fuzz"
    body = note.parse_checkpoint(checkpoint.note).body
    return note.VerifierKey.make(name, public, note.ALG_COSIGNATURE_V1).text(), cosign(private, name, body, 1_767_225_600)


# --- one request, checked ----------------------------------------------------------------------


@dataclass
class FuzzRequest:
    """One generated request; its repr is what Hypothesis prints for a failing example."""

    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    content_type: str = ""
    headers: dict = field(default_factory=dict)
    principal: str = "anonymous"

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def _repr_pretty_(self, printer, cycle) -> None:  # how Hypothesis prints a falsifying example
        printer.text(repr(self))

    def __repr__(self) -> str:
        parts = [f"{self.method} {self.url}", f"as {self.principal}"]
        if self.headers:
            parts.append(f"headers={self.headers!r}")
        if self.body is not None:
            parts.append(f"content_type={self.content_type!r} body={self.body!r}")
        return "<" + " ".join(parts) + ">"


class ServerError(AssertionError):
    """The platform answered a request with a 5xx (or leaked a traceback)."""


TRACEBACK_MARKERS = (b"Traceback (most recent call last)", b'.py", line ', b"site-packages/")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.thread = threading.get_ident()

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None and threading.get_ident() == self.thread:
            self.records.append(record)


def _quiet(record) -> bool:
    return False


@contextmanager
def logged_exceptions():
    """Exceptions logged (not raised) while handling a request, e.g. by the tus views' guard.

    The root logger's own handlers are muted meanwhile: a failing example is reported with
    the server's exception chained, and thousands of expected 4xx warnings are only noise."""
    handler = _Collect()
    root = logging.getLogger()
    muted = list(root.handlers)
    for other in muted:
        other.addFilter(_quiet)
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        for other in muted:
            other.removeFilter(_quiet)


def raised_at(exc: BaseException) -> str:
    """file:line of the deepest frame in the project's own code (else the deepest frame)."""
    tb, last, ours = exc.__traceback__, None, None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        last = (filename, tb.tb_lineno)
        if filename.startswith(str(PROJECT_ROOT)) and "/.venv/" not in filename and "/tests/" not in filename \
                and not filename.endswith("testing_fuzz.py"):
            ours = last
        tb = tb.tb_next
    where = ours or last
    if where is None:
        return "?"
    filename = where[0]
    if filename.startswith(str(PROJECT_ROOT) + os.sep):
        filename = filename[len(str(PROJECT_ROOT)) + 1 :]
    return f"{filename}:{where[1]}"


def _body(response) -> bytes:
    """The whole body. (The test client closes the response itself: for a streamed one once
    the content is read, with Django's close-old-connections hook held off. Closing it again
    here would close the database connection in the middle of the test's transaction.)"""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _send(client, request: FuzzRequest):
    extra = {}
    if request.body is not None:
        extra["data"] = request.body
        extra["content_type"] = request.content_type or "application/octet-stream"
    return client.generic(request.method, request.url, headers=request.headers, **extra)


@contextmanager
def _restoring(world: FuzzWorld):
    try:
        yield
    finally:
        world.restore_files()


def exercise(world: FuzzWorld, request: FuzzRequest):
    """Send ``request`` as its principal inside a rolled-back savepoint; return the response
    (its body already read).

    Raises ``ServerError`` (chained to the server's own exception, so each distinct fault is
    reported as a distinct failure) when the answer is a 5xx or shows a traceback.
    """
    from django.db import transaction

    with _restoring(world), transaction.atomic():
        client, headers = world.client(request.principal, request.headers)
        sent = FuzzRequest(**{**request.__dict__, "headers": headers})
        with logged_exceptions() as logged:
            try:
                response = _send(client, sent)
            except Exception as exc:  # the test client re-raises what the view raised
                raise ServerError(
                    f"{request!r} raised {type(exc).__name__}: {str(exc)[:300]} at {raised_at(exc)}"
                ) from exc
            body = _body(response)
        transaction.set_rollback(True)
    status = response.status_code
    if status >= 500:
        cause = logged[0].exc_info[1] if logged else None
        detail = f"; logged {type(cause).__name__}: {str(cause)[:300]} at {raised_at(cause)}" if cause else ""
        message = f"{request!r} answered {status}{detail}; body {body[:300]!r}"
        if cause is not None:
            raise ServerError(message) from cause
        raise ServerError(message)
    for marker in TRACEBACK_MARKERS:
        if marker in body:
            raise ServerError(f"{request!r} answered {status} with a traceback in the body: {body[:500]!r}")
    return response


@dataclass
class SweepFailure:
    message: str  # the first request that hit the fault, the exception and where it was raised
    cause: BaseException | None
    also: list[str] = field(default_factory=list)  # further requests that hit the same fault


def sweep(world: FuzzWorld, requests: Iterable[FuzzRequest]) -> list[SweepFailure]:
    """Send every request; the distinct server errors among them, keyed by exception type,
    where it was raised and its message without the values in it."""
    failures: dict[tuple, SweepFailure] = {}
    for request in requests:
        try:
            exercise(world, request)
        except ServerError as exc:
            cause = exc.__cause__
            if cause is None:
                key = (request.method, request.path)
            else:  # one entry per kind of fault: type, place, and message without its numbers
                key = (type(cause).__name__, raised_at(cause), re.sub(r"\d+|'[^']*'", "…", str(cause))[:80])
            if key in failures:
                failures[key].also.append(f"{request.method} {request.url}"[:160])
            else:
                failures[key] = SweepFailure(str(exc), cause)
    return list(failures.values())


def sweep_report(failures: list[SweepFailure]) -> str:
    lines = [f"{len(failures)} distinct server error(s) on single edge values:"]
    for failure in failures:
        lines.append(f"  - {failure.message[:700]}")
        if failure.also:
            lines.append(f"    same fault also for: {'; '.join(failure.also[:8])}"
                         + (f" (+{len(failure.also) - 8} more)" if len(failure.also) > 8 else ""))
    return "\n".join(lines)


def run_fuzz(name: str, strategy: st.SearchStrategy, world: FuzzWorld, max_examples: int, *,
             baselines: Iterable[FuzzRequest] = (), sweep_requests: Iterable[FuzzRequest] = ()) -> list:
    """The sweep (every listed request, all distinct failures collected), then Hypothesis
    (``baselines`` as explicit examples, then ``max_examples`` generated requests, failures
    shrunk). Raises when either found a server error; returns the generated responses."""
    from hypothesis import example, given

    failures = sweep(world, sweep_requests)
    responses: list = []

    def check(request):
        responses.append(exercise(world, request))
        if os.environ.get("AVR_FUZZ_DEBUG"):
            print("REQ", responses[-1].status_code, repr(request)[:200])

    test = given(request=strategy)(check)
    for request in reversed(list(baselines)):
        test = example(request=request)(test)
    try:
        fuzz_seeded(name)(fuzz_settings(max_examples)(test))()
    except BaseException as exc:
        if failures:  # Hypothesis's own report comes first, as the cause
            raise ServerError(sweep_report(failures)) from exc
        raise
    if failures:  # with the first fault's traceback as the cause
        raise ServerError(sweep_report(failures)) from failures[0].cause
    print(f"{name}: {describe_statuses([r.status_code for r in responses])}")  # shown with -rP or -s
    return responses


def describe_statuses(statuses: list[int]) -> str:
    counts: dict[int, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{k}×{v}" for k, v in sorted(counts.items()))


__all__ = [
    "API_PRINCIPALS", "HUGE", "RAW_QUERIES", "SWEEP", "TUS_VERSIONS", "WEB_PRINCIPALS", "FuzzRequest",
    "FuzzWorld", "ServerError", "SweepFailure", "bad_authorization", "build_fuzz_world", "dates_text",
    "datetimes_text", "describe_statuses", "edge_or_nasty", "encode_multipart", "encode_pairs",
    "exercise", "field_kind", "form_fields", "form_pairs", "form_sweep", "fuzz_seeded",
    "fuzz_settings", "header_values", "ids_text", "integers_text", "json_body", "json_sweep",
    "junk_pairs", "latin1", "mostly", "nasty", "odd_text", "one_bad", "optional", "pairs_from",
    "param_plausible", "param_values", "principal_headers", "resolve", "run_fuzz", "schema_kind",
    "source_parameters", "sweep", "sweep_report", "tus_integers", "tus_metadata", "wire",
]  # fmt: skip
