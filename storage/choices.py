from django.db import models
from django.utils.translation import gettext_lazy as _


class FixityStatus(models.TextChoices):
    PASS = "pass", _("通过")
    FAIL = "fail", _("失败")
    NOT_RUN = "not_run", _("未执行")


class ObjectArea(models.TextChoices):
    ORIGINAL = "originals", _("原始文件")
    DERIVATIVE = "derivatives", _("衍生资料")
