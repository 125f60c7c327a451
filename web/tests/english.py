"""Finding English in text people read: Latin-alphabet words outside an allow-list.

The allow-list holds what Chinese pages legitimately show in Latin letters: codes of
algorithms, formats and codecs, units, and identifiers that are data (file names, device
serials, department codes, digests, request ids). Everything else is a finding.
"""

from __future__ import annotations

import re

# Codes and units a Chinese page names as they are.
ALLOWED_WORDS = frozenset(
    {
        # digests and signatures
        "SHA-256",
        "SM3",
        # containers, image formats, codecs
        "MP4",
        "MOV",
        "3GP",
        "WebM",
        "MPEG",
        "MJPEG",
        "FLV",
        "ASF",
        "Ogg",
        "Opus",
        "Vorbis",
        "FLAC",
        "ALAC",
        "PCM",
        "BMP",
        "TIFF",
        "M4A",
        "MP3",
        "AVI",
        "MKV",
        "WAV",
        "AMR",
        "JPEG",
        "JPG",
        "PNG",
        "PDF",
        "GIF",
        "WebP",
        "WEBP",
        "HEIC",
        "H.264",
        "H.265",
        "HEVC",
        "AAC",
        "moov",
        # interfaces and network
        "API",
        "IP",
        # technical terms Chinese interfaces keep as they are (browsers say "Cookie" too)
        "Cookie",
        # units
        "KB",
        "MB",
        "GB",
        "TB",
    }
)

# Identifiers that are data, not language (matched against a whole token).
ALLOWED_PATTERNS = (
    # a file name with a media or document extension: DSJ-A0012345_10020301_20260101_0001.MP4
    re.compile(
        r"[\w.\-]+\.(mp4|mov|m4a|mp3|wav|aac|amr|avi|mkv|3gp|webm|flv|ts|mts|jpg|jpeg|png"
        r"|heic|gif|bmp|tif|tiff|webp|pdf|bin|dat)",
        re.IGNORECASE,
    ),
    # serials, models and codes in capitals with dashes: DSJ-A0012345, DEMO-DIST-JC, LY-200
    re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+"),
    # serial-like codes: capitals then digits, e.g. DSJA0012345, U00012
    re.compile(r"[A-Z]{1,5}[0-9][A-Z0-9]*"),
    # digests, digest prefixes and request ids (lower-case hex)
    re.compile(r"[0-9a-f]{8,}"),
)

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_LATIN = re.compile(r"[A-Za-z]")


def is_allowed(token: str) -> bool:
    return token in ALLOWED_WORDS or any(p.fullmatch(token) for p in ALLOWED_PATTERNS)


def english_words(text: str, *, also_allowed=()) -> list[str]:
    """Latin-alphabet words in ``text`` that are neither codes, units nor data identifiers."""
    extra = set(also_allowed)
    found = []
    for match in _TOKEN.finditer(text or ""):
        token = match.group().rstrip(".-_")
        if not _LATIN.search(token) or token in extra or is_allowed(token):
            continue
        found.append(token)
    return found


def in_context(text: str, word: str, width: int = 30) -> str:
    """The word with some text around it, on one line (for reports)."""
    at = text.find(word)
    if at < 0:
        return word
    start, end = max(0, at - width), min(len(text), at + len(word) + width)
    return " ".join(text[start:end].split())
