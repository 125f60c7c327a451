"""The custody log (ACC-5): an append-only Merkle transparency log (docs/custody-log.md).

Rows and what guards them (the database refuses UPDATE/DELETE, see the migrations):

* ``Event`` — one action; written inside the business transaction (atomic with the change).
  Its number (``pk``) is the row's; its position in the tree (``Leaf``) is assigned after
  commit by the sequencer, so no appender waits for another.
* ``EventSubject`` — every subject an event concerns (a recording and its upload, …).
* ``EventDetails`` — the details, in their own row with the salt of their digest. The one
  change the database allows is lawful erasure (custody.services.erase_details).
* ``PendingEvent`` — the sequencer's queue (not guarded: a row removed from it leaves an
  event without a leaf, which verification reports).
* ``Leaf`` / ``TreeNode`` — leaf positions and the perfect-subtree hashes of RFC 9162.
* ``Checkpoint`` / ``Cosignature`` — the signed tree heads and the witnesses' co-signatures.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import CheckStatus
from custody.choices import EventCode


class Event(models.Model):
    event_uid = models.UUIDField(_("事件标识"), unique=True, default=uuid.uuid4, editable=False)
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
    # the primary subject (shown in lists); every subject, with the index that finds a subject's
    # events, is in EventSubject
    subject_type = models.CharField(_("对象类型"), max_length=32)
    subject_id = models.CharField(_("对象编号"), max_length=64)
    details_digest = models.CharField(_("详情摘要"), max_length=64)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("保管链事件")
        verbose_name_plural = _("保管链事件")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["actor", "id"], name="custody_actor_idx"),
            # the audit log browser pages by id under each filter (keyset paging, 10M events)
            models.Index(fields=["action", "id"], name="custody_action_idx"),
            models.Index(fields=["actor_name", "id"], name="custody_actor_name_idx"),
            models.Index(fields=["occurred_at"], name="custody_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.subject_type}:{self.subject_id}"

    @property
    def details(self) -> dict:
        """The details as recorded ({} once lawfully erased; ``details_erased`` says so)."""
        try:
            return self.details_row.content or {}
        except EventDetails.DoesNotExist:
            return {}

    @property
    def details_erased(self) -> bool:
        try:
            return self.details_row.erased_by is not None
        except EventDetails.DoesNotExist:
            return False


class EventSubject(models.Model):
    event = models.ForeignKey(
        Event, on_delete=models.DO_NOTHING, db_constraint=False, related_name="subject_links"
    )
    subject_type = models.CharField(_("对象类型"), max_length=32)
    subject_id = models.CharField(_("对象编号"), max_length=64)

    class Meta:
        verbose_name = _("事件对象")
        verbose_name_plural = _("事件对象")
        # record_event writes each subject once; no unique index to maintain on every append
        indexes = [models.Index(fields=["subject_type", "subject_id", "event"], name="custody_link_subject_idx")]

    def __str__(self) -> str:
        return f"{self.subject_type}:{self.subject_id} of #{self.event_id}"


class EventDetails(models.Model):
    event = models.OneToOneField(
        Event, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="details_row"
    )
    content = models.JSONField(_("详情"), default=dict)
    salt = models.CharField(_("摘要盐值"), max_length=64, blank=True)  # hex; "" once erased
    erased_by = models.BigIntegerField(_("删除事件"), null=True, blank=True)
    erased_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事件详情")
        verbose_name_plural = _("事件详情")

    def __str__(self) -> str:
        return f"details of #{self.event_id}"


class PendingEvent(models.Model):
    event = models.OneToOneField(
        Event, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        verbose_name = _("待入树事件")
        verbose_name_plural = _("待入树事件")

    def __str__(self) -> str:
        return f"pending #{self.event_id}"


class Leaf(models.Model):
    index = models.BigIntegerField(_("叶子序号"), primary_key=True)
    event = models.OneToOneField(
        Event, on_delete=models.DO_NOTHING, db_constraint=False, related_name="leaf"
    )
    integrated_at = models.DateTimeField(_("入树时间"))

    class Meta:
        verbose_name = _("日志叶子")
        verbose_name_plural = _("日志叶子")
        ordering = ["index"]

    def __str__(self) -> str:
        return f"leaf {self.index} = #{self.event_id}"


class TreeNode(models.Model):
    """Root of the perfect subtree of 2**level leaves starting at index * 2**level."""

    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)  # lower-case hex SHA-256

    class Meta:
        verbose_name = _("默克尔树节点")
        verbose_name_plural = _("默克尔树节点")
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="custody_node_once")]

    def __str__(self) -> str:
        return f"node ({self.level}, {self.index})"


class Checkpoint(models.Model):
    size = models.BigIntegerField(_("树大小"), unique=True)
    root = models.CharField(_("根哈希"), max_length=64)  # hex
    note = models.TextField(_("签名检查点"))
    created_at = models.DateTimeField(_("签发时间"))
    trigger = models.CharField(_("触发方式"), max_length=16)

    class Meta:
        verbose_name = _("检查点")
        verbose_name_plural = _("检查点")
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Cosignature(models.Model):
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.DO_NOTHING, db_constraint=False, related_name="cosignatures"
    )
    witness_name = models.CharField(_("见证人"), max_length=200)
    key_id = models.CharField(_("密钥标识"), max_length=8)  # hex
    signed_at = models.DateTimeField(_("联署时间"))  # the time inside the cosignature
    line = models.TextField(_("联署签名行"))
    received_at = models.DateTimeField(_("收到时间"))

    class Meta:
        verbose_name = _("见证联署")
        verbose_name_plural = _("见证联署")
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness_name", "key_id"], name="custody_cosign_once"),
        ]

    def __str__(self) -> str:
        return f"{self.witness_name} on {self.checkpoint_id}"


class ChainVerification(models.Model):
    """One re-computation of the whole log and what it found (pass / fail / not-run)."""

    checked_at = models.DateTimeField(_("校验时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("校验人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_name = models.CharField(_("校验人姓名"), max_length=100)
    trigger = models.CharField(_("触发方式"), max_length=16)  # command / api / scheduled
    status = models.CharField(_("结果"), max_length=16, choices=CheckStatus.choices)
    events_checked = models.BigIntegerField(_("校验事件数"), default=0)
    last_seq = models.BigIntegerField(_("树大小"), null=True, blank=True)  # leaves covered
    last_hash = models.CharField(_("根哈希"), max_length=64, blank=True)  # root at that size
    first_broken_seq = models.BigIntegerField(_("第一个有问题的事件"), null=True, blank=True)
    findings = models.JSONField(_("发现的问题"), default=list, blank=True)
    detail = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("保管链校验")
        verbose_name_plural = _("保管链校验")
        ordering = ["-checked_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {self.status}"
