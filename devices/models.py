"""Recording devices (minimal; DEV-1..5 extend this)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from devices.choices import DeviceKind, DeviceStatus


class Device(models.Model):
    serial = models.CharField(_("设备序列号"), max_length=64, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DeviceKind.choices, default=DeviceKind.BODY_CAMERA)
    model_name = models.CharField(_("型号"), max_length=64, blank=True)
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("所属机构"), on_delete=models.PROTECT, related_name="devices")
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("使用人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="devices",
    )
    status = models.CharField(_("状态"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.IN_STOCK)

    class Meta:
        verbose_name = _("记录设备")
        verbose_name_plural = _("记录设备")
        ordering = ["serial"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}"
