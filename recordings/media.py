"""Reading media with PyAV and Pillow: probe, poster frame, playable proxy (ING-6, ING-7).

Pure helpers: they read a local file and return values or bytes; storing the
results and writing custody events is the caller's job (habit 5). Nothing here
raises for bad media: ``probe_media`` answers ``MediaInfo(kind="unknown",
problem=...)`` so the original is still kept and flagged. Library errors become
Chinese in one place (``recordings.media_errors``): ``problem`` is always Chinese,
the library's own English stays in ``MediaInfo.raw["error"]`` (技术细节).
``make_poster`` and ``transcode_proxy`` raise ``MediaReadError`` (Chinese message).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import struct
from datetime import datetime
from fractions import Fraction
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from recordings.data import MediaInfo
from recordings.media_errors import (
    MediaReadError,
    describe_media_error,
    media_failure,
    unreadable_message,
)

logger = logging.getLogger(__name__)

PLAYABLE_VIDEO_CODECS = frozenset({"h264", "vp8", "vp9", "av1"})
PLAYABLE_VIDEO_AUDIO = frozenset({"aac", "mp3", "opus", "vorbis"})
PLAYABLE_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "vorbis", "flac"})
PLAYABLE_VIDEO_CONTAINERS = frozenset({"mp4", "mov", "webm"})
PHOTO_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}
PLAYABLE_PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF"})
POSTER_WIDTH = 320
PROXY_MAX_HEIGHT = 720

_MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
_VIDEO_MIME = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "mpegts": "video/mp2t",
    "mpeg": "video/mpeg",
    "flv": "video/x-flv",
    "asf": "video/x-ms-asf",
}
_AUDIO_MIME = {
    "mp4": "audio/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "amr": "audio/amr",
    "aac": "audio/aac",
    "mkv": "audio/x-matroska",
}


def local_zone() -> ZoneInfo:
    """The department's local time zone (settings.TIME_ZONE)."""
    return ZoneInfo(settings.TIME_ZONE)


# --- probing -----------------------------------------------------------------


def is_playable(kind: str, container: str, video_codec: str, audio_codec: str) -> bool:
    """Can a current browser play the original as is (no proxy needed)?"""
    if kind == "video":
        return (
            video_codec in PLAYABLE_VIDEO_CODECS
            and container in PLAYABLE_VIDEO_CONTAINERS
            and (not audio_codec or audio_codec in PLAYABLE_VIDEO_AUDIO)
        )
    if kind == "audio":
        return audio_codec in PLAYABLE_AUDIO_CODECS or audio_codec.startswith("pcm_")
    return False


# What the functions below read: a local path, or a seekable binary reader (an object in S3).
MediaSource = str | os.PathLike | BinaryIO


def _rewound(source: MediaSource):
    """The source ready to be read from its first byte (a path as ``str`` for PyAV)."""
    if hasattr(source, "read"):
        source.seek(0)
        return source
    return str(source)


def _source_size(source: MediaSource) -> int:
    if hasattr(source, "read"):
        return source.seek(0, os.SEEK_END)
    return os.path.getsize(source)


def probe_media(path: MediaSource, *, filename: str = "") -> MediaInfo:
    """Describe one file. Never raises: unreadable input gives kind="unknown" + a Chinese problem."""
    try:
        if _source_size(path) == 0:
            return MediaInfo(problem=_("文件为空（0 字节）。"))
        photo = _probe_photo(path)
        if photo is not None:
            return photo
        return _probe_av(path, filename)
    except Exception as exc:  # a probe that crashes must not lose the file
        logger.exception("probe failed for %s", filename or path)
        failure = describe_media_error(exc)
        return MediaInfo(
            problem=_("无法识别为音视频或照片：探测程序出错（%(reason)s）。")
            % {"reason": failure.message},
            raw={"error": failure.technical},
        )


def _probe_photo(path) -> MediaInfo | None:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(_rewound(path))
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    with image:
        fmt = image.format or ""
        if fmt not in PHOTO_FORMATS:
            return None
        info = MediaInfo(
            kind="photo",
            mime_type=PHOTO_FORMATS[fmt],
            container=fmt.lower(),
            width=image.width,
            height=image.height,
            playable=fmt in PLAYABLE_PHOTO_FORMATS,
            raw={"format": fmt, "mode": image.mode, "size": [image.width, image.height]},
        )
        info.created_at, exif_raw = _exif_time(image)
        if exif_raw:
            info.raw["exif_datetime"] = exif_raw
        try:
            image.load()
        except Exception as exc:
            failure = describe_media_error(exc)
            info.problem = _("照片文件不完整或已损坏：%(reason)s。") % {"reason": failure.message}
            info.raw["error"] = failure.technical
    return info


