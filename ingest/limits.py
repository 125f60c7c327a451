"""What the platform accepts at all, checked before any byte is kept (ING-6)."""

from __future__ import annotations

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from ingest.errors import EmptyUploadError, UploadTooLargeError


def check_not_empty(length: int) -> None:
    if length == 0:
        # ING-6 choice: a zero-byte file has no bytes to keep, so it is rejected whole
        # with a clear message rather than stored as an empty "original".
        raise EmptyUploadError(
            _("文件为空（0 字节），没有可保存的内容。请检查记录仪导出的文件后重新上传。")
        )


def check_length(length: int) -> None:
    """A declared upload size the platform can keep as an original: not empty, not too big."""
    check_not_empty(length)
    if length > settings.UPLOAD_MAX_BYTES:
        raise UploadTooLargeError(
            _("文件过大：%(size)s，单个文件上限为 %(limit)s。")
            % {"size": filesizeformat(length), "limit": filesizeformat(settings.UPLOAD_MAX_BYTES)}
        )
