"""tus 1.0 protocol details: headers, metadata and checksum parsing (no Django views here)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from django.utils.translation import gettext as _

from ingest.errors import InvalidUploadError, UnsupportedChecksumError

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
CHECKSUM_ALGORITHMS = ("sha256", "sha1", "md5")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
# gunicorn refuses longer header fields (limit_request_field_size); other servers may not.
MAX_METADATA_HEADER = 8190


def parse_metadata(header: str) -> dict[str, bytes]:
    """``Upload-Metadata: key base64,key2 base64`` → {key: raw bytes} (bytes may be any encoding).

    The header is kept as sent and answered back on HEAD, so it must be printable ASCII
    (the spec says keys SHOULD be ASCII; values are Base64) and of a bounded length.
    """
    result: dict[str, bytes] = {}
    if not header or not header.strip():
        return result
    if len(header) > MAX_METADATA_HEADER:
        raise InvalidUploadError(
            _("Upload-Metadata 过长（最多 %(limit)s 个字符）。") % {"limit": MAX_METADATA_HEADER}
        )
    if any(not (" " <= ch <= "~") for ch in header):
        raise InvalidUploadError(_("Upload-Metadata 只能包含可打印的 ASCII 字符。"))
    for pair in header.split(","):
        pair = pair.strip()
        if not pair:
            continue
        parts = pair.split(" ")
        if len(parts) > 2 or not parts[0]:
            raise InvalidUploadError(_("Upload-Metadata 格式无效。"))
        key = parts[0]
        if key in result:
            raise InvalidUploadError(_("Upload-Metadata 中的键重复：%(key)s。") % {"key": key[:40]})
        try:
            result[key] = base64.b64decode(parts[1], validate=True) if len(parts) == 2 else b""
        except (binascii.Error, ValueError):
            raise InvalidUploadError(
                _("Upload-Metadata 中“%(key)s”的值不是有效的 Base64。") % {"key": key[:40]}
            ) from None
    return result


def parse_checksum(header: str) -> tuple[str, bytes] | None:
    """``Upload-Checksum: sha256 <base64>`` → (algorithm, digest bytes)."""
    if not header:
        return None
    parts = header.strip().split(" ")
    if len(parts) != 2:
        raise InvalidUploadError(_("Upload-Checksum 格式无效。"))
    algorithm, value = parts[0].lower(), parts[1]
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise UnsupportedChecksumError(
            _("不支持的校验算法：%(alg)s（支持 %(supported)s）。")
            % {"alg": algorithm[:20], "supported": ", ".join(CHECKSUM_ALGORITHMS)}
        )
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidUploadError(_("Upload-Checksum 的值不是有效的 Base64。")) from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise InvalidUploadError(_("Upload-Checksum 的长度与算法不符。"))
    return algorithm, digest


def parse_non_negative(value: str | None, header: str) -> int:
    if value is None or value.strip() == "":
        raise InvalidUploadError(_("缺少请求头 %(header)s。") % {"header": header})
    value = value.strip()
    if not value.isdigit() or len(value) > 19:
        raise InvalidUploadError(_("请求头 %(header)s 必须是非负整数。") % {"header": header})
    return int(value)
