from django.db import models
from django.utils.translation import gettext_lazy as _


class TokenScope(models.TextChoices):
    """What an API token may be used for (ACC-6): an integration gets only what it needs."""

    READ = "read", _("查询目录与入库情况")
    CONTENT = "content", _("播放、下载原始文件")
    UPLOAD = "upload", _("上传记录")
    AUDIT = "audit", _("保管链校验与检查点")
    INTEGRATE = "integrate", _("对接推送")


ALL_SCOPES = tuple(TokenScope.values)
