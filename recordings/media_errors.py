"""The one place that turns media-library errors (PyAV/FFmpeg, Pillow) into Chinese.

Library messages are English ("Invalid data found when processing input",
"image file is truncated"). A person reads only the Chinese phrase chosen here
from the error's class, errno or (for Pillow, which has few classes) its
well-known message; the original text is kept, untranslated, in
``MediaFailure.technical`` for the probe data (``MediaInfo.raw``) and logs, the
"技术细节" a technician may open. Unknown errors get a generic phrase, never
their English text.
"""

from __future__ import annotations

import errno as errno_codes
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recordings.errors import RecordingError

# Stable codes (for tests, logs and the API) → Chinese phrases. Phrases have no final
# punctuation so callers can embed them in a sentence.
PHRASES = {
    "invalid_data": gettext_lazy("内容不是支持的格式，或文件已损坏"),
    "truncated": gettext_lazy("文件在中途结束，可能不完整（录制中断或拷贝未完成）"),
    "corrupt_stream": gettext_lazy("媒体数据已损坏，无法解码"),
    "unsupported_format": gettext_lazy("暂不支持该文件格式"),
    "unsupported_codec": gettext_lazy("暂不支持该编码方式（缺少对应的解码器）"),
    "unsupported_feature": gettext_lazy("文件使用了暂不支持的编码特性"),
    "image_unidentified": gettext_lazy("无法识别的图片格式"),
    "image_truncated": gettext_lazy("图片数据不完整（文件被截断）"),
    "image_corrupt": gettext_lazy("图片数据已损坏"),
    "image_too_large": gettext_lazy("图片像素过多，超出安全处理上限"),
    "no_frame": gettext_lazy("文件中没有可解码的画面"),
    "permission": gettext_lazy("没有读取该文件的权限"),
    "not_found": gettext_lazy("找不到该文件"),
    "no_space": gettext_lazy("存储空间不足"),
    "io": gettext_lazy("读取文件时发生输入输出错误"),
    "timeout": gettext_lazy("读取文件超时"),
    "memory": gettext_lazy("内存不足，无法处理该文件"),
    "interrupted": gettext_lazy("处理被中断"),
    "library_bug": gettext_lazy("媒体处理程序内部出错"),
    "unknown": gettext_lazy("媒体处理程序报告了未知错误"),
}


@dataclass(frozen=True)
class MediaFailure:
    """What went wrong, for people (``message``, Chinese) and for technicians (``technical``)."""

    code: str
    message: str
    technical: dict = field(default_factory=dict)


class MediaReadError(RecordingError):
    """A media file could not be read, decoded or written; ``message`` is Chinese."""

    code = "media_unreadable"

    def __init__(self, failure: MediaFailure):
        super().__init__(failure.message, code=f"media_{failure.code}")
        self.failure = failure


def _av_code(exc: BaseException) -> str | None:
    try:
        import av.error as averr
    except ImportError:  # pragma: no cover - PyAV is a hard dependency
        return None
    if not isinstance(exc, averr.FFmpegError):
        return None
    by_class = (
        (averr.InvalidDataError, "invalid_data"),
        (averr.EOFError, "truncated"),
        (averr.PermissionError, "permission"),
        (averr.FileNotFoundError, "not_found"),
        (averr.IsADirectoryError, "not_found"),
        (averr.NotADirectoryError, "not_found"),
        (averr.DecoderNotFoundError, "unsupported_codec"),
        (averr.DemuxerNotFoundError, "unsupported_format"),
        (averr.ProtocolNotFoundError, "unsupported_format"),
        (averr.PatchWelcomeError, "unsupported_feature"),
        (averr.NotImplementedError, "unsupported_feature"),
        (averr.ExperimentalError, "unsupported_feature"),
        (averr.MemoryError, "memory"),
        (averr.TimeoutError, "timeout"),
        (averr.InterruptedError, "interrupted"),
        (averr.ExitError, "interrupted"),
        (averr.BufferTooSmallError, "corrupt_stream"),
        (averr.BugError, "library_bug"),
        (averr.PyAVCallbackError, "library_bug"),
    )
    for cls, code in by_class:
        if isinstance(exc, cls):
            return code
    return _errno_code(getattr(exc, "errno", None)) or "unknown"


def _errno_code(number) -> str | None:
    return {
        errno_codes.EACCES: "permission",
        errno_codes.EPERM: "permission",
        errno_codes.ENOENT: "not_found",
        errno_codes.EISDIR: "not_found",
        errno_codes.ENOTDIR: "not_found",
        errno_codes.ENOSPC: "no_space",
        errno_codes.EIO: "io",
        errno_codes.ENOMEM: "memory",
        errno_codes.ETIMEDOUT: "timeout",
        errno_codes.EINTR: "interrupted",
    }.get(number)


# Pillow raises plain OSError / SyntaxError / ValueError; these are its stable messages.
_PILLOW_MESSAGES = (
    ("cannot identify image file", "image_unidentified"),
    ("image file is truncated", "image_truncated"),
    ("truncated", "image_truncated"),
    ("broken data stream", "image_corrupt"),
    ("unrecognized data stream", "image_corrupt"),
    ("broken png", "image_corrupt"),
    ("crc", "image_corrupt"),
    ("decoder error", "image_corrupt"),
    ("not a ", "image_unidentified"),
    ("decoder", "unsupported_codec"),
)


def _pillow_code(exc: BaseException) -> str | None:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow is a hard dependency
        return None
    if isinstance(exc, UnidentifiedImageError):
        return "image_unidentified"
    if isinstance(exc, Image.DecompressionBombError):
        return "image_too_large"
    module = type(exc).__module__ or ""
    if not isinstance(exc, OSError | SyntaxError | ValueError | EOFError) and module != "zlib":
        return None
    if module == "zlib":
        return "image_corrupt"
    text = str(exc).lower()
    for needle, code in _PILLOW_MESSAGES:
        if needle in text:
            return code
    return None


def _builtin_code(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission"
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError):
        return "not_found"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, EOFError):
        return "truncated"
    if isinstance(exc, OSError):
        return _errno_code(exc.errno) or "io"
    return "unknown"


def technical_detail(exc: BaseException) -> dict:
    """The library's own words, for the "技术细节" view and logs only (never shown as a reason)."""
    cls = type(exc)
    # OSError-style errors name the file (often a temporary copy): keep only the library's words
    text = getattr(exc, "strerror", None) if getattr(exc, "filename", None) else None
    detail = {"type": f"{cls.__module__}.{cls.__qualname__}", "message": str(text or exc)[:500]}
    number = getattr(exc, "errno", None)
    if isinstance(number, int):
        detail["errno"] = number
    return detail


def describe_media_error(exc: BaseException) -> MediaFailure:
    """A Chinese phrase (and a stable code) for any exception a media library raised."""
    if isinstance(exc, MediaReadError):
        return exc.failure
    code = _av_code(exc) or _pillow_code(exc) or _builtin_code(exc)
    technical = {"code": code, **technical_detail(exc)}
    return MediaFailure(code=code, message=str(PHRASES[code]), technical=technical)


def media_failure(code: str, **technical) -> MediaFailure:
    """A failure found by our own checks (no exception), e.g. ``no_frame``."""
    return MediaFailure(
        code=code, message=str(PHRASES[code]), technical={"code": code, **technical}
    )


def unreadable_message(failure: MediaFailure) -> str:
    """The flag reason for a file the probe could not open at all."""
    return _("无法识别为音视频或照片文件：%(reason)s。") % {"reason": failure.message}
