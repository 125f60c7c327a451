"""The activity's timeline as a chart drawn on the server (REC-3): an SVG the template writes out
from the geometry computed here — no canvas, no inline style (the CSP forbids it), readable
without JavaScript.

A horizontal time axis from the documents' stated start (or the first recording) less a margin
to the stated end (or the last recording) plus a margin; one lane for the merged coverage with
its gaps in red and their length, one lane per recording (officer · file name) with its markers,
one lane for the interruptions registered; the stated start and end as dashed vertical lines.
Pure: values in, a dict of numbers and Chinese labels out.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from activities.timeline import Span, build_timeline

WIDTH = 1000
PLOT_X0 = 232  # left of it: the lane labels
PLOT_X1 = 980
TOP = 44  # the stated start / end labels above the lanes
COVERAGE_ROW = 46
ROW = 30
BAR = 16
MAX_LANES = 40
MIN_BAR = 3  # a two-second clip on an hour's axis is still seen
TICK_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_TICKS = 10

COLORS = {
    "covered": "#2fb344",
    "recording": "#206bc4",
    "gap": "#d63939",
    "explained": "#f59f00",
    "uncovered": "#f76707",
    "interruption": "#f59f00",
    "stated": "#1d273b",
    "grid": "#e6e8ec",
    "axis": "#667382",
    "label": "#1d273b",
    "muted": "#667382",
    "point": "#2fb344",
    "resume": "#f59f00",
    "note": "#667382",
}


def duration_text(seconds: float) -> str:
    """A length as people say it: 45 秒, 约 7 分钟, 1 小时 5 分钟 (rounded like the findings)."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return _("%(n)s 秒") % {"n": int(round(seconds))}
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return _("约 %(n)s 分钟") % {"n": minutes}
    hours, rest = divmod(minutes, 60)
    if not rest:
        return _("%(h)s 小时") % {"h": hours}
    return _("%(h)s 小时 %(m)s 分钟") % {"h": hours, "m": rest}


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def clock(value: datetime | None, *, seconds: bool = True) -> str:
    if value is None:
        return "—"
    return _local(value).strftime("%H:%M:%S" if seconds else "%H:%M")


def local_input(value: datetime) -> str:
    """What a datetime-local input holds for ``value`` (the platform's local time)."""
    return _local(value).strftime("%Y-%m-%dT%H:%M:%S")


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1):]


def _label_x(x: float) -> float:
    """A label centred on ``x``, kept inside the plot (a gap at its very edge)."""
    return round(min(max(x, PLOT_X0 + 60), PLOT_X1 - 60), 1)


def _mark(x: float, cy: float, kind: str, title: str) -> dict:
    """A marker on a recording's bar: a triangle above it (the voice statement at resumption),
    a dot (a content point), a small square (a note)."""
    x = round(x, 1)
    top = cy - BAR / 2
    if kind == "resume_statement":
        points = f"{x - 6},{top - 7} {x + 6},{top - 7} {x},{top + 2}"
    elif kind == "content_point":
        points = ""
    else:
        points = f"{x - 3.5},{cy - 3.5} {x + 3.5},{cy - 3.5} {x + 3.5},{cy + 3.5} {x - 3.5},{cy + 3.5}"
    return {"x": x, "cy": cy, "kind": kind, "points": points, "title": title, "top": top, "bottom": top + BAR}


def _ticks(lo: datetime, hi: datetime, x) -> list[dict]:
    span = (hi - lo).total_seconds()
    step = next((s for s in TICK_STEPS if span / s <= MAX_TICKS), TICK_STEPS[-1])
    local_lo = _local(lo)
    midnight = local_lo.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight + timedelta(seconds=math.ceil((local_lo - midnight).total_seconds() / step) * step)
    ticks, t, last_day = [], first, None
    fmt = "%H:%M:%S" if step < 60 else "%H:%M"
    several_days = _local(lo).date() != _local(hi).date()
    while t <= hi and len(ticks) <= MAX_TICKS + 2:
        day = _local(t).date()
        label = _local(t).strftime(fmt)
        if several_days and day != last_day:
            label = _local(t).strftime("%m-%d ") + label
        last_day = day
        ticks.append({"x": round(x(t), 1), "label": label})
        t += timedelta(seconds=step)
    return ticks


