"""Custody event details, read by people: every key and every value in Chinese.

The custody log stores details as written by the services (English keys, stored codes, ISO
times, hashes). Here each key a person may read has a label and a way to show its value:
stored codes through the existing TextChoices' labels, booleans as 是/否, sizes with units,
times in local time. Keys marked technical (hashes, object keys, ids, client metadata) and any
key not listed here are shown only in the "技术细节" disclosure (``technical_json``), never
as raw English in the summary.

Not a template library (no ``register``): ``web_ui`` exposes these as filters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.choices import (
    AccessAction,
    AccessProfile,
    ApproverRole,
    Confidentiality,
    FindingKind,
    Purpose,
    RequestKind,
)
from activities.catalogs import CONTENT_POINTS
from activities.choices import (
    CaseStage,
    DocumentType,
    FilingSource,
    FindingCode,
    InterruptionForm,
    InterruptionReason,
    LinkSource,
    MatterLevel,
    NonRecordingReason,
)
from core.choices import CheckStatus, CheckTrigger
from devices.choices import ClockSource
from ingest.choices import IngestSource, UploadEndReason
from orgs.choices import DepartmentLevel, Role
from recordings.choices import DerivativeKind, LateReason, MarkerKind, MediaKind, TimeSource
from recordings.models import Recording

MAX_TEXT = 120


# --- value formatters: each takes the stored value and returns Chinese text -----------------


def _text(value) -> str:
    text = str(value).strip()
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _yes_no(value) -> str:
    if value is None:
        return _("未确定")
    return _("是") if value else _("否")


def _size(value) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return _("（取值无法识别，见技术细节）")
    if number < 1024:
        return _("%(n)s 字节") % {"n": f"{number:,}"}
    return _("%(size)s（%(n)s 字节）") % {"size": filesizeformat(number), "n": f"{number:,}"}


def _count(value) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return _("（取值无法识别，见技术细节）")


def _seq(value) -> str:
    try:
        return f"#{int(value)}"
    except (TypeError, ValueError):
        return _("（取值无法识别，见技术细节）")


def local_time_text(value) -> str:
    """An ISO string or datetime in the platform's local time, to the second."""
    parsed = value if isinstance(value, datetime) else None
    if parsed is None and isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        return _("（时间无法识别，见技术细节）")
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def _choice(choices: type[models.TextChoices]) -> Callable[[object], str]:
    def show(value) -> str:
        if value in choices.values:
            return str(choices(value).label)
        return _("其他取值（见技术细节）")

    return show


_POINT_NAMES = {p.code: p.name for p in CONTENT_POINTS}


def _content_point(value) -> str:
    if not value:
        return "—"
    return _POINT_NAMES.get(str(value)) or _("其他取值（见技术细节）")


def _reason(value) -> str:
    """A stored reason code (upload events) or a Chinese sentence (ingest flagged / failed)."""
    if value in UploadEndReason.values:
        return str(UploadEndReason(value).label)
    return _text(value)


def _flags(value) -> str:
    """``[{"code": ..., "message": <Chinese>}]``: the messages, never the codes."""
    if not value:
        return _("无")
    if not isinstance(value, list):
        return _("（取值无法识别，见技术细节）")
    messages = [str(f.get("message", "")).strip() for f in value if isinstance(f, dict)]
    return _text("；".join(m for m in messages if m)) or _("（见技术细节）")


_BACKEND_NAMES = {"filesystem": gettext_lazy("本机文件库"), "s3": gettext_lazy("S3 对象存储（对象锁定）")}


def _location(value) -> str:
    """``{"backend": ..., "key": ...}`` of a vault object: the store, in words (the key is technical)."""
    if not isinstance(value, dict):
        return _("（取值无法识别，见技术细节）")
    backend = str(value.get("backend", ""))
    return str(_BACKEND_NAMES.get(backend, backend or _("未知")))


class OtpMethod(models.TextChoices):
    TOTP = "totp", gettext_lazy("动态口令")
    WEBAUTHN = "webauthn", gettext_lazy("通行密钥")
    RECOVERY_CODE = "recovery_code", gettext_lazy("恢复码")


def _methods(value) -> str:
    """A second-factor method, or several (a reset that removed both): their labels."""
    show = _choice(OtpMethod)
    if isinstance(value, list):
        return "、".join(show(v) for v in value) or _("无")
    return show(value)


def _actions(value) -> str:
    """A list of access action codes, as their labels."""
    if not isinstance(value, list):
        return _("（取值无法识别，见技术细节）")
    show = _choice(AccessAction)
    return "、".join(show(v) for v in value) or _("无")


