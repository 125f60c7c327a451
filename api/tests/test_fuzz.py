"""Property-based fuzz of the REST API and the tus endpoint (issue 6): never a 5xx.

Every operation of the OpenAPI schema is driven with path parameters, query parameters,
bodies and headers from ``core.testing_fuzz``: days at the ends of the calendar, integers of
40 digits, long and odd Unicode, NUL bytes, GBK bytes, empty values. A new operation or
parameter is fuzzed as soon as it is in the schema. The tus endpoint at /api/v1/uploads/ gets
Upload-Length, Upload-Offset, Upload-Checksum and Upload-Metadata headers the same way
(base64 values, 40-digit ``unit_id`` and ``officer_ids`` included).

Each target gets two passes:

- a sweep: every parameter (and metadata key, and header) alone with each edge value of its
  kind (``SWEEP``), as a person who can see data; every distinct server error is listed;
- Hypothesis: generated requests, mostly plausible with one bad value (so they pass
  validation and reach the queries), sometimes anything at all, as any person of the world
  (officer, custodian, unit and department heads, administrators, outsiders, no or a bad
  token); a failure is shrunk to a minimal request.

Each request runs in-process inside a savepoint that is rolled back, and must answer below 500
without a traceback in the body; a 5xx fails with the server's own exception chained.

    .venv/bin/pytest -q api/tests/test_fuzz.py
    AVR_FUZZ_EXAMPLES=500 .venv/bin/pytest -q api/tests/test_fuzz.py   # a deeper run
    AVR_FUZZ_RANDOM=1 .venv/bin/pytest -q api/tests/test_fuzz.py        # fresh seeds
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from hypothesis import strategies as st

from core.testing_fuzz import (
    API_PRINCIPALS,
    HUGE,
    RAW_QUERIES,
    SWEEP,
    TUS_VERSIONS,
    FuzzRequest,
    build_fuzz_world,
    describe_statuses,
    encode_pairs,
    header_values,
    json_body,
    json_sweep,
    junk_pairs,
    latin1,
    mostly,
    nasty,
    odd_text,
    one_bad,
    optional,
    pairs_from,
    param_plausible,
    param_values,
    principal_headers,
    run_fuzz,
    schema_kind,
    tus_integers,
    tus_metadata,
    wire,
)

HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
OCTET = "application/offset+octet-stream"
TUS = {"Tus-Resumable": "1.0.0"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _schema() -> dict:
    from api.ninja import api

    return api.get_openapi_schema()


SCHEMA = _schema()
COMPONENTS = SCHEMA.get("components", {})
OPERATIONS = [
    Operation(method.upper(), path, spec)
    for path, methods in SCHEMA["paths"].items()
    for method, spec in methods.items()
    if method in HTTP_METHODS
]


@pytest.fixture
def world(db, settings):
    world = build_fuzz_world()
    settings.LOG_WITNESSES = world.witness_keys
    return world


# --- requests for one operation ------------------------------------------------------------


def _params(operation: Operation, where: str) -> list[dict]:
    return [p for p in operation.spec.get("parameters", []) if p.get("in") == where]


def _path_value(value) -> str:
    if isinstance(value, list):
        value = ",".join(latin1(v) for v in value)
    return quote(wire(value), safe="")


def _json_schemas(operation: Operation) -> dict[str, dict]:
    content = operation.spec.get("requestBody", {}).get("content", {})
    return {media: spec.get("schema", {}) for media, spec in content.items()}


def _body_strategy(operation: Operation, world):
    schemas = _json_schemas(operation)
    if not schemas:
        return st.just((None, ""))
    strategies = []
    for media_type, schema in schemas.items():
        if "json" in media_type:
            strategies.append(json_body(schema, COMPONENTS, world.ids).map(lambda b, m=media_type: (b, m)))
        else:  # forms and anything else: the schema's properties as urlencoded pairs
            names = sorted(schema.get("properties", {})) or ["data"]
            strategies.append(
                junk_pairs(names).map(lambda pairs: (encode_pairs(pairs).encode(), "application/x-www-form-urlencoded"))
            )
    return st.one_of(*strategies, st.tuples(st.binary(max_size=64), st.sampled_from(["application/json", "text/plain", ""])))


def api_requests(operation: Operation, world) -> st.SearchStrategy:
    path_params = _params(operation, "path")
    query_params = _params(operation, "query")
    header_params = {
        p["name"]: param_values(p.get("schema", {}), COMPONENTS, world.ids_for(p["name"])).map(latin1)
        for p in _params(operation, "header")
    }
    names = [p["name"] for p in query_params]
    path_values = {
        p["name"]: param_values(p.get("schema", {}), COMPONENTS, world.pool_for(p["name"])) for p in path_params
    }
    plausible = {p["name"]: param_plausible(p.get("schema", {}), COMPONENTS, world.ids_for(p["name"]))
                 for p in query_params}
    kinds = {p["name"]: schema_kind(p.get("schema", {}), COMPONENTS) for p in query_params}
    required = {p["name"]: 2 for p in query_params if p.get("required")}
    anything = st.fixed_dictionaries({
        p["name"]: optional(param_values(p.get("schema", {}), COMPONENTS, world.ids_for(p["name"])))
        for p in query_params
    }).map(pairs_from)
    query_pairs = st.one_of(
        one_bad(plausible, kinds, present=required),
        st.tuples(anything, junk_pairs(names)).map(lambda t: t[0] + t[1]),
    )
    bodies = _body_strategy(operation, world)
    principals = principal_headers(API_PRINCIPALS)
    headers_data = header_values(header_params)

    @st.composite
    def build(draw):
        path = operation.path
        for name, values in path_values.items():
            path = path.replace("{" + name + "}", _path_value(draw(values)))
        query = draw(mostly(query_pairs.map(encode_pairs), st.sampled_from(RAW_QUERIES), 8))
        body, content_type = draw(bodies)
        principal, headers = draw(principals)
        headers = {**draw(headers_data), **headers}
        return FuzzRequest(operation.method, path, query, body, content_type, headers, principal)

    return build()


def _base_path(operation: Operation, world, **override) -> str:
    path = operation.path
    for param in _params(operation, "path"):
        name = param["name"]
        value = override.get(name, world.pool_for(name)[0])
        path = path.replace("{" + name + "}", _path_value(value))
    return path


def baseline_requests(operation: Operation, world) -> list[FuzzRequest]:
    """Explicit examples that must get past authentication and lookups: the likeliest row
    (the officer's first recording, ingest item …), as each kind of person, no parameters."""
    principals = ("officer:token", "custodian", "department_head:token", "auditor:token", "anonymous")
    # required query parameters, and those the world has a named pool for, take its first value
    required = [
        (p["name"], world.pool_for(p["name"])[0]) for p in _params(operation, "query")
        if p.get("required") or p["name"] in world.id_pools
    ]
    query = encode_pairs([(name, str(value)) for name, value in required]) if required else ""
    body = world.bodies.get(operation.path)
    return [
        FuzzRequest(operation.method, _base_path(operation, world), query, body=body,
                    content_type="application/json" if body else "", principal=p)
        for p in principals
    ]


def sweep_requests(operation: Operation, world) -> list[FuzzRequest]:
    """Each path parameter, query parameter, header parameter and body property alone, with
    each edge value of its kind, as the officer (who sees the rows the base path names)."""
    principal, method = "officer:token", operation.method
    base = _base_path(operation, world)
    requests = []
    for param in _params(operation, "path"):
        for value in [*SWEEP[schema_kind(param.get("schema", {}), COMPONENTS)], "abc", "1.0", "-0"]:
            path = _base_path(operation, world, **{param["name"]: value})
            requests.append(FuzzRequest(method, path, principal=principal))
    for param in _params(operation, "query"):
        for value in SWEEP[schema_kind(param.get("schema", {}), COMPONENTS)]:
            requests.append(FuzzRequest(method, base, encode_pairs([(param["name"], value)]), principal=principal))
    for param in _params(operation, "header"):
        for value in SWEEP[schema_kind(param.get("schema", {}), COMPONENTS)]:
            requests.append(FuzzRequest(method, base, headers={param["name"]: latin1(value)}, principal=principal))
    for media_type, schema in _json_schemas(operation).items():
        for body in json_sweep(schema, COMPONENTS):
            requests.append(FuzzRequest(method, base, body=body, content_type=media_type, principal=principal))
    return requests


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.req("INT-1")
def test_schema_lists_every_api_route():
    """The fuzz covers what the schema lists: every route the API serves must be in it."""
    from api.ninja import api

    patterns, _app, _namespace = api.urls
    documented = {re.sub(r"\{[^}]+\}", "{}", path) for path in SCHEMA["paths"]}
    assert OPERATIONS, "the OpenAPI schema lists no operations"
    for pattern in patterns:
        route = "/api/v1/" + re.sub(r"<(?:\w+:)?\w+>", "{}", str(pattern.pattern))
        if pattern.name in ("openapi-json", "openapi-view", "api-root"):
            continue  # fuzzed by test_api_paths_with_any_method_never_answer_5xx
        assert route in documented or route.rstrip("/") in documented, (
            f"{route} is served but not in the OpenAPI schema, so the fuzz does not drive it"
        )


@pytest.mark.req("INT-1")
@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_api_operation_never_answers_5xx(operation, world):
    responses = run_fuzz(
        str(operation), api_requests(operation, world), world, 50,
        baselines=baseline_requests(operation, world), sweep_requests=sweep_requests(operation, world),
    )
    statuses = [r.status_code for r in responses]
    assert any(status < 400 for status in statuses), (
        f"{operation}: no request got past authentication and validation ({describe_statuses(statuses)}); "
        "the fuzz would not reach the handler's queries"
    )


@pytest.mark.req("INT-1")
def test_api_paths_with_any_method_never_answer_5xx(world):
    """Wrong methods, odd paths below /api/v1/ and the schema and docs pages."""
    paths = sorted({re.sub(r"\{[^}]+\}", "1", op.path) for op in OPERATIONS}
                   | {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/", "/api/v1/nope"})
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]

    @st.composite
    def build(draw):
        path = draw(st.one_of(
            st.sampled_from(paths),
            st.tuples(st.sampled_from(paths), odd_text()).map(lambda t: t[0] + "/" + quote(wire(t[1]), safe="")),
        ))
        body = draw(st.one_of(st.none(), st.binary(max_size=64)))
        principal, headers = draw(principal_headers(API_PRINCIPALS))
        query = encode_pairs(draw(junk_pairs(["limit", "offset", "format"])))
        return FuzzRequest(draw(st.sampled_from(methods)), path, query, body,
                           draw(st.sampled_from(["application/json", "text/plain"])),
                           {**draw(header_values()), **headers}, principal)

    sweep = [FuzzRequest(method, path, principal="officer:token") for path in paths for method in methods]
    assert run_fuzz("any method", build(), world, 30, sweep_requests=sweep)


# --- tus ----------------------------------------------------------------------------------


def _metadata_keys() -> set[str]:
    from ingest.metadata import KNOWN_KEYS

    return set(KNOWN_KEYS) | {"filename", "filetype", "unit_id", "officer_ids"}


def _b64(value) -> str:
    return base64.b64encode(wire(value)).decode("ascii")


def _checksums(body: bytes) -> st.SearchStrategy:
    right = {name: _b64(hashlib.new(name, body).digest()) for name in ("sha256", "sha1", "md5")}
    return st.one_of(
        st.sampled_from([f"{name} {value}" for name, value in right.items()]),
        st.sampled_from(["sha256 " + _b64(b"x" * 32), "sha256 !!!", "sha256", "crc32 AAAA",
                         "sha256 " + _b64(b"x" * 31), "SHA256 " + right["sha256"], "  "]),
        nasty().map(latin1),
    )


def _tus_headers(draw, body: bytes | None) -> dict:
    headers = {"Tus-Resumable": draw(mostly(st.just("1.0.0"), st.sampled_from(TUS_VERSIONS)))}
    optional_headers = {
        "X-HTTP-Method-Override": st.sampled_from(["PATCH", "DELETE", "HEAD", "GET", "OPTIONS", "patch", "", "\x00"]),
        "Upload-Checksum": _checksums(body or b""),
        "Upload-Defer-Length": st.sampled_from(["1", "0", "", HUGE]),
        "Content-Type": st.sampled_from([OCTET, OCTET + "; charset=utf-8", "application/octet-stream", ""]),
    }
    for name, strategy in optional_headers.items():
        value = draw(mostly(st.none(), strategy, 6))
        if value is not None:
            headers[name] = value
    return headers


TUS_PRINCIPALS = ["officer:token", "officer", "custodian", "department_head:token", "outsider:token",
                  "anonymous", "bad-token"]


@st.composite
def tus_create_requests(draw, world):
    body = draw(st.one_of(st.none(), st.binary(max_size=64)))
    headers = _tus_headers(draw, body)
    length = draw(st.one_of(st.none(), tus_integers(), st.just(str(len(body or b"")))))
    if length is not None:
        headers["Upload-Length"] = length
    metadata = draw(optional(tus_metadata(_metadata_keys(), world.ids_for)))
    if metadata is not None:
        headers["Upload-Metadata"] = metadata
    principal, auth = draw(principal_headers(TUS_PRINCIPALS))
    content_type = headers.pop("Content-Type", OCTET if body is not None else "")
    return FuzzRequest("POST", "/api/v1/uploads/", "", body, content_type, {**headers, **auth}, principal)


@st.composite
def tus_resource_requests(draw, world):
    principal, auth = draw(principal_headers(TUS_PRINCIPALS))
    person = world.people.get(principal.partition(":")[0])
    own = [str(u.pk) for u in world.uploads if person is not None and u.created_by_id == person.pk]
    target = draw(mostly(
        st.sampled_from(own or world.upload_ids),
        st.one_of(st.sampled_from(world.upload_ids), st.uuids().map(str),
                  odd_text().map(lambda v: quote(wire(v), safe=""))),
        3,
    ))
    path = f"/api/v1/uploads/{target}" + draw(mostly(st.just(""), st.just("/")))
    method = draw(st.sampled_from(["PATCH", "HEAD", "PATCH", "DELETE", "PATCH", "OPTIONS", "GET", "POST", "PUT"]))
    body = draw(st.one_of(st.none(), st.binary(max_size=64)))
    headers = _tus_headers(draw, body)
    offset = draw(mostly(st.one_of(st.just("0"), tus_integers()), st.none(), 6))
    if offset is not None:
        headers["Upload-Offset"] = offset
    content_type = headers.pop("Content-Type", OCTET if body is not None else "")
    return FuzzRequest(method, path, "", body, content_type, {**headers, **auth}, principal)


METADATA_KINDS = {"unit_id": "int", "officer_ids": "int", "late_reason": "choice", "important": "bool"}


def tus_create_sweep(world) -> list[FuzzRequest]:
    """Each metadata key alone (beside a file name) with each edge value of its kind, each
    Upload-Length edge, broken base64; as the officer by token."""
    def create(metadata: str, length: str = "100", **headers) -> FuzzRequest:
        return FuzzRequest("POST", "/api/v1/uploads/", headers={
            **TUS, "Upload-Length": length, "Upload-Metadata": metadata, **headers}, principal="officer:token")

    name = f"filename {_b64('clip.mp4')}"
    requests = []
    for key in sorted(_metadata_keys()):
        values = SWEEP[METADATA_KINDS.get(key, "text")]
        if key == "officer_ids":
            values = [*values, f"{world.people['officer'].pk},{HUGE}", f"{HUGE}，{HUGE}", " , ,"]
        for value in values:
            entry = f"{key} {_b64(value)}"
            requests.append(create(entry if key == "filename" else f"{name},{entry}"))
        requests.append(create(f"{name},{key} !!!"))
        requests.append(create(f"{name},{key}"))
    for length in [*SWEEP["int"], "1" * 19, str(2**63), "0x10", " 100", "1e3"]:
        requests.append(create(name, latin1(length)))
    requests += [create(metadata) for metadata in ("", ",", "a b c", "\x00", "filename YQ==,filename YQ==")]
    return requests


def tus_resource_sweep(world) -> list[FuzzRequest]:
    """The officer's own upload: each Upload-Offset and Upload-Checksum edge on a PATCH,
    HEAD and DELETE on it, unknown and odd upload ids."""
    mine = f"/api/v1/uploads/{world.upload_ids[0]}"
    body = b"x" * 10

    def patch(**headers) -> FuzzRequest:
        return FuzzRequest("PATCH", mine, body=body, content_type=OCTET,
                           headers={**TUS, "Upload-Offset": "0", **headers}, principal="officer:token")

    requests = [patch(**{"Upload-Offset": latin1(value)}) for value in [*SWEEP["int"], "1" * 19, "10", "1000"]]
    requests += [patch(**{"Upload-Checksum": value}) for value in [
        "sha256 " + _b64(hashlib.sha256(body).digest()), "sha256 " + _b64(b"x" * 32), "sha256 !!!",
        "md5 " + _b64(b"x" * 99), "crc32 AAAA", "sha256", latin1(SWEEP["text"][0]),
    ]]
    for path in (mine, mine + "/", f"/api/v1/uploads/{'0' * 8}-0000-0000-0000-{'0' * 12}", "/api/v1/uploads/%00"):
        requests += [FuzzRequest(m, path, headers=TUS, principal="officer:token") for m in ("HEAD", "DELETE", "GET")]
    return requests


@pytest.mark.req("ING-6", "INT-1")
def test_tus_creation_never_answers_5xx(world):
    unit = world.people["officer"].unit_id
    baselines = [
        FuzzRequest("POST", "/api/v1/uploads/", headers={
            **TUS, "Upload-Length": "100", "Upload-Metadata": f"filename {_b64('clip.mp4')},unit_id {_b64(str(unit))}",
        }, principal="officer:token"),
        FuzzRequest("OPTIONS", "/api/v1/uploads/", principal="anonymous"),
    ]
    responses = run_fuzz("tus creation", tus_create_requests(world), world, 60,
                         baselines=baselines, sweep_requests=tus_create_sweep(world))
    assert any(r.status_code < 400 for r in responses), describe_statuses([r.status_code for r in responses])


@pytest.mark.req("ING-6", "INT-1")
def test_tus_upload_resource_never_answers_5xx(world):
    mine = f"/api/v1/uploads/{world.upload_ids[0]}"
    baselines = [
        FuzzRequest("HEAD", mine, headers=TUS, principal="officer:token"),
        FuzzRequest("PATCH", mine, body=b"x" * 10, content_type=OCTET,
                    headers={**TUS, "Upload-Offset": "0"}, principal="officer:token"),
    ]
    responses = run_fuzz("tus resource", tus_resource_requests(world), world, 50,
                         baselines=baselines, sweep_requests=tus_resource_sweep(world))
    assert any(r.status_code < 400 for r in responses), describe_statuses([r.status_code for r in responses])
