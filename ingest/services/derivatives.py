"""Derivatives (ING-7): stored apart from originals, always pointing back to them."""


import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.digests import CHUNK_SIZE
from custody.choices import EventCode
from custody.services import record_event
from ingest.services.items import _iter_stream
from storage.backends import get_vault
from storage.backends.base import Area

# --- derivatives (ING-7) ---------------------------------------------------------------


def add_derivative(
    recording,
    *,
    actor,
    kind: str,
    stored_object,
    mime_type: str,
    width=None,
    height=None,
    note: str = "",
):
    """A derivative points to its original and lives in the derivative area; one per kind."""
    from recordings.models import Derivative

    with transaction.atomic():
        derivative, created = Derivative.objects.get_or_create(
            recording=recording,
            kind=kind,
            defaults={
                "stored_object": stored_object,
                "mime_type": mime_type,
                "width": width,
                "height": height,
                "created_at": timezone.now(),
                "note": note[:200],
            },
        )
        if created:
            record_event(
                EventCode.DERIVATIVE_STORED,
                actor=actor,
                subject=recording,
                details={
                    "kind": kind,
                    "stored_object": stored_object.pk,
                    "key": stored_object.key,
                    "sha256": stored_object.sha256,
                    "sm3": stored_object.sm3,
                    "size": stored_object.size,
                    "mime_type": mime_type,
                },
            )
    return derivative


@contextlib.contextmanager
def local_copy(key: str) -> Iterator[str]:
    """A local path for a vault object (the object itself on the filesystem backend)."""
    vault = get_vault()
    path = vault.local_path(key)
    if path is not None:
        yield path
        return
    with tempfile.NamedTemporaryFile(prefix="avr-media-") as tmp, vault.open(key) as source:
        while chunk := source.read(CHUNK_SIZE):
            tmp.write(chunk)
        tmp.flush()
        yield tmp.name


def store_derivative_bytes(
    recording, *, actor, kind: str, source, mime_type: str, width=None, height=None, note: str = ""
):
    """Write bytes (or a file) into the derivative area, register them, link the derivative."""
    from storage.services import register_stored_object

    result = get_vault().write(_iter_stream(source), area=Area.DERIVATIVE)
    obj = register_stored_object(result, area=Area.DERIVATIVE, actor=actor)
    return add_derivative(
        recording,
        actor=actor,
        kind=kind,
        stored_object=obj,
        mime_type=mime_type,
        width=width,
        height=height,
        note=note,
    )


def create_proxy(recording_id: int, *, actor=None):
    """Transcode an original browsers cannot play into an H.264/AAC MP4 proxy (ING-7)."""
    from recordings.choices import DerivativeKind
    from recordings.media import transcode_proxy
    from recordings.models import Derivative, Recording

    recording = Recording.objects.select_related("original").get(pk=recording_id)
    existing = Derivative.objects.filter(recording=recording, kind=DerivativeKind.PROXY).first()
    if existing is not None:
        return existing
    with (
        tempfile.TemporaryDirectory(prefix="avr-proxy-") as tmp,
        local_copy(recording.original.key) as src,
    ):
        target = Path(tmp) / "proxy.mp4"
        width, height = transcode_proxy(src, target)
        with open(target, "rb") as handle:
            return store_derivative_bytes(
                recording,
                actor=actor,
                kind=DerivativeKind.PROXY,
                source=handle,
                mime_type="video/mp4",
                width=width,
                height=height,
                note=_("由原始文件转码生成的可播放副本（H.264/AAC），不是原始记录"),
            )

