"""The access register (查阅登记, ACC-2): every view, play and download."""

from django.conf import settings
from django.db import models
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
    # One page view's play (a hash of its play token): registered once, however many Range requests follow.
    play_ref = models.CharField(_("播放标识"), max_length=32, blank=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.person_name} {self.get_action_display()} {self.recording_id}"
