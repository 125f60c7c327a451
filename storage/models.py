"""What the vault holds, with checksums that carry their algorithm and size."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.digests import Digests
from storage.choices import FixityStatus, ObjectArea


class StoredObject(models.Model):
    """One immutable blob in the vault. Never updated except its fixity summary."""

    area = models.CharField(_("区域"), max_length=16, choices=ObjectArea.choices)
    backend = models.CharField(_("存储后端"), max_length=32)
    key = models.CharField(_("对象键"), max_length=200, unique=True)
    sha256 = models.CharField("SHA-256", max_length=64)
    sm3 = models.CharField("SM3", max_length=64)
    size = models.BigIntegerField(_("大小（字节）"))
    stored_at = models.DateTimeField(_("入库时间"))
    write_verified = models.BooleanField(_("写后复核"), default=False)
    last_fixity_status = models.CharField(
        _("最近校验结果"), max_length=16, choices=FixityStatus.choices, default=FixityStatus.NOT_RUN
    )
    last_fixity_at = models.DateTimeField(_("最近校验时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("存储对象")
        verbose_name_plural = _("存储对象")
        constraints = [models.UniqueConstraint(fields=["area", "sha256"], name="uniq_area_sha256")]
        indexes = [models.Index(fields=["last_fixity_at"], name="storage_fixity_due_idx")]

    def __str__(self) -> str:
        return self.key

    @property
    def digests(self) -> Digests:
        return Digests(sha256=self.sha256, sm3=self.sm3, size=self.size)


class FixityCheck(models.Model):
    """Every check leaves a result (promise 4): pass, fail or not-run."""

    stored_object = models.ForeignKey(StoredObject, on_delete=models.PROTECT, related_name="fixity_checks")
    checked_at = models.DateTimeField(_("校验时间"))
    status = models.CharField(_("结果"), max_length=16, choices=FixityStatus.choices)
    detail = models.TextField(_("说明"), blank=True)
    actual_sha256 = models.CharField(max_length=64, blank=True)
    actual_sm3 = models.CharField(max_length=64, blank=True)
    actual_size = models.BigIntegerField(null=True, blank=True)
    trigger = models.CharField(_("触发方式"), max_length=16, default="scheduled")

    class Meta:
        verbose_name = _("完整性校验")
        verbose_name_plural = _("完整性校验")
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["status", "-checked_at"], name="fixity_status_idx")]

    def __str__(self) -> str:
        return f"{self.stored_object_id} {self.status}"
