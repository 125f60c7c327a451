from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import CheckStatus

# Fixity results use the platform-wide check vocabulary.
FixityStatus = CheckStatus


class ObjectArea(models.TextChoices):
    ORIGINAL = "originals", _("原始文件")
    DERIVATIVE = "derivatives", _("衍生资料")