def _scopes(value) -> str:
    """API token scopes (api.choices.TokenScope), as their labels."""
    from api.choices import TokenScope

    if not isinstance(value, list):
        return _("（取值无法识别，见技术细节）")
    show = _choice(TokenScope)
    return "、".join(show(v) for v in value) or _("无")


def _rule(value) -> str:
    """An access rule code (access.rules.RULES) as its label."""
    from access.rules import RULES_BY_CODE

    rule = RULES_BY_CODE.get(str(value))
    return str(rule.label) if rule else _("其他取值（见技术细节）")


@dataclass(frozen=True)
class Field:
    label: object  # a lazy translation
    show: Callable[[object], str] = _text


# Every details key written by a record_event(...) call, shown to people. A test parses the
# codebase's record_event calls and fails when a key is neither here nor in TECHNICAL_KEYS.
FIELDS: dict[str, Field] = {
    # files and media
    "filename": Field(gettext_lazy("文件名")),
    "size": Field(gettext_lazy("大小"), _size),
    "length": Field(gettext_lazy("文件大小"), _size),
    "offset": Field(gettext_lazy("已接收"), _size),
    "media_kind": Field(gettext_lazy("类型"), _choice(MediaKind)),
    "kind": Field(gettext_lazy("衍生资料类型"), _choice(DerivativeKind)),
    "source": Field(gettext_lazy("来源"), _choice(IngestSource)),
    # times
    "start_time": Field(gettext_lazy("开始时间"), local_time_text),
    "end_time": Field(gettext_lazy("结束时间"), local_time_text),
    "upload_deadline": Field(gettext_lazy("上传期限"), local_time_text),
    "expires_at": Field(gettext_lazy("续传期限"), local_time_text),
    # the catalogue entry
    "on_time": Field(gettext_lazy("按时上传"), _yes_no),
    "flagged": Field(gettext_lazy("异常标记"), _yes_no),
    "flag_reason": Field(gettext_lazy("异常原因")),
    "flags": Field(gettext_lazy("异常项"), _flags),
    "reason": Field(gettext_lazy("原因"), _reason),
    # access
    "purpose": Field(gettext_lazy("事由")),
    "approval_ref": Field(gettext_lazy("审批依据")),
    "action": Field(gettext_lazy("方式"), _choice(AccessAction)),
    # checks
    "status": Field(gettext_lazy("结果"), _choice(CheckStatus)),
    "trigger": Field(gettext_lazy("触发方式"), _choice(CheckTrigger)),
    "detail": Field(gettext_lazy("说明")),
    "write_verified": Field(gettext_lazy("写入后已复核"), _yes_no),
    # the vault: an object moved between backends (manage.py migrate_vault)
    "from": Field(gettext_lazy("原存储位置"), _location),
    "to": Field(gettext_lazy("新存储位置"), _location),
    "verified": Field(gettext_lazy("迁移后已复核"), _yes_no),
    "retain_until": Field(gettext_lazy("保存期限至"), local_time_text),
    "legal_hold": Field(gettext_lazy("法律保全"), _yes_no),
    "last_seq": Field(gettext_lazy("校验至事件"), _seq),
    "first_broken_seq": Field(gettext_lazy("首个有问题的事件"), _seq),
    "tree_size": Field(gettext_lazy("树大小（事件数）"), _count),
    "witness": Field(gettext_lazy("见证人")),
    "event": Field(gettext_lazy("所涉事件"), _seq),
    "authorization": Field(gettext_lazy("处置授权")),
    "old_head_seq": Field(gettext_lazy("原哈希链最后序号"), _seq),
    "old_chain_status": Field(gettext_lazy("原哈希链迁移时复核"), _choice(CheckStatus)),
    "old_first_broken_seq": Field(gettext_lazy("原哈希链首个断开的事件"), _seq),
    "findings": Field(gettext_lazy("发现问题（项）"), _count),
    "rows": Field(gettext_lazy("导出条数"), _count),
    "truncated": Field(gettext_lazy("超出上限被截断"), _yes_no),
    # people, departments, units, tokens
    "ip": Field(gettext_lazy("IP 地址")),
    "failures": Field(gettext_lazy("连续失败次数"), _count),
    "lockout_minutes": Field(gettext_lazy("锁定时长（分钟）"), _count),
    "token_expires_at": Field(gettext_lazy("令牌到期时间"), local_time_text),
    "scopes": Field(gettext_lazy("令牌权限"), _scopes),
    "username": Field(gettext_lazy("账号")),
    "full_name": Field(gettext_lazy("姓名")),
    "badge_number": Field(gettext_lazy("执法证号")),
    "one_time_password": Field(gettext_lazy("已发一次性密码"), _yes_no),
    "role": Field(gettext_lazy("角色"), _choice(Role)),
    "name": Field(gettext_lazy("名称")),
    "code": Field(gettext_lazy("代码")),
    "level": Field(gettext_lazy("层级"), _choice(DepartmentLevel)),
    "parent_name": Field(gettext_lazy("上级部门")),
    "department_name": Field(gettext_lazy("所属部门")),
    # two-factor sign-in and sessions
    "method": Field(gettext_lazy("认证方式"), _methods),
    "codes": Field(gettext_lazy("恢复码数量"), _count),
    "remaining": Field(gettext_lazy("剩余恢复码"), _count),
    "sessions": Field(gettext_lazy("注销会话数"), _count),
    # access requests and approvals
    "request": Field(gettext_lazy("申请编号"), _seq),
    "request_kind": Field(gettext_lazy("申请类型"), _choice(RequestKind)),
    "purpose_code": Field(gettext_lazy("事由类别"), _choice(Purpose)),
    "actions": Field(gettext_lazy("申请方式"), _actions),
    "records": Field(gettext_lazy("记录数"), _count),
    # the matter catalog, cases and activities (issue 10)
    "matter_level": Field(gettext_lazy("记录要求"), _choice(MatterLevel)),
    "version": Field(gettext_lazy("版本"), _count),
    "party": Field(gettext_lazy("当事人")),
    "case_stage": Field(gettext_lazy("办案阶段"), _choice(CaseStage)),
    "previous_stage": Field(gettext_lazy("原办案阶段"), _choice(CaseStage)),
    "webhook_url": Field(gettext_lazy("推送地址")),
    "webhook_active": Field(gettext_lazy("启用"), _yes_no),
    "secret_rotated": Field(gettext_lazy("更换签名密钥"), _yes_no),
    "filing_source": Field(gettext_lazy("关联方式"), _choice(FilingSource)),
    "external_system": Field(gettext_lazy("来源系统")),
    "title": Field(gettext_lazy("活动名称")),
    "matter": Field(gettext_lazy("执法事项")),
    "starts_at": Field(gettext_lazy("开始时间（文书记载）"), local_time_text),
    "ends_at": Field(gettext_lazy("结束时间（文书记载）"), local_time_text),
    "officers": Field(gettext_lazy("执法人员"), _count),
    "devices": Field(gettext_lazy("记录设备"), _count),
    "device_serial": Field(gettext_lazy("设备序列号")),
    "clock_offset_s": Field(gettext_lazy("设备时钟偏差（秒）"), _text),
    "clock_source": Field(gettext_lazy("测量方式"), _choice(ClockSource)),
    "link_source": Field(gettext_lazy("关联方式"), _choice(LinkSource)),
    "interruption_reason": Field(gettext_lazy("中断原因"), _choice(InterruptionReason)),
    "interruption_form": Field(gettext_lazy("说明方式"), _choice(InterruptionForm)),
    "signers": Field(gettext_lazy("签名执法人员"), _count),
    "non_recording_reason": Field(gettext_lazy("未记录原因"), _choice(NonRecordingReason)),
    "application": Field(gettext_lazy("附权利人书面申请"), _yes_no),
    "approved": Field(gettext_lazy("同意"), _yes_no),
    "marker_kind": Field(gettext_lazy("标记类型"), _choice(MarkerKind)),
    "content_point": Field(gettext_lazy("记录内容要点"), _content_point),
    "offset_s": Field(gettext_lazy("位置（秒）"), _count),
    "finding_code": Field(gettext_lazy("提示类型"), _choice(FindingCode)),
    "message": Field(gettext_lazy("说明")),
    "time_tolerance_minutes": Field(gettext_lazy("时间一致容差（分钟）"), _count),
    "gap_tolerance_seconds": Field(gettext_lazy("接续间隔容差（秒）"), _count),
    "doc_type": Field(gettext_lazy("文书类型"), _choice(DocumentType)),
    "doc_number": Field(gettext_lazy("文书编号")),
    "closed_on": Field(gettext_lazy("结案日期")),
    "archived_on": Field(gettext_lazy("归档日期")),
    "case_number": Field(gettext_lazy("案件编号")),
    "valid_until": Field(gettext_lazy("有效期至"), local_time_text),
    "approver_role": Field(gettext_lazy("审批人"), _choice(ApproverRole)),
    "basis": Field(gettext_lazy("依据")),
    "rule": Field(gettext_lazy("授权规则"), _rule),
    "comment": Field(gettext_lazy("意见")),
    "consult_note": Field(gettext_lazy("上级部门意见")),
    "confidentiality": Field(gettext_lazy("保密类别"), _choice(Confidentiality)),
    "profile": Field(gettext_lazy("审批规则"), _choice(AccessProfile)),
    "previous": Field(gettext_lazy("原审批规则"), _choice(AccessProfile)),
    "finding_kind": Field(gettext_lazy("提示类型"), _choice(FindingKind)),
}

