"""HTTP Range parsing (RFC 9110 §14); serving is storage/tests/test_serving.py."""

from __future__ import annotations

import pytest

from core.ranges import content_disposition, parse_range

SIZE = 1000


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("bytes=0-0", (0, 0)),
        ("bytes=0-", (0, SIZE - 1)),
        ("bytes=999-", (999, 999)),
        ("bytes=999-999", (999, 999)),
        ("bytes=10-20", (10, 20)),
        ("bytes=500-99999", (500, SIZE - 1)),  # end past the size is clamped
        ("bytes=-1", (SIZE - 1, SIZE - 1)),  # the last byte
        ("bytes=-100", (900, SIZE - 1)),
        ("bytes=-5000", (0, SIZE - 1)),  # suffix longer than the file: everything
        (" bytes=1-2 ", (1, 2)),
        ("bytes=1000-", False),  # starts at the size: unsatisfiable
        ("bytes=1000-2000", False),
        ("bytes=20-10", False),
        ("bytes=-0", False),
        ("bytes=-", None),
        ("bytes=0-1,5-6", None),  # multiple ranges: whole body is allowed
        ("items=0-1", None),
        ("bytes=a-b", None),
        ("bytes=1.5-2", None),
    ],
)
def test_parse_range_cases(header, expected):
    assert parse_range(header, SIZE) == expected


def test_parse_range_on_empty_file_is_unsatisfiable():
    assert parse_range("bytes=0-", 0) is False
    assert parse_range("bytes=-1", 0) is False


def test_content_disposition_keeps_chinese_filename():
    value = content_disposition("执法记录 2026.mp4", attachment=True)
    assert value.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E6%89%A7%E6%B3%95" in value
    ascii_name = value.split('filename="')[1].split('"')[0]
    assert ascii_name.isascii() and ascii_name.endswith(" 2026.mp4")
