"""The authorization matrix (issue 9, ACC-1, ACC-3): every position × action × confidentiality ×
profile, on every read path, against the contract written out below — not against the rules
table it checks.

Positions are the ways a person can stand to a record (the rules' scopes and their complements);
the expected decision is ``expected()``, a restatement of SAMR art. 17, DL art. 22, SQ 设备 art. 12
and ACC-3 in a few lines. Each combination is checked on: ``decide()``, ``restrict()`` (list,
count, free-text search), the record page, the custody history panel, the content URL under every
Range form, the download, a derivative, the ingest items, the own-scope register and the API
(detail, list, content). A path that shows a record, a title or a count where ``expected`` says
no fails the test with the combination named.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access import approvals
from access.choices import AccessAction, AccessProfile
from access.confidentiality import assign_profile, mark_confidential
from access.rules import ACTIONS, RULES, decide
from access.selectors import list_scope_access_entries
from access.services import register_access
from api.tests.base import bearer
from core.testing import lapse_request, make_department, make_person, make_recording, make_unit
from ingest.models import IngestItem
from ingest.selectors import list_ingest_items
from recordings.choices import DerivativeKind
from recordings.models import Derivative, Recording
from recordings.selectors import RecordingFilter, list_recordings

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-1"), pytest.mark.req("ACC-3")]

EDIT = "edit"
MEDIA = {AccessAction.VIEW, AccessAction.PLAY, AccessAction.DOWNLOAD, AccessAction.COPY}
EVERYTHING = MEDIA | {EDIT}

# position -> roles, and where the person sits ("unit": the record's unit, "unit2": another unit
# of the record's department, "dept": the record's department, "province": its parent,
# "sibling": another city of the province, "child": a county below the record's department)
POSITIONS = {
    "recorder": ("officer", "unit"),
    "named": ("officer", "unit"),
    "unit_officer": ("officer", "unit"),
    "custodian": ("custodian", "unit"),
    "unit_head": ("unit_head", "unit"),
    "other_unit_officer": ("officer", "unit2"),
    "other_unit_head": ("unit_head", "unit2"),
    "department_head": ("department_head", "dept"),
    "superior_head": ("department_head", "province"),
    "superior_officer": ("officer", "province"),
    "sibling_head": ("department_head", "sibling"),
    "child_head": ("department_head", "child"),
    "legal_office": ("legal_office", "dept"),
    "system_admin": ("system_admin", "province"),
    "security_admin": ("security_admin", "province"),
    "audit_admin": ("audit_admin", "province"),
    "grantee": ("officer", "unit2"),  # an approved request: view + play, confidential not included
    "grantee_confidential": ("officer", "sibling"),  # view + play + download, confidential included
    "revoked_grantee": ("officer", "unit2"),  # approved, then revoked
    "expired_grantee": ("officer", "unit2"),  # approved, window over
}


def expected(position: str, action: str, *, confidential: bool, profile: str) -> bool:
    """The contract, restated."""
    if position == "recorder":
        return action in ({AccessAction.VIEW, AccessAction.PLAY} if confidential else EVERYTHING)
    if position == "named":
        return not confidential and action in EVERYTHING
    if position in ("custodian", "unit_head"):
        if confidential:
            return False
        standing = EVERYTHING if profile == AccessProfile.NATIONAL else {AccessAction.VIEW, EDIT}
        return action in standing
    if position in ("department_head", "superior_head"):
        return action in MEDIA  # confidential too: the department-head path; never editing
    if position == "grantee":
        return not confidential and action in {AccessAction.VIEW, AccessAction.PLAY}
    if position == "grantee_confidential":
        return action in {AccessAction.VIEW, AccessAction.PLAY, AccessAction.DOWNLOAD}
    return False  # everyone else, administrators above all


def test_every_rule_is_in_the_matrix():
    """A new rule needs a position here (and a line in ``expected``)."""
    covered = {"recorder", "named", "unit", "department", "superior", "grant", "grant_confidential"}
    assert {rule.code for rule in RULES} == covered
    assert set(ACTIONS) == EVERYTHING


def _world(profile: str):
    province = make_department(name="某省市场监督管理局", level="province")
    dept = make_department(parent=province)
    sibling = make_department(parent=province)
    child = make_department(level="county", parent=dept)
    unit, unit2 = make_unit(dept), make_unit(dept)
    places = {"unit": {"unit": unit}, "unit2": {"unit": unit2}, "dept": {"department": dept},
              "province": {"department": province}, "sibling": {"unit": make_unit(sibling)},
              "child": {"department": child}}
    people = {pos: make_person(role, **places[where]) for pos, (role, where) in POSITIONS.items()}
    security = people["security_admin"]
    if profile != AccessProfile.NATIONAL:
        assign_profile(dept, actor=security, profile=profile)
    recorder, named = people["recorder"], people["named"]
    began = timezone.now() - timedelta(hours=1)
    plain = make_recording(recorder, filename="DSJ-PLAIN_0001.MP4", case_number="矩阵案1", officer_ids=[named.pk],
                           start_time=began)
    secret = make_recording(recorder, filename="DSJ-SECRET_0002.MP4", case_number="矩阵案1",
                            officer_ids=[named.pk], start_time=began)
    for rec in (plain, secret):
        _poster(rec)
        IngestItem.objects.create(created_by=recorder, filename=rec.original_filename, status="stored",
                                  recording=rec, stored_object=rec.original, size=rec.original.size,
                                  created_at=timezone.now(), updated_at=timezone.now())
        register_access(rec, actor=recorder, action=AccessAction.VIEW)
    until = timezone.now() + timedelta(days=3)

    def grant(pos, actions, approver, include_confidential=False):
        request = approvals.create_request(
            people[pos], department=dept, unit=None, recording_ids=[plain.pk, secret.pk],
            purpose_code="case_handling", purpose_text="矩阵测试", actions=actions, valid_until=until,
            include_confidential=include_confidential)
        approvals.approve(request.pk, approver, "同意")
        return request

    head = people["department_head"]
    grant("grantee", ["play"], head)
    grant("grantee_confidential", ["play", "download"], head, include_confidential=True)
    revoked = grant("revoked_grantee", ["play", "download"], head)
    approvals.revoke(revoked.pk, head, "测试撤销")
    expired = grant("expired_grantee", ["play", "download"], head)
    lapse_request(expired, valid_from=timezone.now() - timedelta(days=2))
    # marked after the grants were approved: a grant that did not include confidential records
    # stops reaching it at once (ACC-3)
    mark_confidential(secret, actor=head, category="personal_privacy", reason="矩阵测试")
    return people, {"plain": plain, "secret": secret}


def _poster(recording):
    from storage.backends import get_vault
    from storage.backends.base import Area
    from storage.services import register_stored_object

    result = get_vault().write([b"\xff\xd8poster-" + str(recording.pk).encode()], area=Area.DERIVATIVE)
    obj = register_stored_object(result, area=Area.DERIVATIVE, actor=None)
    Derivative.objects.create(recording=recording, kind=DerivativeKind.POSTER, stored_object=obj,
                              mime_type="image/jpeg", created_at=timezone.now())


RANGES = [None, "bytes=0-", "bytes=0-99", "bytes=-10", "bytes=0-9,20-29"]


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.mark.parametrize("profile", AccessProfile.values)
def test_authorization_matrix(profile, monkeypatch):
    people, records = _world(profile)
    today = timezone.localdate()
    this_week = RecordingFilter(date_from=today - timedelta(days=7), date_to=today)
    failures = []

    def check(what, got, want, pos, key, action):
        if bool(got) != bool(want):
            failures.append(f"{profile}/{pos}/{key}/{action}/{what}: got {got!r}, expected {want!r}")

    for pos, person in people.items():
        web = _client(person)
        api = bearer(person) if not person.has_role("system_admin", "security_admin", "audit_admin") else None
        listed = set(list_recordings(person).values_list("pk", flat=True))
        searched = set(list_recordings(person, RecordingFilter(q="DSJ-")).values_list("pk", flat=True))
        by_case = set(list_recordings(person, RecordingFilter(case_number="矩阵案")).values_list("pk", flat=True))
        # a dated page: grants of the period written out as ids, or (more than INLINE_GRANTS) read
        # by the grant rules' subqueries; the named officer's links narrowed to the period
        dated = set(list_recordings(person, this_week).values_list("pk", flat=True))
        with monkeypatch.context() as patch:
            patch.setattr("access.rules.INLINE_GRANTS", 0)
            dated_subqueries = set(list_recordings(person, this_week).values_list("pk", flat=True))
        items = set(list_ingest_items(person).values_list("recording_id", flat=True))
        register = set(list_scope_access_entries(person).values_list("recording_id", flat=True))
        for key, rec in records.items():
            conf = key == "secret"
            want = {a: expected(pos, a, confidential=conf, profile=profile) for a in EVERYTHING}
            for action in EVERYTHING:
                check("decide", decide(person, rec, action).allowed, want[action], pos, key, action)
                check("restrict", Recording.objects.restrict(person, action).filter(pk=rec.pk).exists(),
                      want[action], pos, key, action)
            view = want[AccessAction.VIEW]
            check("list", rec.pk in listed, view, pos, key, "view")
            check("search", rec.pk in searched, view, pos, key, "view")
            check("case search", rec.pk in by_case, view, pos, key, "view")
            check("dated list", rec.pk in dated, view, pos, key, "view")
            check("dated list, grant subqueries", rec.pk in dated_subqueries, view, pos, key, "view")
            # the recorder sent the ingest items, so sees them whatever the record's rules
            check("ingest items", rec.pk in items, view or pos == "recorder", pos, key, "view")
            # the legal office reads its department's register, without the records themselves
            check("register", rec.pk in register, view or pos == "legal_office", pos, key, "view")
            detail = web.get(reverse("web:recording_detail", args=[rec.pk]))
            if pos == "superior_head" and detail.status_code == 200 and b"purpose_code" in detail.content:
                web.post(reverse("web:recording_purpose", args=[rec.pk]),
                         {"purpose_code": "supervision", "purpose_text": "执法监督"})
                detail = web.get(reverse("web:recording_detail", args=[rec.pk]))
            check("page", detail.status_code == 200, view, pos, key, "view")
            if detail.status_code == 200:
                check("page title", rec.original_filename.encode() in detail.content, view, pos, key, "view")
            else:
                check("page status", detail.status_code in (403, 404), True, pos, key, "view")
                assert rec.original_filename.encode() not in detail.content
            history = web.get(reverse("web:recording_history", args=[rec.pk]))
            check("history", history.status_code == 200, view, pos, key, "view")
            content = reverse("web:recording_content", args=[rec.pk])
            for rng in RANGES:
                headers = {"HTTP_RANGE": rng} if rng else {}
                got = web.get(content, **headers)
                check(f"content {rng}", got.status_code in (200, 206), want[AccessAction.PLAY], pos, key, "play")
            got = web.get(content, {"download": "1"})
            check("download", got.status_code == 200, want[AccessAction.DOWNLOAD], pos, key, "download")
            got = web.get(reverse("web:recording_derivative", args=[rec.pk, "poster"]))
            check("derivative", got.status_code == 200, view, pos, key, "view")
            if api is None:
                continue
            got = web.get(f"/api/v1/recordings/{rec.pk}", **api)
            check("api detail", got.status_code == 200, view, pos, key, "view")
            got = web.get("/api/v1/recordings", {"q": "DSJ-"}, **api)
            ids = {r["id"] for r in got.json()["items"]} if got.status_code == 200 else set()
            check("api list", rec.pk in ids, view, pos, key, "view")
            got = web.get(f"/api/v1/recordings/{rec.pk}/content", HTTP_RANGE="bytes=0-9", **api)
            check("api content", got.status_code == 206, want[AccessAction.PLAY], pos, key, "play")
    assert not failures, f"{len(failures)} disagreements:\n" + "\n".join(failures[:60])
