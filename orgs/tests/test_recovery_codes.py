"""Recovery codes are stored hashed, not as typed (ACC-6, issue 9; orgs.recovery): ten codes of
twelve digits, single use, shown once, regenerable; the database holds no code a person could
type, and the codes of before (django-otp's plain static tokens) were hashed by a migration."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from core.testing import make_person
from orgs.models import RecoveryCode, RecoveryCodeDevice
from orgs.recovery import HASH_ITERATIONS, code_matches, issue_codes
from orgs.twofactor import recovery_codes_left

pytestmark = [pytest.mark.django_db, pytest.mark.req("ACC-6")]


def _digits(code: str) -> str:
    return code.replace("-", "")


def test_ten_codes_of_twelve_digits_shown_once_stored_as_salted_hashes():
    person = make_person("officer")
    codes = issue_codes(person)
    assert len(codes) == 10 and len({_digits(c) for c in codes}) == 10
    assert all(len(_digits(c)) == 12 and _digits(c).isdigit() for c in codes)
    digests = list(RecoveryCode.objects.filter(device__user=person).values_list("digest", flat=True))
    assert len(digests) == 10 and len(set(d.split("$")[2] for d in digests)) == 10  # a salt each
    assert all(d.startswith(f"pbkdf2_sha256${HASH_ITERATIONS}$") for d in digests)
    assert recovery_codes_left(person) == 10


def test_no_table_holds_a_code_as_typed():
    person = make_person("officer")
    codes = [_digits(c) for c in issue_codes(person)]
    assert not StaticToken.objects.exists()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 — table names from the schema
            dump = repr(cursor.fetchall())
            for code in codes:
                assert code not in dump and f"{code[:4]}-{code[4:8]}-{code[8:]}" not in dump, table


def test_a_code_works_once_and_a_wrong_one_is_throttled(settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # no waiting between tries here
    person = make_person("officer")
    codes = [_digits(c) for c in issue_codes(person)]
    device = RecoveryCodeDevice.objects.get(user=person)
    assert device.verify_token(codes[4])
    assert recovery_codes_left(person) == 9
    assert not device.verify_token(codes[4])  # used up
    assert not device.verify_token("12345")
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1
    assert device.verify_token(codes[0])
    assert recovery_codes_left(person) == 8


def test_a_wrong_code_slows_the_next_try():
    person = make_person("officer")
    codes = [_digits(c) for c in issue_codes(person)]
    device = RecoveryCodeDevice.objects.get(user=person)
    assert not device.verify_token("123")
    assert not device.verify_token(codes[0])  # refused unchecked while throttled
    assert recovery_codes_left(person) == 10


def test_regenerating_replaces_every_code():
    person = make_person("officer")
    old = [_digits(c) for c in issue_codes(person)]
    new = [_digits(c) for c in issue_codes(person)]
    device = RecoveryCodeDevice.objects.get(user=person)
    assert RecoveryCode.objects.filter(device=device).count() == 10
    assert not device.verify_token(old[0])
    device.throttle_reset()
    assert device.verify_token(new[0])


def test_a_damaged_digest_never_matches():
    assert not code_matches("123456789012", "")
    assert not code_matches("123456789012", "md5$$abc")
    assert not code_matches("123456789012", "pbkdf2_sha256$notanumber$salt$hash")
    assert not code_matches("", "pbkdf2_sha256$1$salt$hash")


def test_the_migration_hashes_the_plain_tokens_of_before():
    person = make_person("officer")
    old = StaticDevice.objects.create(user=person, name="恢复码", confirmed=True)
    StaticToken.objects.bulk_create([StaticToken(device=old, token=f"{n:012d}") for n in (111, 222, 333)])
    empty = StaticDevice.objects.create(user=make_person("officer"), name="恢复码", confirmed=True)
    migration = importlib.import_module("orgs.migrations.0004_recovery_codes_hashed")
    migration.hash_static_tokens(apps, None)
    assert not StaticDevice.objects.filter(pk__in=[old.pk, empty.pk]).exists() and not StaticToken.objects.exists()
    device = RecoveryCodeDevice.objects.get(user=person)
    assert device.confirmed and recovery_codes_left(person) == 3
    assert all(not d.endswith("222") for d in RecoveryCode.objects.values_list("digest", flat=True))
    assert device.verify_token("000000000222")
    assert recovery_codes_left(person) == 2
    assert not RecoveryCodeDevice.objects.filter(user=empty.user).exists()