def _exif_time(image) -> tuple[datetime | None, str]:
    """DateTimeOriginal (then DateTime), in local time unless OffsetTimeOriginal says otherwise."""
    try:
        exif = image.getexif()
    except Exception:
        return None, ""
    if not exif:
        return None, ""
    sub = exif.get_ifd(0x8769) if exif else {}
    raw = sub.get(0x9003) or exif.get(0x0132) or ""
    offset = sub.get(0x9011) or ""
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    raw = str(raw).strip().strip("\x00")
    try:
        naive = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, raw
    if offset:
        try:
            return datetime.fromisoformat(naive.isoformat() + str(offset).strip()), raw
        except ValueError:
            pass
    return naive.replace(tzinfo=local_zone()), raw


def _mp4_missing_moov(path) -> bool:
    """Top-level MP4/MOV boxes: an ``ftyp`` without ``moov`` means the index was never written."""
    try:
        size_total = _source_size(path)
        with contextlib.nullcontext(path) if hasattr(path, "read") else open(path, "rb") as handle:
            pos, seen = 0, set()
            while pos + 8 <= size_total and len(seen) < 64:
                handle.seek(pos)
                header = handle.read(16)
                size, kind = struct.unpack(">I4s", header[:8])
                if size == 1 and len(header) >= 16:
                    size = struct.unpack(">Q", header[8:16])[0]
                elif size == 0:
                    size = size_total - pos
                if size < 8:
                    break
                seen.add(kind)
                pos += size
            return b"ftyp" in seen and b"moov" not in seen
    except (OSError, struct.error):
        return False


def _container_name(fmt_name: str, metadata: dict, filename: str, codecs: set) -> str:
    ext = os.path.splitext(filename)[1].lower().lstrip(".")
    if fmt_name == _MP4_FAMILY:
        brand = str(metadata.get("major_brand", "")).strip().lower()
        if brand == "qt" or (not brand and ext == "mov"):
            return "mov"
        if brand.startswith("3g"):
            return "3gp"
        return "mp4"
    if fmt_name == "matroska,webm":
        webm_codecs = {"vp8", "vp9", "av1", "opus", "vorbis"}
        return "webm" if ext == "webm" or (codecs and codecs <= webm_codecs) else "mkv"
    return fmt_name.split(",")[0]


def _parse_media_time(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.year < 1990:  # 1904/1970 epochs: the device never set its clock
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=local_zone())
    return parsed


def _probe_av(path, filename: str) -> MediaInfo:
    import av

    try:
        container = av.open(_rewound(path), metadata_errors="replace")
    except Exception as exc:
        failure = describe_media_error(exc)
        if _mp4_missing_moov(path):
            problem = _(
                "无法识别为音视频：MP4 文件不完整，缺少索引（moov），可能是录制中断或拷贝不完整。"
            )
        else:
            problem = unreadable_message(failure)
        return MediaInfo(problem=problem, raw={"error": failure.technical})
    with container:
        fmt_name = container.format.name
        metadata = {str(k): str(v)[:200] for k, v in (container.metadata or {}).items()}
        streams = []
        video = audio = None
        for stream in container.streams:
            entry = {"index": stream.index, "type": stream.type}
            codec = ""
            ctx = getattr(stream, "codec_context", None)
            if ctx is not None:
                codec = ctx.name or ""
                entry["codec"] = codec
            if stream.type == "video":
                attached = bool(stream.disposition & av.stream.Disposition.attached_pic)
                entry.update(width=ctx.width, height=ctx.height, attached_pic=attached)
                if stream.average_rate:
                    entry["fps"] = float(stream.average_rate)
                if video is None and not attached:
                    video = stream
            elif stream.type == "audio":
                entry.update(sample_rate=ctx.sample_rate, channels=ctx.channels)
                if audio is None:
                    audio = stream
            if stream.duration and stream.time_base:
                entry["duration_s"] = round(float(stream.duration * stream.time_base), 3)
            streams.append(entry)
        duration = None
        if container.duration:
            duration = container.duration / av.time_base
        else:
            durations = [s["duration_s"] for s in streams if s.get("duration_s")]
            duration = max(durations) if durations else None
        video_codec = video.codec_context.name if video is not None else ""
        audio_codec = audio.codec_context.name if audio is not None else ""
        if audio_codec.startswith("mp3"):
            audio_codec = "mp3"
        codecs = {c for c in (video_codec, audio_codec) if c}
        name = _container_name(fmt_name, metadata, filename, codecs)
        raw = {
            "format": fmt_name,
            "bit_rate": container.bit_rate,
            "metadata": metadata,
            "streams": streams,
        }
        if video is None and audio is None:
            return MediaInfo(
                container=name,
                raw=raw,
                problem=_("无法识别为音视频：文件中没有可用的视频或音频流。"),
            )
        kind = "video" if video is not None else "audio"
        mime = (_VIDEO_MIME if kind == "video" else _AUDIO_MIME).get(name, f"{kind}/{name}")
        info = MediaInfo(
            kind=kind,
            mime_type=mime,
            container=name,
            video_codec=video_codec,
            audio_codec=audio_codec,
            duration_s=round(duration, 3) if duration else None,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            created_at=_parse_media_time(metadata.get("creation_time", "")),
            raw=raw,
        )
        info.playable = is_playable(kind, name, video_codec, audio_codec)
        stream = video if video is not None else audio
        failure = _decode_failure(container, stream)
        if failure is not None:
            if failure.code in ("invalid_data", "corrupt_stream", "no_frame"):
                info.problem = _("媒体流无法解码，文件可能已损坏。")
            else:
                info.problem = _("媒体流无法解码：%(reason)s。") % {"reason": failure.message}
            info.raw["error"] = failure.technical
    return info


