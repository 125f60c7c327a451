"""The access register (查阅登记, ACC-2): every view, play and download, and every byte served.

Both tables are append-only (database guards, migration 0005): an entry is written once when
an access begins; the bytes served under it are counted in ``ServedRange`` rows, one per
response, so counting never needs an UPDATE.
"""

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from access.choices import (
    AccessAction,
    AccessProfile,
    ApproverRole,
    Confidentiality,
    FindingKind,
    FindingStatus,
    Purpose,
    RequestKind,
    RequestStatus,
    purpose_line,
)


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
    # The rule (access.rules) or grant that allowed it, fixed when the access began. Nullable
    # so that SQLite adds the column in place: a table rebuild would drop the append-only
    # triggers (migration 0005). Entries older than the rules table have none.
    basis = models.CharField(_("授权规则"), max_length=32, null=True, blank=True)  # noqa: DJ001

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
    def basis_label(self) -> str:
        """The rule the access was allowed by, in words (access.rules)."""
        from access.rules import RULES_BY_CODE

        rule = RULES_BY_CODE.get(self.basis or "")
        return str(rule.label) if rule else ""

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
    # The entry's bytes so far including this response (access.services.served_so_far); null on
    # rows written before it existed. Nullable so SQLite adds it in place (append-only triggers).
    served_after = models.BigIntegerField(_("累计字节数"), null=True, blank=True)

    class Meta:
        verbose_name = _("已提供字节")
        verbose_name_plural = _("已提供字节")
        indexes = [
            models.Index(fields=["entry"], name="access_served_entry_idx"),
            models.Index(fields=["entry", "served_after"], name="access_served_total_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.first_byte}-{self.last_byte}"


class DepartmentProfile(models.Model):
    """Which jurisdiction profile a department's access requests follow (access.profiles);
    a department without one follows the national default."""

    department = models.OneToOneField("orgs.Department", on_delete=models.CASCADE, related_name="access_profile")
    profile = models.CharField(_("审批规则"), max_length=16, choices=AccessProfile.choices)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("设置时间"))

    class Meta:
        verbose_name = _("调阅审批规则")
        verbose_name_plural = _("调阅审批规则")

    def __str__(self) -> str:
        return f"{self.department_id}: {self.profile}"


class ConfidentialityMark(models.Model):
    """A record marked commercial secret or personal privacy (ACC-3): the current mark; its
    history (who marked or cleared, why, when) is in the custody log."""

    recording = models.OneToOneField("recordings.Recording", on_delete=models.PROTECT, related_name="confidentiality")
    category = models.CharField(_("保密类别"), max_length=24, choices=Confidentiality.choices)
    reason = models.CharField(_("标记理由"), max_length=500)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("保密标记")
        verbose_name_plural = _("保密标记")

    def __str__(self) -> str:
        return f"{self.recording_id}: {self.category}"


class AccessRequest(models.Model):
    """A request to view, play, download or copy records beyond one's standing rules, to
    provide them outside (对外提供), or a party's copy application (ACC-1, ACC-4). Approved and
    inside its window, its items are grants (``access.rules``); revoked or expired, nothing."""

    kind = models.CharField(_("申请类型"), max_length=16, choices=RequestKind.choices, default=RequestKind.INTERNAL)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests")
    requester_name = models.CharField(_("申请人"), max_length=100)
    department = models.ForeignKey(
        "orgs.Department", verbose_name=_("记录所属部门"), on_delete=models.PROTECT, related_name="+"
    )
    case_number = models.CharField(_("案号"), max_length=100, blank=True)
    # "all recordings of this activity" (REC-9): the activity the request named as its scope
    activity = models.ForeignKey("activities.Activity", verbose_name=_("执法活动"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    purpose_code = models.CharField(_("事由类别"), max_length=24, choices=Purpose.choices)
    purpose_text = models.CharField(_("事由说明"), max_length=500)
    actions = models.JSONField(_("申请方式"), default=list)
    allow_play = models.BooleanField(default=False)
    allow_download = models.BooleanField(default=False)
    allow_copy = models.BooleanField(default=False)
    include_confidential = models.BooleanField(_("含保密记录"), default=False)
    valid_from = models.DateTimeField(_("有效期起"))
    valid_until = models.DateTimeField(_("有效期至"))
    # the route, fixed when the request is made (access.profiles)
    profile = models.CharField(_("审批规则"), max_length=16, choices=AccessProfile.choices)
    relation = models.CharField(_("申请人与记录的关系"), max_length=16)
    approver_role = models.CharField(_("审批人"), max_length=24, choices=ApproverRole.choices)
    approver_unit = models.ForeignKey(
        "orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approver_department = models.ForeignKey("orgs.Department", on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(_("依据"), max_length=200)
    # external provision and party copies
    recipient = models.CharField(_("提供对象"), max_length=200, blank=True)
    consult_superior = models.BooleanField(_("征求上级部门意见"), default=False)
    consult_note = models.CharField(_("上级部门意见"), max_length=500, blank=True)
    party_application = models.ForeignKey(
        "storage.StoredObject", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.CharField(_("审批意见"), max_length=500, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_comment = models.CharField(_("撤销理由"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("调阅申请")
        verbose_name_plural = _("调阅申请")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["requester", "status", "valid_until"], name="access_req_grantee_idx"),
            models.Index(fields=["approver_department", "status", "-id"], name="access_req_dept_idx"),
            models.Index(fields=["approver_unit", "status", "-id"], name="access_req_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.requester_name} {self.status}"

    @property
    def purpose(self) -> str:
        """The purpose as the register keeps it: its category and the requester's words."""
        return purpose_line(self.purpose_code, self.purpose_text)

    @property
    def ref(self) -> str:
        return f"调阅申请 #{self.pk}"

    def in_window(self, now) -> bool:
        return self.valid_from <= now < self.valid_until


class AccessRequestItem(models.Model):
    """One record of a request; an approved request's items are its grants."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="items")
    recording = models.ForeignKey("recordings.Recording", on_delete=models.PROTECT, related_name="+")
    # copied from the request and the recording, so that a person's grants of a period are one
    # index range (access.rules, a dated catalogue page): the requester never changes; the
    # start time is kept equal by recordings.services.update_recording_metadata
    requester = models.ForeignKey(  # indexed by access_item_grantee_idx
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    recording_start = models.DateTimeField(_("记录开始时间"), null=True, blank=True)
    # the grant this item is, copied from its request so that the rules read one table
    # (access.rules.active_grant_items): the window while the request is approved — set by
    # access.approvals.approve, cleared by revoke — NULL before and after; whether the request
    # included confidential records (fixed when it is made)
    granted_from = models.DateTimeField(null=True, blank=True)
    granted_until = models.DateTimeField(null=True, blank=True)
    include_confidential = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("调阅申请记录")
        verbose_name_plural = _("调阅申请记录")
        constraints = [models.UniqueConstraint(fields=["request", "recording"], name="uniq_access_req_item")]
        indexes = [
            models.Index(fields=["recording", "request"], name="access_item_rec_idx"),
            # a grantee's grants of a period, read from the index alone (PostgreSQL: the
            # grant's window and confidentiality in its leaves)
            models.Index(
                fields=["requester", "recording_start", "recording"],
                include=["granted_from", "granted_until", "include_confidential"],
                name="access_item_grant_cov_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.recording_id}"


class SecurityFinding(models.Model):
    """Something a supervisor should look at: an officer repeatedly opening records outside
    their scope (for their unit head), an account locked after a burst of failed sign-ins (for
    the security administrator). Raised by ``access.findings``; acknowledged with a comment."""

    kind = models.CharField(_("类型"), max_length=24, choices=FindingKind.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_name = models.CharField(_("涉及账号"), max_length=100)
    unit = models.ForeignKey("orgs.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "orgs.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    count = models.PositiveIntegerField(_("次数"))
    first_at = models.DateTimeField(_("首次时间"))
    last_at = models.DateTimeField(_("最近时间"))
    raised_at = models.DateTimeField(_("提示时间"))
    status = models.CharField(_("状态"), max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    comment = models.CharField(_("处理意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("安全提示")
        verbose_name_plural = _("安全提示")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["status", "unit", "-id"], name="access_finding_unit_idx"),
            models.Index(fields=["status", "department", "-id"], name="access_finding_dept_idx"),
            models.Index(fields=["kind", "status", "-id"], name="access_finding_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_name} ×{self.count}"