# Keys that are only for technicians and auditors: digests, object keys, database ids, the
# client's raw metadata and user agent, pipeline step records. Shown in 技术细节 only.
TECHNICAL_KEYS = frozenset(
    {
        "sha256",
        "sm3",
        "declared_sha256",
        "last_hash",
        "root",  # a tree root (hex)
        "old_head_hash",
        "last_verification",  # the old chain's last stored verification, as stored
        "key",
        "expected",
        "actual",
        "mime_type",
        "raw_filename",
        "metadata",
        "steps",
        "user_agent",
        "ingest_item",
        "stored_object",
        "access_entry",
        "uploaded_by",
        "token",
        "prefix",
        "parent",
        "department",
        "unit",
        "role_label",  # the role's label at the time; ``role`` is shown from Role's labels
        "keys",  # log key rotation: old and new public keys
        "filters",  # a register export's filter values
        "tightens",  # the matter entry a department's entry makes stricter
        "matter_code",  # a department entry's internal code (d1, d2, …)
        "previous_tolerances",
        "activity",
    }
)

# before/after of recordings.metadata_changed and ingest.late_reason: Recording fields, plus
# the derived ones the services add (time_source, flags).
_CHANGE_FIELDS: dict[str, Field] = {
    "flags": FIELDS["flags"],
    "time_source": Field(gettext_lazy("时间来源"), _choice(TimeSource)),
    "late_reason": Field(gettext_lazy("逾期原因"), _choice(LateReason)),
}


