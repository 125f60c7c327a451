"""API tokens open only the endpoints of their scopes (issue 9, ACC-6)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.choices import TokenScope
from api.tests.base import assert_error
from core.errors import DomainError
from core.testing import make_person, make_recording, make_unit
from orgs.services import issue_api_token

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]


def _headers(person, scopes):
    _row, token = issue_api_token(person, "范围测试", actor=None, scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def officer():
    return make_person("officer", unit=make_unit())


def test_a_read_token_lists_but_does_not_download(client, officer):
    rec = make_recording(officer)
    read = _headers(officer, [TokenScope.READ])
    assert client.get(f"/api/v1/recordings/{rec.pk}", **read).status_code == 200
    body = assert_error(client.get(f"/api/v1/recordings/{rec.pk}/content", **read), 403, "token_scope_missing")
    assert "播放、下载原始文件" in body["message"]
    content = _headers(officer, [TokenScope.CONTENT])
    assert client.get(f"/api/v1/recordings/{rec.pk}/content", HTTP_RANGE="bytes=0-9", **content).status_code == 206
    assert_error(client.get("/api/v1/recordings", **content), 403, "token_scope_missing")


def test_upload_needs_the_upload_scope(client, officer):
    read = _headers(officer, [TokenScope.READ])
    response = client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10",
                           HTTP_UPLOAD_METADATA="filename ZC5tcDQ=", **read)
    assert response.status_code == 403, response.content
    upload = _headers(officer, [TokenScope.UPLOAD])
    response = client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10",
                           HTTP_UPLOAD_METADATA="filename ZC5tcDQ=", **upload)
    assert response.status_code == 201, response.content


def test_the_audit_scope_guards_the_custody_endpoints(client):
    auditor = make_person("audit_admin")
    assert_error(client.get("/api/v1/custody/verify", **_headers(auditor, [TokenScope.READ])), 403,
                 "token_scope_missing")
    assert client.get("/api/v1/custody/verify", **_headers(auditor, [TokenScope.AUDIT])).status_code == 200


def test_scopes_are_validated_and_named_in_the_event(officer):
    with pytest.raises(DomainError):
        issue_api_token(officer, "空", actor=None, scopes=[])
    row, _token = issue_api_token(officer, "只读", actor=None, scopes=["read", "bogus"])
    assert row.scopes == ["read"]
    from custody.models import Event

    assert Event.objects.filter(action="orgs.token_issued").order_by("-pk").first().details["scopes"] == ["read"]


def test_issue_token_command_takes_scopes(officer, capsys):
    call_command("issue_token", officer.username, "坞站", "--scope", "upload")
    out = capsys.readouterr().out
    assert "权限范围：上传记录" in out
    with pytest.raises((CommandError, SystemExit)):
        call_command("issue_token", officer.username, "坞站", "--scope", "everything")
