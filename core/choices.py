"""Vocabulary shared across apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckStatus(models.TextChoices):
    """The result of any check (promise 4): "could not run" is a result too."""

    PASS = "pass", _("通过")
    FAIL = "fail", _("失败")
    NOT_RUN = "not_run", _("未执行")


class CheckTrigger(models.TextChoices):
    """Who started a check (fixity, chain verification): the ``trigger`` values services write.

    The ``trigger`` of every stored check result and of its custody event is one of these.
    """

    SCHEDULED = "scheduled", _("定时任务")
    MANUAL = "manual", _("人工执行")
    COMMAND = "command", _("管理命令")
    API = "api", _("接口调用")
    WRITE = "write", _("写入后复核")
    BUNDLE = "bundle", _("生成证明包时")
