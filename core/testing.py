"""Shared test helpers: people, media made by the tests themselves."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
from fractions import Fraction

from django.utils import timezone

_counter = itertools.count(1)


def make_department(name="某市市场监督管理局", level="city", parent=None):
    from orgs.models import Department

    n = next(_counter)
    return Department.objects.create(name=f"{name}{n}", code=f"D{n:05d}", level=level, parent=parent)


def make_unit(department=None, name="执法稽查科"):
    from orgs.models import Unit

    department = department or make_department()
    n = next(_counter)
    return Unit.objects.create(department=department, name=f"{name}{n}", code=f"U{n:05d}")


def make_person(*roles, unit=None, department=None, username=None, full_name=None, password="Test-pass-2026"):
    from orgs.models import Person, RoleAssignment

    n = next(_counter)
    if unit is not None and department is None:
        department = unit.department
    person = Person.objects.create_user(
        username=username or f"user{n}",
        password=password,
        full_name=full_name or f"测试人员{n}",
        badge_number=f"{n:06d}",
        unit=unit,
        department=department,
    )
    for role in roles or ("officer",):
        RoleAssignment.objects.create(person=person, role=role, assigned_at=timezone.now())
    return person


def make_video(seconds: float = 2.0, *, codec: str = "h264", width: int = 320, height: int = 240,
               fps: int = 15, container: str = "mp4", audio: bool = True, creation_time: str | None = None,
               variant: int = 0) -> bytes:
    """Encode a small test clip with PyAV (moving colour bars + a tone).

    Same arguments give the same bytes; a different ``variant`` gives a different clip.
    """
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        if creation_time:
            out.metadata["creation_time"] = creation_time
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec in ("h264", "libx264"):
            stream.options = {"preset": "ultrafast", "g": str(fps)}
        astream = out.add_stream("aac", rate=16000) if audio else None
        frames = int(seconds * fps)
        for i in range(frames):
            img = np.zeros((height, width, 3), dtype=np.uint8)
            img[:, :, 0] = (np.arange(width) * 255 // width + i * 8) % 256
            img[:, :, 1] = (np.arange(height)[:, None] * 255 // height)
            img[:, :, 2] = (128 + variant * 37) % 256
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if astream is not None:
            _write_tone(out, astream, seconds)
    return buffer.getvalue()


def _write_tone(out, astream, seconds: float, rate: int = 16000) -> None:
    import av
    import numpy as np

    samples = int(seconds * rate)
    t = np.arange(samples) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    frame_size = astream.codec_context.frame_size or 1024
    for start in range(0, samples, frame_size):
        chunk = tone[start:start + frame_size]
        if len(chunk) < frame_size:
            chunk = np.pad(chunk, (0, frame_size - len(chunk)))
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in astream.encode(frame):
            out.mux(packet)
    for packet in astream.encode():
        out.mux(packet)


def make_audio(seconds: float = 2.0, container: str = "mp4") -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        astream = out.add_stream("aac", rate=16000)
        _write_tone(out, astream, seconds)
    return buffer.getvalue()


def make_jpeg(width: int = 64, height: int = 48, exif_datetime: str | None = "2026:11:20 09:30:00") -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 80, 40))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_datetime:
        exif[0x0132] = exif_datetime  # DateTime
        exif.get_ifd(0x8769)[0x9003] = exif_datetime  # DateTimeOriginal
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def make_recording(officer=None, *, unit=None, data: bytes | None = None, filename: str | None = None,
                   actor=None, media_kind: str = "video", mime_type: str = "video/mp4",
                   duration_s: float | None = 2.0, received_at=None, **metadata):
    """Store bytes in the vault and catalogue them through the real services.

    ``officer`` becomes the primary officer (and the uploader unless ``actor`` is given);
    ``unit`` defaults to the officer's. Extra keyword arguments fill RecordingMetadata
    (case_number=, party=, start_time=, ...). Without ``data`` a unique small byte
    string is used, so every call makes a distinct original.
    """
    from recordings.data import MediaInfo, RecordingMetadata
    from recordings.services import register_recording
    from storage.backends import get_vault
    from storage.backends.base import Area
    from storage.services import register_stored_object

    n = next(_counter)
    officer = officer if officer is not None else make_person("officer", unit=unit or make_unit())
    actor = actor or officer
    unit = unit or officer.unit
    if data is None:
        data = (f"recording-{n}-".encode() * 64)[:4096]
    result = get_vault().write([data], area=Area.ORIGINAL)
    original = register_stored_object(result, area=Area.ORIGINAL, actor=actor)
    metadata.setdefault("unit_id", unit.pk if unit else None)
    metadata.setdefault("primary_officer_id", officer.pk)
    media = MediaInfo(kind=media_kind, mime_type=mime_type, container="mp4" if media_kind == "video" else "",
                      video_codec="h264" if media_kind == "video" else "", duration_s=duration_s,
                      width=320 if media_kind == "video" else None, height=240 if media_kind == "video" else None,
                      playable=media_kind in ("video", "audio"))
    name = filename or f"DSJ-T{n:07d}_{officer.badge_number}_{n:04d}.MP4"
    return register_recording(
        actor=actor,
        original=original,
        filename=name,
        raw_filename=name,
        media=media,
        metadata=RecordingMetadata(**metadata),
        received_at=received_at or timezone.now(),
    )


# --- the vault, whichever backend the pass runs on ------------------------------------------------


def staged_names() -> list[str]:
    """Uploads still in staging in the configured vault (a folder's files, or S3 segment prefixes)."""
    from storage.backends import get_vault
    from storage.backends.filesystem import FilesystemBackend

    vault = get_vault()
    if isinstance(vault, FilesystemBackend):
        return sorted(p.name for p in (vault.root / "staging").iterdir())
    listing = vault.client.list_objects_v2(Bucket=vault.derivative_bucket, Prefix=f"{vault.prefix}staging/")
    return sorted({item["Key"][len(vault.prefix) + len("staging/"):].split("/", 1)[0]
                   for item in listing.get("Contents", [])})


def stored_digests(stored_object):
    """SHA-256, SM3 and size of what the vault holds for ``stored_object``, re-read now."""
    from core.digests import StreamingDigester
    from storage.backends import vault_for

    with StreamingDigester() as digester:
        for chunk in vault_for(stored_object).open_range(stored_object.key):
            digester.update(chunk)
        return digester.finish()


def tamper_stored(stored_object, position: int = 0) -> None:
    """Flip one stored byte behind the vault's back (decay, or an intruder with disk or cluster
    access): a file edited in place, or a RADOS object rewritten under the S3 gateway."""
    from storage.backends import vault_for

    vault = vault_for(stored_object)
    path = vault.local_path(stored_object.key)
    if path is None:
        from storage.tests.s3_testing import flip_byte_in_rados

        flip_byte_in_rados(vault, stored_object.key, position)
        return
    mode = os.stat(path).st_mode
    os.chmod(path, 0o644)
    try:
        with open(path, "r+b") as handle:
            handle.seek(position)
            byte = handle.read(1)
            handle.seek(position)
            handle.write(bytes([byte[0] ^ 0x01]))
    finally:
        os.chmod(path, mode & 0o7777)


def refuse_vault_reads(monkeypatch) -> None:
    """From now on reading any object fails as an unreadable disk or an unreachable store does."""
    from storage.backends import get_vault
    from storage.backends.filesystem import FilesystemBackend

    vault = get_vault()
    if isinstance(vault, FilesystemBackend):
        def refuse(path, *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr("storage.backends.filesystem.digest_file", refuse)
        return
    from botocore.exceptions import EndpointConnectionError

    def unreachable(**kwargs):
        raise EndpointConnectionError(endpoint_url=vault.endpoint)

    monkeypatch.setattr(vault.client, "get_object", unreachable)


def other_session():
    """A second PostgreSQL session on the test database, as another node or worker has."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    keep = ("host", "port", "user", "password", "dbname")
    return psycopg.connect(**{k: v for k, v in params.items() if k in keep}, autocommit=True)


@contextlib.contextmanager
def lock_held_elsewhere(name: str):
    """Hold the ``core.locks`` lock ``name`` as another process would for the block.

    PostgreSQL: from a second session (this session would re-enter its own advisory lock).
    SQLite: an flock on a file description of its own, which this process cannot take twice.
    """
    from django.db import connection

    from core import locks

    if connection.vendor != "postgresql":
        with locks.exclusive(name):
            yield
        return
    session = other_session()
    try:
        session.execute("SELECT pg_advisory_lock(%s, %s)", [locks._PG_CLASS, locks._pg_key(name)])
        yield
    finally:
        session.close()


# --- two-factor sign-in (orgs.twofactor) ------------------------------------------------------


def totp_code_for_key(key: bytes, *, after_step: int = -1, step: int = 30, digits: int = 6) -> tuple[str, int]:
    """The code an authenticator app would show for ``key`` now — or, when the current step was
    used already (each code is accepted once), the next step's, which the platform accepts as
    one step of clock difference. Waits for the clock when even that was used. ``(code, step)``."""
    import time

    from django_otp.oath import hotp

    while True:
        now_t = int(time.time()) // step
        t = max(now_t, after_step + 1)
        if t <= now_t + 1:
            return f"{hotp(key, t, digits=digits):0{digits}d}", t
        time.sleep(step - time.time() % step + 0.05)


def totp_code(device) -> str:
    """The next code ``device`` (a django-otp TOTPDevice) accepts, as its owner's app shows it."""
    device.refresh_from_db()
    code, _t = totp_code_for_key(device.bin_key, after_step=device.last_t, step=device.step, digits=device.digits)
    return code


def enrol_totp(person):
    """A confirmed 动态口令 for ``person`` (as if they had enrolled), no custody event: a fixture."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from orgs.twofactor import DEVICE_NAME

    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=person, name=DEVICE_NAME, confirmed=True)


def sign_in(client, username: str, password: str, device=None):
    """Sign ``client`` in through the sign-in form, giving ``device``'s code at the second step
    when one is asked; the last response."""
    from django.urls import reverse

    response = client.post(reverse("web:login"), {"username": username, "password": password})
    if response.status_code == 302 and response["Location"] == reverse("web:login_verify"):
        assert device is not None, f"{username} has a second factor: pass its device"
        response = client.post(reverse("web:login_verify"), {"code": totp_code(device)})
    return response


def force_login_verified(client, user, backend=None) -> None:
    """``Client.force_login`` standing for a complete sign-in: with the second factor too, where
    the person has one or must have one (then one is enrolled for them). The root conftest puts
    this in place of ``force_login`` for every test; tests of the sign-in itself use the form."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from orgs.twofactor import PASSWORD_ONLY_KEY, requires_two_factor, totp_device

    _ORIGINAL_FORCE_LOGIN(client, user, backend)
    device = totp_device(user)
    if device is None and requires_two_factor(user):
        device = enrol_totp(user)
    session = client.session
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    else:
        session[PASSWORD_ONLY_KEY] = True
    session.save()


def _original_force_login():
    from django.test.client import ClientMixin

    return ClientMixin.force_login


_ORIGINAL_FORCE_LOGIN = _original_force_login()


def lapse_request(request, *, valid_from=None) -> None:
    """Move an access request's window into the past (it ended a second ago; ``valid_from``:
    began then), as time passing would — for an approved one, its grants' copy of the window
    too (access.models.AccessRequestItem)."""
    from datetime import timedelta

    from access.models import AccessRequest, AccessRequestItem

    window = {"valid_until": timezone.now() - timedelta(seconds=1)}
    if valid_from is not None:
        window["valid_from"] = valid_from
    AccessRequest.objects.filter(pk=request.pk).update(**window)
    AccessRequestItem.objects.filter(request_id=request.pk, granted_until__isnull=False).update(
        **{f"granted_{key.removeprefix('valid_')}": value for key, value in window.items()}
    )