def _recording_field(name: str) -> Field | None:
    if name in _CHANGE_FIELDS:
        return _CHANGE_FIELDS[name]
    try:
        field = Recording._meta.get_field(name)
    except Exception:
        return None
    if getattr(field, "choices", None):
        mapping = {str(k): v for k, v in field.flatchoices}

        def show(value, mapping=mapping) -> str:
            if value in (None, ""):
                return "—"
            label = mapping.get(str(value))
            return str(label) if label is not None else _("其他取值（见技术细节）")

        return Field(field.verbose_name, show)
    if isinstance(field, models.DateTimeField):
        return Field(field.verbose_name, local_time_text)
    if isinstance(field, models.BooleanField):
        return Field(field.verbose_name, _yes_no)
    if isinstance(field, models.CharField | models.TextField):
        return Field(field.verbose_name, _text)
    return None  # relations, JSON, numbers: technical


def _blank(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _change_value(field: Field, value) -> str:
    if _blank(value):
        return _("无") if field.show is _flags else "—"
    return field.show(value)


def summary_lines(details) -> list[str]:
    """``label：value`` lines for people; before → after first, then the listed keys."""
    if not isinstance(details, dict) or not details:
        return []
    lines: list[str] = []
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        for name in dict.fromkeys([*after, *before]):
            field = _recording_field(name)
            if field is None:
                continue
            old, new = _change_value(field, before.get(name)), _change_value(field, after.get(name))
            lines.append(f"{field.label}：{old} → {new}")
    for name, value in details.items():
        field = FIELDS.get(name)
        if field is None:
            continue  # technical or unknown: only in 技术细节
        if _blank(value) and name != "on_time":  # an unknown timeliness is worth saying
            continue
        lines.append(f"{field.label}：{field.show(value)}")
    return lines


def _leaf_index(event) -> int | None:
    try:
        return event.leaf.index
    except ObjectDoesNotExist:  # not sequenced yet
        return None


def technical_json(event) -> str:
    """Everything an auditor needs to re-check the event, as stored (keys stay English)."""
    data = {
        "id": event.pk,
        "event_uid": str(event.event_uid),
        "leaf_index": _leaf_index(event),
        "action": event.action,
        "subject": f"{event.subject_type}:{event.subject_id}",
        "request_id": event.request_id,
        "details_digest": event.details_digest,
        "details": event.details,
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)
