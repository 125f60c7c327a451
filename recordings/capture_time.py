"""Is a capture time believable? (ING-3, ING-4)

A device whose clock was never set, or set wrongly, writes any date into the media: 2099,
1970, 2000-01-01. Such a time must not decide whether an upload was on time. These pure
functions say what is wrong with a capture time, in Chinese; the services flag the record
(at ingest) or refuse the value (in an edit).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

# Body-worn cameras that write media time did not exist before this; it is also the date
# many devices fall back to after a reset.
EARLIEST_PLAUSIBLE = (2000, 1, 2)
# Device clocks drift; a few minutes ahead of the platform is not a fault.
FUTURE_TOLERANCE = timedelta(minutes=15)

CODE_FUTURE = "capture_time_future"
CODE_TOO_OLD = "capture_time_too_old"
TIME_CODES = frozenset({CODE_FUTURE, CODE_TOO_OLD})


def earliest_plausible() -> datetime:
    return timezone.make_aware(datetime(*EARLIEST_PLAUSIBLE))


def latest_plausible(reference: datetime) -> datetime:
    """A recording cannot have been made after it arrived (plus the clock tolerance)."""
    return reference + FUTURE_TOLERANCE


def _fmt(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def capture_time_problem(value: datetime | None, *, reference: datetime) -> tuple[str, str]:
    """(code, Chinese message) when ``value`` cannot be a capture time given it arrived at
    ``reference``; ("", "") when it is plausible or unknown."""
    if value is None:
        return "", ""
    if value > latest_plausible(reference):
        return CODE_FUTURE, _(
            "拍摄时间 %(value)s 晚于平台接收时间 %(received)s，设备时钟可能有误；"
            "上传期限按接收时间计算，请核对并更正拍摄时间。"
        ) % {"value": _fmt(value), "received": _fmt(reference)}
    if value < earliest_plausible():
        return CODE_TOO_OLD, _(
            "拍摄时间 %(value)s 早于 %(earliest)s，设备时钟可能未设置；"
            "上传期限按接收时间计算，请核对并更正拍摄时间。"
        ) % {"value": _fmt(value), "earliest": _fmt(earliest_plausible())[:10]}
    return "", ""


def edit_time_error(value: datetime | None, *, reference: datetime) -> str:
    """The message that refuses an edited start/end time outside the plausible window."""
    if value is None:
        return ""
    if value > latest_plausible(reference):
        return _("时间不能晚于记录的接收时间（%(received)s）。") % {"received": _fmt(reference)}
    if value < earliest_plausible():
        return _("时间不能早于 %(earliest)s。") % {"earliest": _fmt(earliest_plausible())[:10]}
    return ""
