"""API authentication: bearer tokens (hash stored, revocable) or the session with CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from api.auth import CsrfFailed, SessionAuth, authenticate_token, hash_token
from api.models import ApiToken
from api.tests.base import ApiTestBase, assert_error, bearer
from orgs.services import issue_api_token, revoke_api_token

URL = "/api/v1/recordings"


class TestTokens(ApiTestBase):
    @pytest.mark.req("INT-1")
    def test_valid_token_authenticates(self, client, world):
        response = client.get(URL, **bearer(world.officer))
        assert response.status_code == 200
        assert [i["id"] for i in response.json()["items"]] == [world.recording.pk]

    @pytest.mark.req("INT-1")
    def test_only_hash_and_prefix_stored(self, world):
        row, token = issue_api_token(world.officer, "办案系统对接", actor=world.admin)
        assert token not in (row.key_hash, row.prefix)
        assert row.key_hash == hash_token(token)
        assert token.startswith(f"avr_{row.prefix}_")

    @pytest.mark.req("INT-1")
    def test_revoked_token_denied_401_in_chinese(self, client, world):
        row, token = issue_api_token(world.officer, "办案系统对接", actor=world.admin)
        revoke_api_token(row, actor=world.admin)
        body = assert_error(
            client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}"), 401, "unauthenticated"
        )
        assert "令牌" in body["message"]

    @pytest.mark.req("INT-1")
    @pytest.mark.parametrize(
        "header",
        [
            "Bearer avr_0123456789_wrongsecret",
            "Bearer not-a-token",
            "Bearer ",
            "Token abc",
            "Basic dXNlcjpwYXNz",
        ],
    )
    def test_wrong_or_malformed_token_denied_401(self, client, world, header):
        assert_error(client.get(URL, HTTP_AUTHORIZATION=header), 401, "unauthenticated")

    @pytest.mark.req("INT-1")
    def test_right_prefix_wrong_secret_denied_401(self, client, world):
        row, token = issue_api_token(world.officer, "对接", actor=world.admin)
        forged = f"avr_{row.prefix}_" + "x" * 43
        assert_error(client.get(URL, HTTP_AUTHORIZATION=f"Bearer {forged}"), 401, "unauthenticated")

    @pytest.mark.req("INT-1")
    def test_inactive_person_token_denied_401(self, client, world):
        headers = bearer(world.officer)
        world.officer.is_active = False
        world.officer.save(update_fields=["is_active"])
        assert_error(client.get(URL, **headers), 401, "unauthenticated")

    @pytest.mark.req("ACC-6")
    def test_a_token_expires_after_its_lifetime(self, client, world, settings):
        settings.API_TOKEN_DAYS = 90
        row, token = issue_api_token(world.officer, "坞站", actor=world.admin)
        assert row.expires_at - row.created_at == timedelta(days=90)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        assert client.get(URL, **headers).status_code == 200
        ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        assert_error(client.get(URL, **headers), 401, "unauthenticated")

    @pytest.mark.req("ACC-6")
    def test_a_token_is_refused_while_its_owner_must_change_password(self, client, world):
        headers = bearer(world.officer)
        assert client.get(URL, **headers).status_code == 200
        world.officer.must_change_password = True
        world.officer.save(update_fields=["must_change_password"])
        assert_error(client.get(URL, **headers), 401, "unauthenticated")
        world.officer.must_change_password = False
        world.officer.save(update_fields=["must_change_password"])
        assert client.get(URL, **headers).status_code == 200

    @pytest.mark.req("INT-1")
    def test_401_carries_www_authenticate(self, client, world):
        response = client.get(URL)
        assert response["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.req("INT-1")
    def test_last_used_updated_at_most_once_a_minute(self, client, world):
        row, token = issue_api_token(world.officer, "对接", actor=world.admin)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        client.get(URL, **headers)
        first = ApiToken.objects.get(pk=row.pk).last_used_at
        assert first is not None
        client.get(URL, **headers)
        assert ApiToken.objects.get(pk=row.pk).last_used_at == first
        ApiToken.objects.filter(pk=row.pk).update(
            last_used_at=timezone.now() - timedelta(minutes=5)
        )
        client.get(URL, **headers)
        assert ApiToken.objects.get(pk=row.pk).last_used_at > first

    @pytest.mark.req("INT-1")
    def test_authenticate_token_for_plain_views(self, world):
        _row, token = issue_api_token(world.officer, "采集站", actor=world.admin)
        request = RequestFactory().patch("/api/v1/uploads/x", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert authenticate_token(request) == world.officer
        assert request.user == world.officer
        bad = RequestFactory().patch(
            "/api/v1/uploads/x", HTTP_AUTHORIZATION="Bearer avr_0000000000_zz"
        )
        assert authenticate_token(bad) is None
        assert authenticate_token(RequestFactory().get("/")) is None


class TestSession(ApiTestBase):
    @pytest.mark.req("INT-1")
    def test_session_login_authenticates(self, client, world):
        client.force_login(world.officer)
        assert client.get(URL).status_code == 200

    @pytest.mark.req("INT-1")
    def test_bad_token_not_rescued_by_session(self, client, world):
        client.force_login(world.officer)
        assert_error(
            client.get(URL, HTTP_AUTHORIZATION="Bearer avr_0000000000_zz"), 401, "unauthenticated"
        )

    @pytest.mark.req("INT-1")
    def test_unsafe_session_request_without_csrf_refused(self, world):
        request = RequestFactory().post("/api/v1/anything")
        request.user = world.officer
        request.COOKIES = {}
        with pytest.raises(CsrfFailed):
            SessionAuth()(request)

    @pytest.mark.req("INT-1")
    def test_unsafe_session_request_with_csrf_allowed(self, world):
        from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

        secret = _get_new_csrf_string()
        request = RequestFactory().post(
            "/api/v1/anything", HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret)
        )
        request.COOKIES = {"csrftoken": secret}
        request.user = world.officer
        assert SessionAuth()(request) == world.officer

    @pytest.mark.req("INT-1")
    def test_safe_session_request_needs_no_csrf(self, world):
        request = RequestFactory().get("/api/v1/anything")
        request.user = world.officer
        assert SessionAuth()(request) == world.officer
