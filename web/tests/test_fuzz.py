"""Property-based fuzz of the web UI (issue 6): no page, filter or form answers a 5xx.

Every URL pattern of ``web/urls.py`` is requested with GET, HEAD and POST. Path parameters
come from the pattern's converters; query strings and bodies from the forms the view uses
(``web/forms``: the forms its code names, else those its helpers name, else those its module
imports, else every form) and the parameter and header names its module reads by literal
name (``page``, ``next``, ``t``, ``HX-Target`` …). A new page or form field is fuzzed without
touching this file.

Each page gets two passes (``core.testing_fuzz``):

- a sweep: every form field and parameter alone (required fields kept valid) with each edge
  value of its kind — 0001-01-01, 9999-12-31, 9999-12-31T23:59, 40 digits, -1, a 3,200
  character text, NUL, a lone surrogate, RTL marks, emoji, GBK bytes, empty — as the officer
  on their own recording; every distinct server error is listed;
- Hypothesis: generated requests, mostly plausible with one bad value (so forms validate and
  the service behind them runs), sometimes anything at all, as any person of the world;
  a failure is shrunk to a minimal request.

Requests run in-process with the test client (which skips CSRF, as a browser with a valid
token passes it), each inside a rolled-back savepoint, and must answer below 500 without a
traceback in the body.

    .venv/bin/pytest -q web/tests/test_fuzz.py
    AVR_FUZZ_EXAMPLES=300 .venv/bin/pytest -q web/tests/test_fuzz.py   # a deeper run
    AVR_FUZZ_RANDOM=1 .venv/bin/pytest -q web/tests/test_fuzz.py        # fresh seeds
"""

from __future__ import annotations

import inspect
import io
import re
import sys
from urllib.parse import quote

import pytest
from django import forms as django_forms
from django.urls import URLResolver
from django.urls.converters import IntConverter, SlugConverter, UUIDConverter
from hypothesis import strategies as st

from core.bounds import IdConverter
from core.testing_fuzz import (
    RAW_QUERIES,
    SWEEP,
    WEB_PRINCIPALS,
    FuzzRequest,
    build_fuzz_world,
    describe_statuses,
    encode_multipart,
    encode_pairs,
    form_pairs,
    form_sweep,
    header_values,
    ids_text,
    integers_text,
    latin1,
    mostly,
    nasty,
    optional,
    pairs_from,
    principal_headers,
    run_fuzz,
    source_parameters,
    wire,
)
from web import forms as web_forms
from web import urls as web_urls

PASSWORD = "Test-pass-2026"  # core.testing.make_person's default
MULTIPART = "multipart/form-data; boundary=avr-fuzz-boundary"
URLENCODED = "application/x-www-form-urlencoded"

ALL_FORMS = [
    getattr(web_forms, name)
    for name in web_forms.__all__
    if isinstance(getattr(web_forms, name), type) and issubclass(getattr(web_forms, name), django_forms.BaseForm)
]


