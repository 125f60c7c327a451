"""Bytes in: resumable uploads (tus) and the ingest items they become."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.digests import Digests
from ingest.choices import IngestSource, IngestStatus, UploadStatus


class Upload(models.Model):
    """One tus upload. Its bytes live in the vault's staging area until complete."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads"
    )
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    length = models.BigIntegerField(_("声明大小"))
    offset = models.BigIntegerField(_("已接收"), default=0)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    raw_filename = models.TextField(_("原样文件名"), blank=True)
    metadata = models.JSONField(_("元数据"), default=dict, blank=True)
    # tus creation extension: HEAD answers the Upload-Metadata header exactly as sent.
    metadata_header = models.TextField(_("原样元数据请求头"), blank=True)
    # Upload-Metadata keys the platform does not know: the client's own, kept, not interpreted.
    client_metadata = models.JSONField(_("客户端附加信息"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=UploadStatus.choices, default=UploadStatus.RECEIVING
    )
    source = models.CharField(
        _("来源"), max_length=16, choices=IngestSource.choices, default=IngestSource.WEB
    )
    completed_at = models.DateTimeField(_("接收完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("上传")
        verbose_name_plural = _("上传")
        indexes = [models.Index(fields=["status", "expires_at"], name="upload_status_exp_idx")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.length})"

    @property
    def staging_name(self) -> str:
        return f"tus-{self.id.hex}"


class IngestItem(models.Model):
    """A file on its way into the catalogue; status visible in UI and API."""

    upload = models.OneToOneField(
        Upload, null=True, blank=True, on_delete=models.PROTECT, related_name="item"
    )
    source = models.CharField(
        _("来源"), max_length=16, choices=IngestSource.choices, default=IngestSource.WEB
    )
    filename = models.CharField(_("文件名"), max_length=255)
    raw_filename = models.TextField(_("原样文件名"), blank=True)
    size = models.BigIntegerField(_("大小"), default=0)
    metadata = models.JSONField(_("上传时填写的信息"), default=dict, blank=True)
    client_metadata = models.JSONField(_("客户端附加信息"), default=dict, blank=True)
    declared_sha256 = models.CharField(_("客户端声明的 SHA-256"), max_length=64, blank=True)
    # Digests computed while the bytes were written (ING-2), recorded before the
    # upload is acknowledged; the store step commits the staging file under them.
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    sm3 = models.CharField("SM3", max_length=64, blank=True)
    staging_name = models.CharField(_("暂存文件"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=IngestStatus.choices, default=IngestStatus.RECEIVED
    )
    status_message = models.CharField(_("状态说明"), max_length=500, blank=True)
    steps = models.JSONField(_("处理步骤"), default=list, blank=True)
    stored_object = models.ForeignKey(
        "storage.StoredObject",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ingest_items",
    )
    recording = models.ForeignKey(
        "recordings.Recording",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ingest_items",
    )
    duplicate_of = models.ForeignKey(
        "recordings.Recording",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicate_items",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ingest_items"
    )
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    finished_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("入库项")
        verbose_name_plural = _("入库项")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="ingest_owner_idx"),
            models.Index(fields=["status", "-created_at"], name="ingest_status_idx"),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def digests(self) -> Digests:
        return Digests(sha256=self.sha256, sm3=self.sm3, size=self.size)

    @property
    def is_final(self) -> bool:
        return self.status in (IngestStatus.STORED, IngestStatus.FLAGGED, IngestStatus.FAILED)