def build_chart(*, stated_start, stated_end, recordings, interruptions=(), markers=None,
                gap_tolerance: timedelta = timedelta(seconds=60)) -> dict | None:
    """The chart of an activity. ``recordings``: (recording, officer name) in time order, the
    ones the viewer may see; ``interruptions``: Interruption rows; ``markers``: recording id →
    [(offset_s, kind, label)]. None when there is nothing to place on a time axis."""
    markers = markers or {}
    spans = [Span(r.start_time, r.end_time, r.pk, officer) for r, officer in recordings]
    timeline = build_timeline(spans, gap_tolerance=gap_tolerance)
    instants = [t for t in (stated_start, stated_end, timeline.first_start, timeline.last_end) if t is not None]
    instants += [t for i in interruptions for t in (i.starts_at, i.ends_at)]
    if not instants:
        return None
    lo, hi = min(instants), max(instants)
    span = max((hi - lo).total_seconds(), 600.0)
    if (hi - lo).total_seconds() < 600:  # a very short activity: a ten-minute axis around it
        middle = lo + (hi - lo) / 2
        lo, hi = middle - timedelta(seconds=300), middle + timedelta(seconds=300)
    margin = timedelta(seconds=max(span * 0.05, 60))
    lo, hi = lo - margin, hi + margin
    total = (hi - lo).total_seconds()

    def x(t: datetime) -> float:
        return PLOT_X0 + (t - lo).total_seconds() / total * (PLOT_X1 - PLOT_X0)

    def bar(start: datetime, end: datetime) -> tuple[float, float]:
        left, right = x(start), x(end)
        width = max(right - left, MIN_BAR)
        return round(left, 1), round(width, 1)

    def covers(gap: Span) -> bool:
        """The interruptions registered together cover the gap."""
        reach = gap.start
        for i in sorted(interruptions, key=lambda i: i.starts_at):
            if i.starts_at > reach:
                break
            reach = max(reach, i.ends_at)
        return reach >= gap.end

    y = TOP
    coverage = {"y": y, "bar_y": y + 22, "label_y": y + 16, "text_y": y + 34, "bars": [], "gaps": [],
                "uncovered": []}
    for s in timeline.covered:
        left, width = bar(s.start, s.end)
        coverage["bars"].append({"x": left, "w": width, "title": _("有记录：%(a)s 至 %(b)s") % {
            "a": clock(s.start), "b": clock(s.end)}})
    for g in timeline.gaps:
        left, width = bar(g.start, g.end)
        explained = covers(g)
        length = duration_text(g.seconds)
        coverage["gaps"].append({
            "x": left, "w": width, "cx": _label_x(left + width / 2), "explained": explained,
            "label": (_("已登记中断 %(len)s") if explained else _("缺口 %(len)s")) % {"len": length},
            "title": _("%(a)s 至 %(b)s 没有任何记录，%(len)s") % {"a": clock(g.start), "b": clock(g.end), "len": length},
            "start": local_input(g.start), "end": local_input(g.end), "start_text": clock(g.start),
            "end_text": clock(g.end), "length": length, "seconds": g.seconds,
        })
    # before the first recording / after the last one, inside the documents' times
    edges = []
    if stated_start and timeline.first_start and timeline.first_start - stated_start > gap_tolerance:
        edges.append((stated_start, timeline.first_start, _("开始后未记录 %(len)s")))
    if stated_end and timeline.last_end and stated_end - timeline.last_end > gap_tolerance:
        edges.append((timeline.last_end, stated_end, _("结束前未记录 %(len)s")))
    for a, b, text in edges:
        left, width = bar(a, b)
        length = duration_text((b - a).total_seconds())
        coverage["uncovered"].append({"x": left, "w": width, "cx": _label_x(left + width / 2),
                                      "label": text % {"len": length},
                                      "title": _("%(a)s 至 %(b)s 在文书记载的时间内而没有记录") % {
                                          "a": clock(a), "b": clock(b)}})
    y += COVERAGE_ROW

    lanes = []
    shown = recordings[:MAX_LANES]
    for rec, officer in shown:
        lane = {"y": y, "bar_y": y + (ROW - BAR) / 2, "text_y": y + ROW / 2 + 4, "id": rec.pk,
                "officer": officer, "file": _short(rec.original_filename),
                "title": f"{officer} · {rec.original_filename}", "bar": None, "marks": []}
        if rec.start_time and rec.end_time and rec.end_time > rec.start_time:
            left, width = bar(rec.start_time, rec.end_time)
            lane["bar"] = {"x": left, "w": width, "title": _("%(who)s：%(a)s 至 %(b)s（%(len)s）") % {
                "who": officer, "a": clock(rec.start_time), "b": clock(rec.end_time),
                "len": duration_text((rec.end_time - rec.start_time).total_seconds())}}
            for offset, kind, label in markers.get(rec.pk, ()):
                at = rec.start_time + timedelta(seconds=float(offset))
                if at > rec.end_time:
                    continue
                lane["marks"].append(_mark(x(at), y + ROW / 2, kind, f"{clock(at)} {label}"))
        else:
            lane["missing"] = _("拍摄时间未知，无法放上时间轴")
        lanes.append(lane)
        y += ROW

    breaks = []
    if interruptions:
        for i in interruptions:
            left, width = bar(i.starts_at, i.ends_at)
            breaks.append({"x": left, "w": width, "title": _("%(a)s 至 %(b)s：%(reason)s") % {
                "a": clock(i.starts_at), "b": clock(i.ends_at), "reason": i.get_reason_display()},
                "label": i.get_reason_display()})
        interruption_lane = {"y": y, "bar_y": y + (ROW - BAR) / 2, "text_y": y + ROW / 2 + 4, "bars": breaks}
        y += ROW
    else:
        interruption_lane = None

    plot_bottom = y + 4
    stated = []
    if stated_start:
        stated.append({"x": round(x(stated_start), 1), "label": _("文书记载开始 %(t)s") % {"t": clock(stated_start)},
                       "anchor": "start", "label_y": 14})
    if stated_end:
        end_x = round(x(stated_end), 1)
        row = 14 if not stated or end_x - stated[0]["x"] > 300 else 32
        stated.append({"x": end_x, "label": _("文书记载结束 %(t)s") % {"t": clock(stated_end)},
                       "anchor": "end", "label_y": row})
    for line in stated:
        line["text_x"] = line["x"] + 5 if line["anchor"] == "start" else line["x"] - 5
        line["line_y1"] = line["label_y"] + 4

    axis_y = plot_bottom + 2
    legend_y = axis_y + 44
    kinds = {m["kind"] for lane in lanes for m in lane["marks"]}
    present = [
        ("covered", _("有记录"), bool(coverage["bars"])),
        ("recording", _("单段记录"), any(lane["bar"] for lane in lanes)),
        ("gap", _("缺口（未登记中断）"), any(not g["explained"] for g in coverage["gaps"])),
        ("explained", _("已登记中断"), bool(breaks) or any(g["explained"] for g in coverage["gaps"])),
        ("uncovered", _("文书时间内未记录"), bool(coverage["uncovered"])),
        ("stated", _("文书记载起止"), bool(stated)),
        ("resume", _("语音说明标记"), "resume_statement" in kinds),
        ("point", _("内容要点标记"), "content_point" in kinds),
    ]
    legend, at = [], 12
    for kind, label, shown_here in present:
        if shown_here:
            legend.append({"kind": kind, "label": label, "x": at, "text_x": at + 20, "y": legend_y - 9,
                           "mid": legend_y - 4, "end": at + 14, "cx": at + 7,
                           "points": f"{at + 1},{legend_y - 9} {at + 13},{legend_y - 9} {at + 7},{legend_y}"})
            at += 32 + 13 * len(label)
    return {
        "width": WIDTH,
        "height": legend_y + 14,
        "plot_x0": PLOT_X0,
        "plot_x1": PLOT_X1,
        "plot_w": PLOT_X1 - PLOT_X0,
        "missing_x": PLOT_X0 + 8,
        "tick_y2": axis_y + 5,
        "plot_top": TOP - 4,
        "plot_bottom": plot_bottom,
        "plot_height": plot_bottom - TOP + 4,
        "axis_y": axis_y,
        "tick_label_y": axis_y + 18,
        "legend_y": legend_y,
        "ticks": _ticks(lo, hi, x),
        "coverage": coverage,
        "lanes": lanes,
        "hidden_lanes": max(0, len(recordings) - len(shown)),
        "interruptions": interruption_lane,
        "stated": stated,
        "legend": legend,
        "colors": COLORS,
        "gaps": coverage["gaps"],
        "summary": {
            "recordings": len(spans),
            "covered": duration_text(timeline.covered_seconds) if timeline.covered else "",
            "first_start": timeline.first_start,
            "last_end": timeline.last_end,
            "gaps": len(timeline.gaps),
            "unexplained": sum(1 for g in coverage["gaps"] if not g["explained"]),
            "gap_total": duration_text(sum(g.seconds for g in timeline.gaps)) if timeline.gaps else "",
            "overlaps": len(timeline.overlaps),
        },
    }
