from django.db import models
from django.utils.translation import gettext_lazy as _


class UploadStatus(models.TextChoices):
    RECEIVING = "receiving", _("接收中")
    COMPLETE = "complete", _("已接收完整")
    TERMINATED = "terminated", _("已取消")
    EXPIRED = "expired", _("已过期")
    REJECTED = "rejected", _("已拒绝")


class IngestStatus(models.TextChoices):
    RECEIVED = "received", _("已接收")
    PROCESSING = "processing", _("处理中")
    STORED = "stored", _("已入库")
    FLAGGED = "flagged", _("已入库（有异常）")
    FAILED = "failed", _("失败")


class IngestSource(models.TextChoices):
    WEB = "web", _("网页上传")
    API = "api", _("接口上传")
    DOCK = "dock", _("采集站")
    SEED = "seed", _("演示数据")


class UploadEndReason(models.TextChoices):
    """Why an upload ended without a record: the ``reason`` codes of ingest's upload events."""

    CLIENT = "client", _("上传人取消")
    EXPIRED = "expired", _("超时未续传，已过期")
    DECLARED_SHA256_MISMATCH = (
        "declared_sha256_mismatch",
        _("收到内容的 SHA-256 与上传前声明的不一致"),
    )