def _decode_failure(container, stream):
    """Decode the first frame of the main stream (a header alone proves little); None if it does."""
    try:
        for packet in container.demux(stream):
            for _frame in packet.decode():
                return None
            if packet.dts is None and packet.size == 0:
                break
    except Exception as exc:
        return describe_media_error(exc)
    return media_failure("no_frame")


# --- poster ------------------------------------------------------------------


def make_poster(
    path: MediaSource, kind: str, *, width: int = POSTER_WIDTH, at_s: float = 1.0
) -> tuple[bytes, int, int]:
    """A JPEG about ``width`` px wide: a frame near ``at_s`` seconds, or the photo itself."""
    from PIL import Image, ImageOps

    if kind not in ("photo", "video"):
        raise ValueError(f"no poster for kind {kind!r}")  # a caller's mistake, not bad media
    try:
        if kind == "photo":
            with Image.open(_rewound(path)) as source:
                image = ImageOps.exif_transpose(source).convert("RGB")
        else:
            image = _video_frame(path, at_s)
    except MediaReadError:
        raise
    except Exception as exc:
        raise MediaReadError(describe_media_error(exc)) from exc
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue(), image.width, image.height


def _main_video_stream(container):
    """The first video stream that is not an attached cover picture."""
    import av

    for stream in container.streams.video:
        if not (stream.disposition & av.stream.Disposition.attached_pic):
            return stream
    raise MediaReadError(media_failure("no_frame"))


def _video_frame(path, at_s: float):
    import av

    with av.open(_rewound(path)) as container:
        stream = _main_video_stream(container)
        stream.thread_type = "AUTO"
        duration = container.duration / av.time_base if container.duration else None
        target = min(at_s, duration / 2) if duration else 0.0
        if target > 0:
            try:
                container.seek(int(target * av.time_base), any_frame=False, backward=True)
            except av.error.FFmpegError:
                container.seek(0)
        first = None
        for frame in container.decode(stream):
            if first is None:
                first = frame
            if frame.time is None or frame.time >= target - 0.001:
                return frame.to_image()
        if first is None:
            raise MediaReadError(media_failure("no_frame"))
        return first.to_image()


# --- proxy -------------------------------------------------------------------


def _proxy_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    if height > max_height:
        width = round(width * max_height / height)
        height = max_height
    return max(2, width - width % 2), max(2, height - height % 2)


def transcode_proxy(
    src: MediaSource,
    dst: str | os.PathLike,
    *,
    max_height: int = PROXY_MAX_HEIGHT,
    preset: str = "veryfast",
) -> tuple[int, int]:
    """H.264/AAC MP4 (faststart) at most ``max_height`` lines; returns (width, height).

    Raises ``MediaReadError`` (Chinese message, the library's words in ``failure.technical``).
    """
    try:
        return _transcode(src, dst, max_height=max_height, preset=preset)
    except Exception as exc:
        raise MediaReadError(describe_media_error(exc)) from exc


def _transcode(src, dst, *, max_height: int, preset: str) -> tuple[int, int]:
    import av

    with av.open(_rewound(src)) as source:
        vin = _main_video_stream(source)
        vin.thread_type = "AUTO"
        ain = source.streams.audio[0] if source.streams.audio else None
        width, height = _proxy_size(vin.codec_context.width, vin.codec_context.height, max_height)
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        with av.open(str(dst), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            vout = out.add_stream("libx264", rate=rate)
            vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
            vout.codec_context.time_base = vin.time_base or Fraction(1, 90000)
            vout.options = {"preset": preset, "crf": "26", "movflags": "+faststart"}
            aout = resampler = None
            if ain is not None:
                sample_rate = ain.codec_context.sample_rate or 48000
                layout = "mono" if (ain.codec_context.channels or 1) == 1 else "stereo"
                aout = out.add_stream("aac", rate=sample_rate, layout=layout)
                resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
            streams = [vin] + ([ain] if ain is not None else [])
            next_pts = 0
            for packet in source.demux(*streams):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    continue  # a damaged packet: skip it, keep the rest
                for frame in frames:
                    if packet.stream is vin:
                        if frame.pts is None:
                            frame.pts, frame.time_base = next_pts, vout.codec_context.time_base
                        next_pts = frame.pts + 1
                        frame = frame.reformat(width=width, height=height, format="yuv420p")
                        out.mux(vout.encode(frame))
                    else:
                        for resampled in resampler.resample(frame):
                            out.mux(aout.encode(resampled))
            out.mux(vout.encode(None))
            if aout is not None:
                for resampled in resampler.resample(None):
                    out.mux(aout.encode(resampled))
                out.mux(aout.encode(None))
    return width, height
