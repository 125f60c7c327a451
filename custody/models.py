"""The custody log (ACC-5): append-only, hash-chained, guarded by triggers.

There is deliberately no update, delete or prune path anywhere in the code;
the database refuses UPDATE and DELETE on this table (see migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import CheckStatus
from custody.choices import EventCode

GENESIS_HASH = "0" * 64


class Event(models.Model):
    seq = models.BigIntegerField(_("序号"), unique=True)
    occurred_at = models.DateTimeField(_("发生时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=100)
    action = models.CharField(_("动作"), max_length=64, choices=EventCode.choices)
    subject_type = models.CharField(_("对象类型"), max_length=32)
    subject_id = models.CharField(_("对象编号"), max_length=64)
    details = models.JSONField(_("详情"), default=dict)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    prev_hash = models.CharField(_("前序哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("保管链事件")
        verbose_name_plural = _("保管链事件")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "seq"], name="custody_subject_idx"),
            models.Index(fields=["actor", "seq"], name="custody_actor_idx"),
            # the audit log browser pages by seq under each filter (keyset paging, 10M events)
            models.Index(fields=["action", "seq"], name="custody_action_idx"),
            models.Index(fields=["actor_name", "seq"], name="custody_actor_name_idx"),
            models.Index(fields=["occurred_at"], name="custody_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id}"


class ChainVerification(models.Model):
    """One re-computation of the whole hash chain and what it found (pass / fail / not-run)."""

    checked_at = models.DateTimeField(_("校验时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("校验人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_name = models.CharField(_("校验人姓名"), max_length=100)
    trigger = models.CharField(_("触发方式"), max_length=16)  # command / api / scheduled
    status = models.CharField(_("结果"), max_length=16, choices=CheckStatus.choices)
    events_checked = models.BigIntegerField(_("校验事件数"), default=0)
    last_seq = models.BigIntegerField(_("最后序号"), null=True, blank=True)
    last_hash = models.CharField(_("最后哈希"), max_length=64, blank=True)
    first_broken_seq = models.BigIntegerField(_("第一个断开的环节"), null=True, blank=True)
    findings = models.JSONField(_("发现的问题"), default=list, blank=True)
    detail = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("保管链校验")
        verbose_name_plural = _("保管链校验")
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {self.status}"
