"""A recording's flags: each with a stable code, so one can be cleared without the others."""

from __future__ import annotations

from dataclasses import dataclass

CODE_INGEST = "ingest"  # a problem found while storing (e.g. the read-back after write)
CODE_MEDIA = "media"  # the bytes could not be read as media (ING-6)

MAX_REASON = 500


@dataclass(frozen=True)
class Flag:
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def apply_flags(recording, flags: list[Flag]) -> None:
    """Set ``flags`` and the two columns derived from it (not saved)."""
    recording.flags = [f.as_dict() for f in flags]
    recording.flagged = bool(flags)
    recording.flag_reason = "；".join(f.message for f in flags)[:MAX_REASON]


def current_flags(recording) -> list[Flag]:
    return [Flag(str(f.get("code", "")), str(f.get("message", ""))) for f in recording.flags or []]


def without(flags: list[Flag], codes) -> list[Flag]:
    return [f for f in flags if f.code not in codes]
