"""Typed values that cross from ingest into the catalogue (habit 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class MediaInfo:
    """What probing the bytes told us (PyAV / EXIF). Empty when unreadable."""

    kind: str = "unknown"  # recordings.choices.MediaKind
    mime_type: str = ""
    container: str = ""
    video_codec: str = ""
    audio_codec: str = ""
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    created_at: datetime | None = None  # from the media itself
    playable: bool = False  # a browser can play it as is
    raw: dict = field(default_factory=dict)
    problem: str = ""  # Chinese: why it could not be read (flag reason)


@dataclass
class RecordingMetadata:
    """Who, when, where and which case (ING-4). Everything optional except the unit."""

    unit_id: int | None = None
    device_serial: str = ""
    badge_number: str = ""
    primary_officer_id: int | None = None
    officer_ids: list[int] = field(default_factory=list)
    start_time: datetime | None = None
    end_time: datetime | None = None
    time_source: str = "upload"  # recordings.choices.TimeSource
    place: str = ""
    case_number: str = ""
    party: str = ""
    handler: str = ""
    matter_type: str = ""
    notes: str = ""
    is_important: bool = False
    late_reason: str = ""
    late_reason_text: str = ""
