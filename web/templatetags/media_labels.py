"""How formats read on a page: stored codes (``h264``, ``image/jpeg``) as people name them.

The catalogue stores FFmpeg's identifiers (``mp4``, ``hevc``, ``aac``) and MIME types; a page
shows the names printed on devices and in manuals (MP4, H.265, AAC) and says in Chinese what
kind of file a MIME type is ("JPEG 图片"). Not a template library: ``web_ui`` registers these.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

FORMAT_NAMES = {
    # containers
    "mp4": "MP4",
    "mov": "MOV",
    "quicktime": "MOV",
    "3gp": "3GP",
    "3gpp": "3GP",
    "webm": "WebM",
    "mkv": "MKV",
    "matroska": "MKV",
    "avi": "AVI",
    "msvideo": "AVI",
    "mpegts": "MPEG-TS",
    "mp2t": "MPEG-TS",
    "mpeg": "MPEG",
    "flv": "FLV",
    "asf": "ASF",
    "ms-asf": "ASF",
    "wav": "WAV",
    "ogg": "Ogg",
    "m4a": "M4A",
    # video codecs
    "h264": "H.264",
    "hevc": "H.265",
    "h265": "H.265",
    "vp8": "VP8",
    "vp9": "VP9",
    "av1": "AV1",
    "mpeg4": "MPEG-4",
    "mpeg2video": "MPEG-2",
    "mjpeg": "MJPEG",
    # audio codecs
    "aac": "AAC",
    "mp3": "MP3",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "flac": "FLAC",
    "amr": "AMR",
    "amr_nb": "AMR-NB",
    "amr_wb": "AMR-WB",
    "alac": "ALAC",
    # photos
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "mpo": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
    "heic": "HEIC",
}


def format_name(code) -> str:
    """``h264`` → ``H.264``; PCM variants → PCM; an unknown code in capitals."""
    code = str(code or "").strip().lower()
    if not code:
        return ""
    if code.startswith("pcm_"):
        return "PCM"
    return FORMAT_NAMES.get(code, code.upper())


def mime_label(mime_type) -> str:
    """``image/jpeg`` → ``JPEG 图片``; ``video/quicktime`` → ``MOV 视频``."""
    top, _sep, sub = str(mime_type or "").strip().lower().partition("/")
    if not top:
        return ""
    sub = sub.split(";", 1)[0].removeprefix("x-")
    kind = {"video": _("视频"), "audio": _("音频"), "image": _("图片")}.get(top, _("文件"))
    if top == "audio" and sub == "mpeg":
        sub = "mp3"
    name = FORMAT_NAMES.get(sub, "")  # an unknown subtype: the kind alone
    return f"{name} {kind}" if name else kind
