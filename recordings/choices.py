from django.db import models
from django.utils.translation import gettext_lazy as _


class MediaKind(models.TextChoices):
    VIDEO = "video", _("视频")
    AUDIO = "audio", _("音频")
    PHOTO = "photo", _("照片")
    UNKNOWN = "unknown", _("无法识别")


class TimeSource(models.TextChoices):
    MEDIA = "media", _("媒体文件")
    FILENAME = "filename", _("文件名")
    MANUAL = "manual", _("人工填写")
    UPLOAD = "upload", _("上传时间（无拍摄时间）")


class LateReason(models.TextChoices):
    CONTINUOUS_DUTY = "continuous_duty", _("连续执法")
    OFF_SITE = "off_site", _("异地执法")
    REMOTE_AREA = "remote_area", _("偏远地区")
    DEVICE_FAULT = "device_fault", _("设备故障")
    OTHER = "other", _("其他")


class DerivativeKind(models.TextChoices):
    POSTER = "poster", _("封面图")
    PROXY = "proxy", _("可播放副本（转码）")
    CLIP = "clip", _("剪辑片段")
    REDACTED = "redacted", _("脱敏副本")


class MarkerKind(models.TextChoices):
    """What a marker at a second of a recording says (REC-4, REC-6, REC-8)."""

    CONTENT_POINT = "content_point", _("记录内容要点")
    RESUME_STATEMENT = "resume_statement", _("恢复记录时说明中断原因")
    NOTE = "note", _("备注")
