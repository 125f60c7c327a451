"""Vocabulary shared across apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckStatus(models.TextChoices):
    """The result of any check (promise 4): "could not run" is a result too."""

    PASS = "pass", _("通过")
    FAIL = "fail", _("失败")
    NOT_RUN = "not_run", _("未执行")
