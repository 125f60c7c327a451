from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    VIEW = "view", _("查看")
    PLAY = "play", _("播放")
    DOWNLOAD = "download", _("下载")
    COPY = "copy", _("复制")
    EXPORT = "export", _("导出")
    # A poster, thumbnail or proxy read on its own (the entry names the derivative kind).
    DERIVATIVE_VIEW = "derivative_view", _("查看衍生资料")
