"""Filename contract: display names are safe, raw names are exact, the device pattern is parsed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ingest.filenames import parse_device_filename, raw_filename_text, sanitize_filename

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.req("ING-4")
def test_full_device_pattern_parsed_in_local_time():
    info = parse_device_filename("DSJ0012345_010203_20261120093000_0001_IMP.MP4")
    assert info is not None
    assert info.device_serial == "DSJ0012345"
    assert info.badge_number == "010203"
    assert info.start_time == datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI)
    assert info.sequence == 1
    assert info.important is True
    assert info.extension == "mp4"


@pytest.mark.req("ING-4")
def test_pattern_without_sequence_or_importance_parsed():
    info = parse_device_filename("DSJ0012345_010203_20261120093000.mp4")
    assert info is not None
    assert info.sequence is None
    assert info.important is False
    assert info.start_time.hour == 9


@pytest.mark.req("ING-4")
def test_lowercase_importance_mark_accepted():
    info = parse_device_filename("dsj77_A12_20260101000000_12_imp.mov")
    assert (
        info is not None
        and info.important
        and info.sequence == 12
        and info.device_serial == "DSJ77"
    )


@pytest.mark.req("ING-4")
@pytest.mark.parametrize(
    "name",
    [
        "VID_20261120_093000.mp4",  # phone naming
        "DSJ0012345_010203_20261340093000.MP4",  # month 13
        "DSJ0012345_010203_2026112009300.MP4",  # 13 digits
        "DSJ0012345_010203_20261120093000",  # no extension
        "../DSJ0012345_010203_20261120093000.MP4",
    ],
)
def test_names_outside_pattern_give_none(name):
    assert parse_device_filename(name) is None


@pytest.mark.req("ING-6")
def test_path_traversal_reduced_to_last_component():
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("..\\..\\Windows\\clip.mp4") == "clip.mp4"
    assert sanitize_filename("a/../../b.mp4") == "b.mp4"


@pytest.mark.req("ING-6")
def test_control_and_bidi_characters_removed():
    assert sanitize_filename("clip\x00\x1b[31m\u202egnp.mp4") == "clip[31mgnp.mp4"


@pytest.mark.req("ING-6")
def test_gbk_bytes_displayed_as_chinese_and_kept_escaped():
    raw = "执法记录仪视频.mp4".encode("gbk")
    assert sanitize_filename(raw) == "执法记录仪视频.mp4"
    kept = raw_filename_text(raw)
    assert "\\x" in kept and kept.endswith(".mp4")
    # the escaped form is reversible back to the exact bytes given
    assert kept.encode("utf-8").decode("unicode_escape").encode("latin-1") == raw


@pytest.mark.req("ING-6")
def test_nul_and_lone_surrogates_kept_escaped_so_any_database_stores_them():
    raw = b"clip\x00\xff.mp4"
    kept = raw_filename_text(raw)
    assert kept == "clip\\x00\\xff.mp4" and "\x00" not in kept
    assert kept.encode("utf-8").decode("unicode_escape").encode("latin-1") == raw
    assert raw_filename_text("a\udc80\x00b.mp4") == "a\\udc80\\x00b.mp4"
    assert raw_filename_text("现场.mp4") == "现场.mp4"


@pytest.mark.req("ING-6")
def test_empty_or_dot_names_get_placeholder():
    assert sanitize_filename("") == "未命名文件"
    assert sanitize_filename("../..") == "未命名文件"


def test_long_name_truncated_keeping_extension():
    name = sanitize_filename("长" * 400 + ".mp4")
    assert len(name) == 255 and name.endswith(".mp4")
