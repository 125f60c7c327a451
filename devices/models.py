"""Recording devices (minimal; DEV-1..5 extend this)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from devices.choices import ClockSource, DeviceKind, DeviceStatus


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


class ClockReading(models.Model):
    """A device's clock compared with the platform's at ``measured_at`` (DEV-4): ``offset_s`` is
    device time minus platform time (positive: the device is ahead). Recordings made on the
    device are corrected by the reading nearest their time (recordings.clock)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="clock_readings")
    measured_at = models.DateTimeField(_("测量时间"))
    offset_s = models.FloatField(_("时钟偏差（秒）"))
    source = models.CharField(_("测量方式"), max_length=16, choices=ClockSource.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = _("设备时钟偏差")
        verbose_name_plural = _("设备时钟偏差")
        indexes = [models.Index(fields=["device", "measured_at"], name="clock_device_time_idx")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.offset_s:+.0f}s @ {self.measured_at:%Y-%m-%d %H:%M}"