def _flatten(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _flatten(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


PATTERNS = list(_flatten(web_urls.urlpatterns))
TARGETS = [pytest.param(route, pattern, id=f"/{route}") for route, pattern in PATTERNS]
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@pytest.fixture
def world(db):
    world = build_fuzz_world()
    _settings_world(world)
    _case_documents_world(world)
    return world


def _settings_world(world) -> None:
    """事项目录 and 检查设置 (web/urls_settings.py): the department head's own catalog entry and a
    webhook endpoint with a delivery, so ``<matter_id>`` and ``<endpoint_id>`` reach the views."""
    from django.utils import timezone

    from activities.catalog import EntryValues, add_department_entry
    from activities.models import WebhookDelivery
    from activities.webhooks import create_endpoint

    head = world.people["department_head"]
    entry = add_department_entry(head.department, EntryValues(
        name="夜间食品经营场所检查", category="inspection", level="mandatory", start_trigger="到达现场时",
        end_trigger="离开现场时", article="某县局实施细则第五条"), actor=head)
    endpoint = create_endpoint(head.department, actor=head, name="案件办理系统", url="http://127.0.0.1:9/hook")
    WebhookDelivery.objects.create(endpoint=endpoint, event_type="finding.opened", payload={},
                                   created_at=timezone.now(), status="failed", attempts=8, last_error="无法送达")
    world.id_pools.update({"matter": [entry.pk], "endpoint": [endpoint.pk]})


def _case_documents_world(world) -> None:
    """案件 (web/urls_cases.py): the world's case gets a document with its original (so the
    download has bytes to serve) and one with only its particulars; ``<document_id>`` takes
    the first."""
    from activities.choices import CaseStage, DocumentType
    from activities.documents import add_document

    case_id = world.id_pools["case"][0]
    scan = io.BytesIO(b"%PDF-1.4\n% fuzz filing approval\n%%EOF\n")
    scan.name = "立案审批表.pdf"
    officer = world.people["officer"]
    stored = add_document(actor=officer, case_id=case_id, stage=CaseStage.START,
                          doc_type=DocumentType.FILING_APPROVAL, number="某市监立〔2026〕99号", upload=scan)
    bare = add_document(actor=officer, case_id=case_id, doc_type=DocumentType.SERVICE_RECEIPT)
    world.id_pools["document"] = [stored.pk, bare.pk]
    world.ids = sorted({*world.ids, stored.pk, bare.pk})


# --- what a view reads ---------------------------------------------------------------------


def view_module(pattern):
    return sys.modules[inspect.unwrap(pattern.callback).__module__]


def _code_levels(pattern):
    """The names a view's code uses, level by level: the view itself, then the helpers of its
    module that it calls, then theirs."""
    view = inspect.unwrap(pattern.callback)
    module = vars(sys.modules[view.__module__])
    level, seen = [view.__code__], set()
    while level:
        names = set()
        for code in level:
            seen.add(code)
            names |= set(code.co_names)
            names |= {n for c in code.co_consts if inspect.iscode(c) for n in c.co_names}
        yield names
        level = [
            module[n].__code__ for n in sorted(names)
            if inspect.isfunction(module.get(n)) and module[n].__module__ == view.__module__
            and module[n].__code__ not in seen
        ]


def forms_of(pattern, *, fallback: bool = True) -> list[type]:
    """The web forms a view uses: those its own code names, else those its helpers name,
    else (with ``fallback``) those its module imports, else every form."""
    module = vars(view_module(pattern))
    for names in _code_levels(pattern):
        used = [module[n] for n in sorted(names) if module.get(n) in ALL_FORMS]
        if used:
            return used
    if not fallback:
        return []
    imported = [obj for obj in module.values() if isinstance(obj, type) and obj in ALL_FORMS]
    return imported or ALL_FORMS


def reads(pattern, attribute: str) -> bool:
    """Whether the view (or a helper of its module) touches ``request.<attribute>``."""
    return any(attribute in names for names in _code_levels(pattern))


def _slugs() -> list[str]:
    from django.db import models

    from recordings import choices

    values = []
    for obj in vars(choices).values():
        if isinstance(obj, type) and issubclass(obj, models.TextChoices) and obj is not models.TextChoices:
            values += [v for v in obj.values if v not in values]
    return values


def converter_values(name: str, converter, world) -> st.SearchStrategy:
    if isinstance(converter, IdConverter | IntConverter):
        return mostly(ids_text(world.pool_for(name)), st.one_of(ids_text(world.ids), integers_text(), nasty()), 3)
    if isinstance(converter, UUIDConverter):
        return mostly(st.sampled_from(world.upload_ids), st.one_of(st.uuids().map(str), nasty()), 3)
    if isinstance(converter, SlugConverter):
        return mostly(st.sampled_from([*world.slugs, *_slugs()]), nasty(), 3)
    return nasty()


def known_values(world) -> dict:
    """Parameters whose useful values a generic strategy would hardly guess."""
    usernames = [p.username for p in world.people.values()]
    return {
        "username": mostly(st.sampled_from(usernames), nasty(), 3),
        "password": mostly(st.just(PASSWORD), nasty(), 3),
        "old_password": mostly(st.just(PASSWORD), nasty(), 3),
        "page": st.one_of(integers_text(), nasty()),
        "download": st.sampled_from(["1", "0", "true", "", "1\x00"]),
        "next": st.one_of(
            st.sampled_from(["/recordings/", "//evil.example/", "http://evil.example/", "/\\evil", "javascript:x",
                             "/recordings/?q=%00", "/" + "a" * 5000]),
            nasty(),
        ),
    }


def _quote(value) -> str:
    return quote(wire(value), safe="")


def _path(route: str, pattern, world, **override) -> str:
    path = "/" + route
    for match in _PARAM.finditer(route):
        name = match["name"]
        if name in override:
            value = override[name]
        elif isinstance(pattern.pattern.converters[name], SlugConverter):
            value = (world.slugs or _slugs())[0]
        elif route.startswith("access/requests/"):
            value = world.pool_for("access_request")[0]  # a request's pages take a request's id
        elif route.startswith("activities/") and name == "pk":
            value = world.pool_for("activity")[0]  # an activity's pages take an activity's id
        else:
            value = world.pool_for(name)[0]
        path = path.replace(match[0], _quote(value), 1)
    return path


def web_requests(route: str, pattern, world) -> st.SearchStrategy:
    module = view_module(pattern)
    params, header_names = source_parameters(module)
    known = known_values(world)
    converters = pattern.pattern.converters
    path_values = {
        match["name"]: converter_values(match["name"], converters[match["name"]], world)
        for match in _PARAM.finditer(route)
    }
    form_data = st.one_of(*(form_pairs(f, world.ids_for, extra_names=params, known=known) for f in forms_of(pattern)))
    param_data = st.fixed_dictionaries(
        {n: optional(known[n] if n in known else nasty()) for n in sorted(params)}
    ).map(pairs_from)
    principals = principal_headers(WEB_PRINCIPALS)
    headers_data = header_values({name: nasty() for name in header_names})
    raw_body = st.one_of(st.binary(max_size=64), nasty().map(wire))
    raw_types = st.sampled_from([
        URLENCODED, URLENCODED + "; charset=gbk", URLENCODED + "; charset=x-nope",
        "multipart/form-data", "multipart/form-data; boundary=", MULTIPART, "application/json", "",
    ])
    encodings = mostly(st.just(URLENCODED), st.sampled_from([MULTIPART, "raw"]), 4)
    methods = st.sampled_from(["GET", "POST", "GET", "POST", "HEAD"])

    @st.composite
    def build(draw):
        path = "/" + route
        for match in _PARAM.finditer(route):
            path = path.replace(match[0], _quote(draw(path_values[match["name"]])), 1)
        pairs = draw(form_data) + draw(param_data)
        principal, auth = draw(principals)
        headers = {**draw(headers_data), **auth}
        method = draw(methods)
        if method != "POST":
            query = draw(mostly(st.just(encode_pairs(pairs)), st.sampled_from(RAW_QUERIES), 8))
            return FuzzRequest(method, path, query, None, "", headers, principal)
        encoding = draw(encodings)
        if encoding == URLENCODED:
            body, content_type = encode_pairs(pairs).encode("ascii"), URLENCODED
        elif encoding == MULTIPART:
            body, content_type = encode_multipart(pairs), MULTIPART
        else:
            body, content_type = draw(raw_body), draw(raw_types)
        query = encode_pairs(draw(param_data)) if draw(mostly(st.just(False), st.just(True), 4)) else ""
        return FuzzRequest("POST", path, query, body, content_type, headers, principal)

    return build()


def baseline_requests(route: str, pattern, world) -> list[FuzzRequest]:
    """Explicit examples that must reach the view's queries: the officer's first recording
    (with its poster) or the first access request, as the officer, the department head (who
    decides requests), the auditor (audit pages) and nobody, without parameters."""
    path = _path(route, pattern, world)
    requests = [FuzzRequest("GET", path, principal=p)
                for p in ("officer", "department_head", "auditor", "anonymous")]
    requests += [FuzzRequest("POST", path, body=b"", content_type=URLENCODED, principal=p)
                 for p in ("officer", "custodian", "department_head", "auditor")]
    return requests


def sweep_requests(route: str, pattern, world) -> list[FuzzRequest]:
    """As the officer on their own recording: each path parameter with each integer edge;
    each field of the forms the view names and each parameter it reads, alone with each edge
    of its kind, in the query (if the view reads GET) and in the body (if it reads POST)."""
    module = view_module(pattern)
    params, _headers = source_parameters(module)
    officer = world.people["officer"]
    known = {"username": officer.username, "password": PASSWORD, "old_password": PASSWORD}
    path = _path(route, pattern, world)
    pair_lists = [pairs_from({name: value}) for name in sorted(params) for value in SWEEP["text"] + SWEEP["int"]]
    for form in forms_of(pattern, fallback=False):
        pair_lists += form_sweep(form, world.ids_for, known=known)
    requests = []
    for match in _PARAM.finditer(route):
        for value in [*SWEEP["int"], "abc"]:
            requests.append(FuzzRequest("GET", _path(route, pattern, world, **{match["name"]: value}), principal="officer"))
    if reads(pattern, "GET"):
        requests += [FuzzRequest("GET", path, encode_pairs(pairs), principal="officer") for pairs in pair_lists]
    if reads(pattern, "POST"):
        requests += [FuzzRequest("POST", path, body=encode_pairs(pairs).encode("ascii"), content_type=URLENCODED,
                                 principal="officer") for pairs in pair_lists]
    for name in ("HX-Target", "Referer", "Range", "Accept-Language"):
        for value in SWEEP["text"][:4]:
            requests.append(FuzzRequest("GET", path, headers={name: latin1(value)}, principal="officer"))
    return requests


def reached_view(response) -> bool:
    """Past sign-in, method and lookup: the view did its work (a 2xx, a 400 form error, or a
    redirect that is not to the sign-in page)."""
    status = response.status_code
    if status in (401, 403, 404, 405) or status >= 500:
        return False
    location = response.get("Location", "")
    return not (300 <= status < 400 and "/login/" in location and "next=" in location)


# --- the tests ----------------------------------------------------------------------------

# The list pages carry most filters, the edit form most fields: they get more examples.
EXAMPLES = {"recording_list": 80, "ingest_list": 50, "recording_edit": 80, "login": 40, "password_change": 40}
DEFAULT_EXAMPLES = 30
# Views no generated request can reach on its own (they need state from an earlier request).
UNREACHABLE = {
    "recording_play": "needs a play token that the detail page minted in the same session",
}


@pytest.mark.req("ING-4", "ING-6")
@pytest.mark.parametrize(("route", "pattern"), TARGETS)
def test_web_page_never_answers_5xx(route, pattern, world):
    responses = run_fuzz(
        "/" + route, web_requests(route, pattern, world), world, EXAMPLES.get(pattern.name, DEFAULT_EXAMPLES),
        baselines=baseline_requests(route, pattern, world), sweep_requests=sweep_requests(route, pattern, world),
    )
    if pattern.name not in UNREACHABLE:
        assert any(reached_view(r) for r in responses), (
            f"/{route}: no request got past sign-in, method and lookup "
            f"({describe_statuses([r.status_code for r in responses])}); the fuzz would not reach the view's queries"
        )


@pytest.mark.req("ING-4", "ING-6")
def test_every_web_url_pattern_is_fuzzed():
    """The targets come from web/urls.py itself; every view gets some form's fields."""
    assert {pattern.name for _route, pattern in PATTERNS} == {target.values[1].name for target in TARGETS}
    assert len(PATTERNS) >= 10 and ALL_FORMS
    for _route, pattern in PATTERNS:
        assert forms_of(pattern)
