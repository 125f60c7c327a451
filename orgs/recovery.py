"""Recovery codes (ACC-6, orgs.twofactor): ten single-use codes of twelve digits, shown once.

Only a hash of each code is stored (``orgs.models.RecoveryCode``): PBKDF2-SHA256 with its own
salt and a fixed number of iterations, in Django's ``pbkdf2_sha256$<n>$<salt>$<hash>`` form, so
the algorithm and its cost travel with every digest. The iterations are fewer than for
passwords because a sign-in checks up to ten digests; a code has 40 bits of its own and is
useless without the account's password anyway. Checking is Django's constant-time compare.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import PBKDF2PasswordHasher

RECOVERY_CODES = 10
RECOVERY_DIGITS = 12
HASH_ITERATIONS = 100_000
DEVICE_NAME = "恢复码"

_HASHER = PBKDF2PasswordHasher()


def hash_code(code: str) -> str:
    return _HASHER.encode(code, _HASHER.salt(), iterations=HASH_ITERATIONS)


def code_matches(code: str, digest: str) -> bool:
    if not code or not isinstance(digest, str) or not digest.startswith(f"{_HASHER.algorithm}$"):
        return False
    try:
        return _HASHER.verify(code, digest)
    except ValueError:  # not a digest of ours (damaged row): never a match
        return False


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def issue_codes(person) -> list[str]:
    """New codes for ``person`` (the old ones stop working), formatted for showing once; the
    caller's service records the event."""
    from orgs.models import RecoveryCode, RecoveryCodeDevice

    device, _created = RecoveryCodeDevice.objects.get_or_create(
        user=person, defaults={"name": DEVICE_NAME, "confirmed": True}
    )
    device.codes.all().delete()
    codes = [f"{secrets.randbelow(10 ** RECOVERY_DIGITS):0{RECOVERY_DIGITS}d}" for _i in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create([RecoveryCode(device=device, digest=hash_code(c)) for c in codes])
    if device.throttling_failure_count or not device.confirmed:
        device.confirmed = True
        device.throttle_reset(commit=False)
        device.save()
    return [format_code(c) for c in codes]


def recovery_device(person, *, for_update: bool = False):
    from orgs.models import RecoveryCodeDevice

    devices = RecoveryCodeDevice.objects.filter(user=person, confirmed=True).order_by("pk")
    return (devices.select_for_update() if for_update else devices).first()


def codes_left(person) -> int:
    from orgs.models import RecoveryCode

    if person is None or not getattr(person, "pk", None):
        return 0
    return RecoveryCode.objects.filter(device__user=person, device__confirmed=True).count()


def remove_codes(person) -> int:
    """Delete the person's recovery codes (and the django-otp static devices of before they
    were hashed, should any be left)."""
    from django_otp.plugins.otp_static.models import StaticDevice

    from orgs.models import RecoveryCodeDevice

    deleted, _rows = RecoveryCodeDevice.objects.filter(user=person).delete()
    legacy, _rows = StaticDevice.objects.filter(user=person).delete()
    return deleted + legacy  # rows, codes included
