"""An activity's coverage, reconstructed from all its recordings (REC-3): which stretches of
time some recording covers, where nothing did (gaps), where recordings overlap (several
officers, a relay across devices). Pure: spans in, a Timeline out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# a pause shorter than this between one recording's end and the next one's start is a relay,
# not an interruption (devices start a new file, an officer hands over)
DEFAULT_GAP_TOLERANCE = timedelta(seconds=60)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    recording_id: int | None = None
    label: str = ""

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Timeline:
    covered: tuple[Span, ...]  # merged, in order
    gaps: tuple[Span, ...]  # between covered stretches, longer than the tolerance
    overlaps: tuple[Span, ...]  # where two or more recordings run at once
    recordings: tuple[Span, ...] = field(default=())  # as given, in order of start
    first_start: datetime | None = None
    last_end: datetime | None = None

    @property
    def covered_seconds(self) -> float:
        return sum(s.seconds for s in self.covered)


def build_timeline(spans, *, gap_tolerance: timedelta = DEFAULT_GAP_TOLERANCE) -> Timeline:
    """``spans``: the recordings' (start, end) as Span; those without both times, or ending
    before they start, are left out (they cannot be placed)."""
    usable = sorted((s for s in spans if s.start is not None and s.end is not None and s.end > s.start),
                    key=lambda s: (s.start, s.end))
    if not usable:
        return Timeline((), (), (), ())
    covered: list[list[datetime]] = []
    overlaps: list[Span] = []
    for s in usable:
        if covered and s.start <= covered[-1][1]:
            if s.start < covered[-1][1]:
                overlaps.append(Span(s.start, min(s.end, covered[-1][1])))
            covered[-1][1] = max(covered[-1][1], s.end)
        else:
            covered.append([s.start, s.end])
    gaps = []
    merged: list[list[datetime]] = [covered[0]]
    for start, end in covered[1:]:
        pause = start - merged[-1][1]
        if pause > gap_tolerance:
            gaps.append(Span(merged[-1][1], start))
            merged.append([start, end])
        else:  # a relay: the stretch goes on
            merged[-1][1] = max(merged[-1][1], end)
    return Timeline(
        covered=tuple(Span(a, b) for a, b in merged),
        gaps=tuple(gaps),
        overlaps=tuple(_merge(overlaps)),
        recordings=tuple(usable),
        first_start=usable[0].start,
        last_end=max(s.end for s in usable),
    )


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: s.start):
        if out and s.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, s.end))
        else:
            out.append(s)
    return out
