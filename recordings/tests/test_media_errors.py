"""Media-library errors reach people in Chinese; the library's English stays in the probe data."""

from __future__ import annotations

import io
import random
import re

import av.error
import pytest
from PIL import Image

from core.testing import make_audio, make_jpeg, make_video
from recordings.media import make_poster, probe_media, transcode_proxy
from recordings.media_errors import (
    PHRASES,
    MediaReadError,
    describe_media_error,
    technical_detail,
)

# Codes a Chinese sentence may name as they are (formats, boxes, units).
ALLOWED_CODES = {"MP4", "moov", "JPEG", "PNG", "MOV", "H.264", "H.265", "AAC"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*")


def latin_words(text: str) -> set[str]:
    return {w.rstrip(".-") for w in LATIN_WORD.findall(text)} - ALLOWED_CODES


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
) * 40


def bad_files() -> dict[str, bytes]:
    video = make_video(2.0)
    jpeg = make_jpeg(640, 480)
    png = _png()
    return {
        "pdf-renamed.mp4": PDF,
        "truncated.mp4": video[: len(video) // 3],
        "header-only.mp4": video[:40],
        "tail-only.mp4": video[len(video) // 2 :],
        "zeroed.mp4": video[:2000] + bytes(len(video) - 2000),
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "tiny.jpg": jpeg[:30],
        "truncated.png": png[: len(png) // 2],
        "random.mp4": random.Random(6).randbytes(6000),
        "text.mp4": b"this is not a video\n" * 200,
        "truncated.m4a": make_audio(2.0)[:500],
    }


@pytest.mark.req("ING-6")
@pytest.mark.parametrize("name", sorted(bad_files()))
def test_bad_file_problem_is_chinese_and_raw_keeps_the_library_words(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(bad_files()[name])
    info = probe_media(path, filename=name)
    assert info.problem, f"{name}: a bad file must be flagged"
    assert latin_words(info.problem) == set(), f"{name}: {info.problem!r}"
    assert re.search(r"[\u4e00-\u9fff]", info.problem)
    error = info.raw.get("error")
    assert isinstance(error, dict) and error["code"] in PHRASES and error["message"]
    assert str(tmp_path) not in str(error), "no server paths in the technical detail"


def test_pdf_renamed_mp4_names_the_cause_not_the_decoder(tmp_path):
    path = tmp_path / "a.mp4"
    path.write_bytes(PDF)
    info = probe_media(path, filename="a.mp4")
    assert info.kind == "unknown"
    assert "Invalid data" not in info.problem
    assert info.problem == "无法识别为音视频或照片文件：内容不是支持的格式，或文件已损坏。"
    assert info.raw["error"]["type"] == "av.error.InvalidDataError"
    assert "Invalid data found when processing input" in info.raw["error"]["message"]


def test_truncated_jpeg_is_a_flagged_photo_with_a_chinese_reason(tmp_path):
    jpeg = make_jpeg(640, 480)
    path = tmp_path / "cut.jpg"
    path.write_bytes(jpeg[: len(jpeg) // 2])
    info = probe_media(path, filename="cut.jpg")
    assert info.kind == "photo"
    assert info.problem == "照片文件不完整或已损坏：图片数据不完整（文件被截断）。"
    assert "truncated" in info.raw["error"]["message"]


def test_truncated_mp4_says_the_index_is_missing(tmp_path):
    video = make_video(2.0)
    path = tmp_path / "cut.mp4"
    path.write_bytes(video[: len(video) // 3])
    info = probe_media(path, filename="cut.mp4")
    assert "moov" in info.problem and "MP4" in info.problem
    assert latin_words(info.problem) == set()


def test_good_files_have_no_problem(tmp_path):
    for name, data in {
        "ok.mp4": make_video(1.0),
        "ok.jpg": make_jpeg(),
        "ok.m4a": make_audio(1.0),
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        info = probe_media(path, filename=name)
        assert info.problem == "", (name, info.problem)
        assert "error" not in info.raw


def test_a_crashing_probe_gives_a_chinese_reason(tmp_path, monkeypatch):
    import recordings.media as media

    def explode(*args, **kwargs):
        raise RuntimeError("segfault-ish internal failure")

    monkeypatch.setattr(media, "_probe_av", explode)
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01" * 100)
    info = probe_media(path, filename="x.bin")
    assert latin_words(info.problem) == set(), info.problem
    assert "RuntimeError" not in info.problem
    assert info.raw["error"]["type"] == "builtins.RuntimeError"


def _every_av_error_class():
    return sorted(
        (
            cls
            for cls in vars(av.error).values()
            if isinstance(cls, type) and issubclass(cls, av.error.FFmpegError)
        ),
        key=lambda c: c.__name__,
    )


@pytest.mark.parametrize("cls", _every_av_error_class(), ids=lambda c: c.__name__)
def test_every_pyav_error_class_maps_to_chinese(cls):
    try:
        exc = cls(1, "Some English text from FFmpeg")
    except TypeError:
        exc = cls("Some English text from FFmpeg")
    failure = describe_media_error(exc)
    assert failure.code in PHRASES
    assert latin_words(failure.message) == set(), (cls, failure.message)
    assert "English" not in failure.message


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (
            av.error.InvalidDataError(1094995529, "Invalid data found when processing input"),
            "invalid_data",
        ),
        (av.error.EOFError(541478725, "End of file"), "truncated"),
        (av.error.PermissionError(13, "Permission denied"), "permission"),
        (av.error.FileNotFoundError(2, "No such file or directory"), "not_found"),
        (av.error.DecoderNotFoundError(1, "Decoder not found"), "unsupported_codec"),
        (
            av.error.PatchWelcomeError(1, "Not yet implemented in FFmpeg, patches welcome"),
            "unsupported_feature",
        ),
        (av.error.UnknownError(1313558101, "Unknown error occurred"), "unknown"),
        (OSError("image file is truncated (3 bytes not processed)"), "image_truncated"),
        (OSError("broken data stream when reading image file"), "image_corrupt"),
        (SyntaxError("broken PNG file"), "image_corrupt"),
        (Image.DecompressionBombError("Image size (1 pixels) exceeds limit"), "image_too_large"),
        (PermissionError(13, "Permission denied", "/srv/x"), "permission"),
        (OSError(28, "No space left on device"), "no_space"),
        (MemoryError(), "memory"),
        (KeyError("weird"), "unknown"),
    ],
)
def test_error_classes_errno_and_pillow_messages_map_to_codes(exc, code):
    failure = describe_media_error(exc)
    assert failure.code == code
    assert failure.message == str(PHRASES[code])
    assert latin_words(failure.message) == set()


def test_unidentified_image_error_from_pillow(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(b"not an image at all" * 10)
    with pytest.raises(Exception) as caught:
        Image.open(path)
    assert describe_media_error(caught.value).code == "image_unidentified"


def test_technical_detail_keeps_english_but_drops_the_file_path():
    exc = av.error.InvalidDataError(
        1094995529, "Invalid data found when processing input", "/tmp/avr-media-x"
    )
    detail = technical_detail(exc)
    assert detail["message"] == "Invalid data found when processing input"
    assert detail["errno"] == 1094995529
    assert "/tmp" not in str(detail)


def test_every_phrase_is_chinese():
    for code, phrase in PHRASES.items():
        assert latin_words(str(phrase)) == set(), code
        assert re.search(r"[\u4e00-\u9fff]", str(phrase)), code


def test_poster_of_a_broken_file_raises_a_chinese_domain_error(tmp_path):
    path = tmp_path / "bad.mp4"
    path.write_bytes(PDF)
    with pytest.raises(MediaReadError) as caught:
        make_poster(path, "video")
    assert latin_words(caught.value.message) == set()
    assert caught.value.failure.technical["type"] == "av.error.InvalidDataError"
    jpeg = make_jpeg(640, 480)
    photo = tmp_path / "bad.jpg"
    photo.write_bytes(jpeg[:200])
    with pytest.raises(MediaReadError) as caught:
        make_poster(photo, "photo")
    assert latin_words(caught.value.message) == set()


def test_proxy_of_a_broken_file_raises_a_chinese_domain_error(tmp_path):
    src = tmp_path / "bad.mov"
    src.write_bytes(random.Random(2).randbytes(4000))
    with pytest.raises(MediaReadError) as caught:
        transcode_proxy(src, tmp_path / "out.mp4")
    assert latin_words(caught.value.message) == set()
    assert caught.value.code.startswith("media_")


def test_audio_only_file_has_no_poster_frame(tmp_path):
    path = tmp_path / "a.m4a"
    path.write_bytes(make_audio(1.0))
    with pytest.raises(MediaReadError) as caught:
        make_poster(path, "video")
    assert caught.value.failure.code == "no_frame"
