"""Derivatives (ING-7): stored apart from originals, always pointing back to them."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from custody.choices import EventCode
from custody.services import record_event
from ingest.streams import iter_stream, media_source
from recordings.choices import DerivativeKind
from recordings.media import transcode_proxy
from recordings.models import Derivative, Recording
from storage.backends import get_vault
from storage.backends.base import Area
from storage.services import register_stored_object


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


def store_derivative_bytes(
    recording, *, actor, kind: str, source, mime_type: str, width=None, height=None, note: str = ""
):
    """Write bytes (or a file) into the derivative area, register them, link the derivative."""
    result = get_vault().write(iter_stream(source), area=Area.DERIVATIVE)
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
    recording = Recording.objects.select_related("original").get(pk=recording_id)
    existing = Derivative.objects.filter(recording=recording, kind=DerivativeKind.PROXY).first()
    if existing is not None:
        return existing
    with (
        tempfile.TemporaryDirectory(prefix="avr-proxy-") as tmp,
        media_source(recording.original) as src,
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
