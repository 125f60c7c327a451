"""Who an activity or case is about: the 统一社会信用代码 (GB 32100-2015) of an organization.

The check character is python-stdnum's (``stdnum.cn.uscc.calc_check_digit``); the format is the
standard's: 18 characters from the code's 31-character alphabet (no I, O, S, V, Z), the
administrative division code (positions 3–8) in digits. python-stdnum's own ``validate`` also
requires positions 1–2 to be digits, which refuses the standard's letter codes of registering
authorities (e.g. ``N`` 农业, ``Y`` 其他)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from stdnum.cn.uscc import calc_check_digit

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def normalize_uscc(value: str) -> str:
    return "".join((value or "").split()).upper()


def uscc_error(value: str) -> str | None:
    """Why ``value`` (normalized) is not a 统一社会信用代码, in Chinese; None when it is one."""
    if len(value) != 18:
        return _("统一社会信用代码应为 18 位（现为 %(n)s 位）。") % {"n": len(value)}
    wrong = sorted({c for c in value if c not in ALPHABET})
    if wrong:
        return _("统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、S、V、Z）。") % {"chars": "、".join(wrong)}
    if not value[2:8].isdigit():
        return _("统一社会信用代码第 3–8 位应为行政区划代码（数字）。")
    expected = calc_check_digit(value[:17])
    if value[17] != expected:
        return _("统一社会信用代码校验位不正确（第 18 位应为 %(c)s），请核对。") % {"c": expected}
    return None
