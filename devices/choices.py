from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    BODY_CAMERA = "body_camera", _("执法记录仪")
    CAMERA = "camera", _("照相机")
    RECORDER = "recorder", _("录音笔")
    HANDHELD = "handheld", _("移动执法终端")
    FIXED = "fixed", _("固定监控")
    DRONE = "drone", _("无人机")


class DeviceStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("在库")
    ISSUED = "issued", _("已配发")
    REPAIR = "repair", _("维修中")
    LOST = "lost", _("遗失")
    RETIRED = "retired", _("已报废")


class ClockSource(models.TextChoices):
    """Where a device's clock was compared with the platform's (DEV-4)."""

    DOCK = "dock", _("采集站接入时测量")
    PRE_USE = "pre_use", _("使用前检查")
    MANUAL = "manual", _("人工核对")
