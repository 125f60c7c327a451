"""The access register (查阅登记, ACC-2): every view, play and download, and every byte served.

Both tables are append-only (database guards, migration 0005): an entry is written once when
an access begins; the bytes served under it are counted in ``ServedRange`` rows, one per
response, so counting never needs an UPDATE.
"""

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from access.choices import AccessAction


class AccessEntry(models.Model):
    occurred_at = models.DateTimeField(_("时间"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_entries")
    person_name = models.CharField(_("查阅人"), max_length=100)
    recording = models.ForeignKey("recordings.Recording", on_delete=models.PROTECT, related_name="access_entries")
    action = models.CharField(_("方式"), max_length=16, choices=AccessAction.choices)
    purpose = models.CharField(_("事由"), max_length=500, blank=True)
    approval_ref = models.CharField(_("审批依据"), max_length=100, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    client = models.CharField(_("客户端"), max_length=200, blank=True)
    # One page view's play pass or derivative view (a hash of its token): registered once,
    # however many requests follow.
    play_ref = models.CharField(_("播放标识"), max_length=32, blank=True)
    # Which derivative was read (poster, proxy …); empty for the original.
    derivative_kind = models.CharField(_("衍生资料类型"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("查阅登记")
        verbose_name_plural = _("查阅登记")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "play_ref"], condition=~models.Q(play_ref=""), name="uniq_access_play_ref"
            ),
        ]
        indexes = [
            models.Index(fields=["recording", "-occurred_at"], name="access_rec_idx"),
            models.Index(fields=["person", "-occurred_at"], name="access_person_idx"),
            # the audit register pages by id, newest first, under each filter (keyset paging)
            models.Index(fields=["person", "-id"], name="access_person_id_idx"),
            models.Index(fields=["recording", "-id"], name="access_rec_id_idx"),
            models.Index(fields=["action", "-id"], name="access_action_id_idx"),
            models.Index(fields=["occurred_at"], name="access_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} {self.get_action_display()} {self.recording_id}"

    @property
    def bytes_served(self) -> int:
        """Bytes served under this entry, summed over its ``ServedRange`` rows."""
        return self.served_ranges.aggregate(total=Sum("length"))["total"] or 0


class ServedRange(models.Model):
    """One response's bytes, tied to the access entry they belong to (append-only).

    ``length`` is what the response was built to send (its Content-Length); a client that
    disconnects early may have received fewer.
    """

    entry = models.ForeignKey(AccessEntry, on_delete=models.PROTECT, related_name="served_ranges")
    occurred_at = models.DateTimeField(_("时间"))
    first_byte = models.BigIntegerField(_("起始字节"))
    last_byte = models.BigIntegerField(_("结束字节"))
    length = models.BigIntegerField(_("字节数"))
    whole = models.BooleanField(_("完整文件"), default=False)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("已提供字节")
        verbose_name_plural = _("已提供字节")
        indexes = [models.Index(fields=["entry"], name="access_served_entry_idx")]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.first_byte}-{self.last_byte}"
