"""No English in what people read (issue 6).

1. Custody event details: every key and value shown in the history is Chinese; raw details
   go behind a "技术细节" disclosure (the ``event_summary`` / ``event_technical`` filters).
2. The acceptance walk: every demo role in Chromium, every page its navigation reaches,
   the visible text checked for Latin-alphabet words outside the allow-list
   (``web.tests.english``). Each finding is reported with its page and role.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from core.digests import Digests
from core.testing import make_person, make_recording, make_unit
from core.testing_browser import launch_chromium, needs_chromium, pass_second_factor, settle
from custody.choices import EventCode
from recordings.models import EDITABLE_FIELDS
from web.templatetags.event_details import FIELDS, TECHNICAL_KEYS, summary_lines
from web.tests.english import english_words, in_context

ROOT = Path(__file__).resolve().parents[2]
SHA = "9f2c1e7a" * 8
SM3 = "66c7f0f4" * 8
FILE = "DSJ-A0012345_10020301_20260305093000_0001.MP4"

# Data identifiers in the samples below that are not language (accounts, a token name).
SAMPLE_DATA = {"zhangwei", "dock", "audit.example.gov.cn", "witness", "https", "case.example.gov.cn", "hooks", "avr"}

# Realistic details for every event code, shaped like the record_event(...) calls write them.
SAMPLE_DETAILS: dict[str, dict] = {
    EventCode.LOGIN: {"ip": "10.2.3.4", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130"},
    EventCode.LOGOUT: {"ip": "10.2.3.4", "user_agent": "Mozilla/5.0"},
    EventCode.LOGIN_FAILED: {"ip": "10.2.3.4", "user_agent": "curl/8.5"},
    EventCode.LOGIN_LOCKED_OUT: {"ip": "10.2.3.4", "user_agent": "curl/8.5", "username": "zhangwei",
                                 "failures": 5, "lockout_minutes": 15},
    EventCode.PASSWORD_CHANGED: {},
    EventCode.PASSWORD_RESET: {"username": "zhangwei"},
    EventCode.PERSON_CREATED: {
        "username": "zhangwei",
        "full_name": "张伟",
        "badge_number": "10020301",
        "unit": 3,
        "department": 2,
        "one_time_password": True,
    },
    EventCode.ROLE_ASSIGNED: {
        "role": "unit_head",
        "role_label": "采集机构负责人",
        "username": "zhangwei",
    },
    EventCode.DEPARTMENT_CREATED: {
        "name": "某区市场监督管理局",
        "code": "DEMO-DIST",
        "level": "county",
        "parent": 1,
        "parent_name": "某市市场监督管理局",
    },
    EventCode.UNIT_CREATED: {
        "name": "执法稽查大队",
        "code": "DEMO-DIST-JC",
        "department": 2,
        "department_name": "某区市场监督管理局",
    },
    EventCode.TOKEN_ISSUED: {
        "token": 4,
        "name": "采集站 dock 上传",
        "prefix": "avr_4f3a",
        "username": "zhangwei",
        "scopes": ["read", "upload"],
    },
    EventCode.TOKEN_REVOKED: {
        "token": 4,
        "name": "采集站 dock 上传",
        "prefix": "avr_4f3a",
        "username": "zhangwei",
    },
    EventCode.UPLOAD_STARTED: {
        "filename": FILE,
        "raw_filename": FILE,
        "length": 28298,
        "source": "api",
        "metadata": {"case_number": "某市监处罚〔2026〕15号", "unit_id": 3, "officer_ids": [5]},
    },
    EventCode.UPLOAD_COMPLETED: {
        "ingest_item": 7,
        "filename": FILE,
        "raw_filename": FILE,
        "source": "web",
        "sha256": SHA,
        "sm3": SM3,
        "size": 28298,
        "metadata": {"party": "某某食品有限公司"},
    },
    EventCode.UPLOAD_TERMINATED: {
        "reason": "expired",
        "offset": 1048576,
        "length": 5242880,
        "expires_at": "2026-03-06T01:30:00+00:00",
        "filename": FILE,
    },
    EventCode.UPLOAD_REJECTED: {
        "reason": "declared_sha256_mismatch",
        "declared_sha256": SHA,
        "sha256": SM3,
        "sm3": SM3,
        "size": 10,
    },
    EventCode.DUPLICATE_LINKED: {
        "ingest_item": 8,
        "filename": FILE,
        "raw_filename": FILE,
        "sha256": SHA,
        "uploaded_by": 5,
        "metadata": {},
    },
    EventCode.INGEST_FLAGGED: {
        "ingest_item": 7,
        "filename": FILE,
        "reason": "无法识别为音视频或照片文件：内容不是支持的格式，或文件已损坏。",
        "sha256": SHA,
        "steps": [{"name": "probe", "outcome": "ok", "ms": 12, "message": "video mp4 h264 aac"}],
    },
    EventCode.INGEST_FAILED: {
        "ingest_item": 7,
        "filename": FILE,
        "reason": "“保存原始文件”失败：存储空间不足",
        "sha256": "",
        "steps": [{"name": "store", "outcome": "error", "ms": 3}],
    },
    EventCode.LATE_REASON_GIVEN: {
        "before": {"late_reason": "", "late_reason_text": ""},
        "after": {"late_reason": "off_site", "late_reason_text": "赴外县协查，返回后上传。"},
    },
    EventCode.STORED: {
        "sha256": SHA,
        "sm3": SM3,
        "size": 28298,
        "key": "originals/9f/2c/9f2c",
        "write_verified": True,
    },
    EventCode.DERIVATIVE_STORED: {
        "kind": "poster",
        "stored_object": 12,
        "key": "derivatives/aa/bb/aabb",
        "sha256": SHA,
        "sm3": SM3,
        "size": 18234,
        "mime_type": "image/jpeg",
    },
    EventCode.FIXITY_PASSED: {
        "status": "pass",
        "detail": "SHA-256 与 SM3 均与入库时一致。",
        "trigger": "scheduled",
        "expected": {"sha256": SHA, "sm3": SM3, "size": 28298},
        "actual": {"sha256": SHA, "sm3": SM3, "size": 28298},
    },
    EventCode.FIXITY_FAILED: {
        "status": "fail",
        "detail": "SHA-256 不一致。",
        "trigger": "manual",
        "expected": {"sha256": SHA, "sm3": SM3, "size": 28298},
        "actual": {"sha256": SM3, "sm3": SM3, "size": 28298},
    },
    EventCode.FIXITY_NOT_RUN: {
        "status": "not_run",
        "detail": "校验未能执行：对象不存在。",
        "trigger": "manual",
        "expected": {"sha256": SHA, "sm3": SM3, "size": 28298},
        "actual": None,
    },
    EventCode.MIGRATED: {
        "from": {"backend": "filesystem", "key": "originals/ab/cd/" + SHA},
        "to": {"backend": "s3", "key": "originals/ab/cd/" + SHA},
        "sha256": SHA,
        "sm3": SM3,
        "size": 28298,
        "verified": True,
        "retain_until": "2028-12-02T12:00:00+08:00",
        "legal_hold": False,
    },
    EventCode.CATALOGUED: {
        "filename": FILE,
        "sha256": SHA,
        "sm3": SM3,
        "size": 28298,
        "media_kind": "video",
        "start_time": "2026-03-05T01:30:00+00:00",
        "end_time": "2026-03-05T01:33:00+00:00",
        "upload_deadline": "2026-03-06T01:33:00+00:00",
        "on_time": None,
        "flagged": True,
        "flags": [{"code": "media", "message": "媒体流无法解码，文件可能已损坏。"}],
    },
    EventCode.METADATA_CHANGED: {
        "before": {
            "case_number": "",
            "start_time": "2026-03-05T01:30:00+00:00",
            "time_source": "media",
            "flags": [],
        },
        "after": {
            "case_number": "某市监处罚〔2026〕15号",
            "start_time": "2026-03-05T02:30:00+00:00",
            "time_source": "manual",
            "flags": [],
        },
    },
    EventCode.VIEWED: {"purpose": "", "approval_ref": "", "access_entry": 31, "rule": "unit"},
    EventCode.PLAYED: {"purpose": "案件审核", "approval_ref": "调阅申请 #12", "access_entry": 32, "rule": "grant"},
    EventCode.DOWNLOADED: {
        "purpose": "移送司法机关",
        "approval_ref": "审批〔2026〕3号",
        "access_entry": 33,
    },
    EventCode.ACCESS_DENIED: {"purpose": "", "approval_ref": "", "access_entry": 34},
    EventCode.CHAIN_VERIFIED: {
        "status": "pass",
        "trigger": "command",
        "tree_size": 1042,
        "root": SHA,
        "first_broken_seq": None,
        "findings": 0,
    },
    EventCode.LOG_MIGRATED: {
        "old_head_seq": 1041,
        "old_head_hash": SHA,
        "old_chain_status": "pass",
        "old_first_broken_seq": None,
        "last_verification": {
            "id": 12,
            "status": "pass",
            "checked_at": "2026-03-05T18:30:00+00:00",
            "last_seq": 1040,
            "last_hash": SHA,
        },
    },
    EventCode.CHECKPOINT_SIGNED: {"tree_size": 1043, "root": SHA, "trigger": "scheduled"},
    EventCode.CHECKPOINT_REFUSED: {
        "tree_size": 1043,
        "root": SHA,
        "reason": "当前树与第 1000 号检查点不一致（历史被改写）",
    },
    EventCode.CHECKPOINT_COSIGNED: {"tree_size": 1043, "witness": "audit.example.gov.cn/witness"},
    EventCode.DETAILS_ERASED: {
        "event": 812,
        "reason": "依法删除当事人个人信息",
        "authorization": "处置审批〔2026〕7号",
    },
    EventCode.LOG_KEY_ROTATED: {
        "keys": [
            {
                "old": "avrecords.example/D1+0a1b2c3d+AQ==",
                "new": "avrecords.example/D1+4e5f+AQ==",
                "retired_file": "log-ed25519.key.retired-20261201T000000Z",
            }
        ],
    },
    EventCode.BUNDLE_EXPORTED: {"tree_size": 812, "rows": 14},
    EventCode.REGISTER_EXPORTED: {
        "rows": 1200,
        "truncated": False,
        "filters": {"action": "play", "date_from": "2026-11-01"},
    },
    EventCode.OTP_ENROLLED: {"method": "totp", "ip": "10.2.3.4"},
    EventCode.OTP_REMOVED: {"method": "totp", "ip": "10.2.3.4"},
    EventCode.OTP_FAILED: {"method": "totp", "ip": "10.2.3.4", "failures": 2},
    EventCode.RECOVERY_CODES_ISSUED: {"codes": 10, "ip": "10.2.3.4"},
    EventCode.RECOVERY_CODE_USED: {"remaining": 9, "ip": "10.2.3.4"},
    EventCode.SESSION_ENDED: {"sessions": 1, "ip": "10.2.3.4"},
    EventCode.OTP_RESET: {"method": ["totp", "webauthn"], "comment": "手机遗失，本人书面申请", "ip": "10.2.3.4",
                          "sessions": 2},
    EventCode.ACCESS_REQUESTED: {
        "request": 12,
        "request_kind": "internal",
        "purpose_code": "case_handling",
        "purpose": "核对查封现场情况",
        "actions": ["view", "play"],
        "records": 3,
        "case_number": "市监罚〔2026〕12号",
        "valid_until": "2026-12-31T16:00:00+00:00",
        "approver_role": "unit_head",
        "basis": "市场监管总局《执法音像记录管理规定》第十七条第二款",
    },
    EventCode.ACCESS_APPROVED: {"request": 12, "comment": "同意", "records": 3, "consult_note": "省局同意提供"},
    EventCode.ACCESS_REJECTED: {"request": 12, "comment": "事由不充分"},
    EventCode.ACCESS_WITHDRAWN: {"request": 12},
    EventCode.ACCESS_REVOKED: {"request": 12, "comment": "案件已办结"},
    EventCode.APPROVAL_FORM_ISSUED: {"request": 12, "sha256": SHA},
    EventCode.APPLICATION_DOWNLOADED: {"request": 12, "sha256": SHA},
    EventCode.CONFIDENTIALITY_MARKED: {"confidentiality": "commercial_secret", "comment": "含配方工艺"},
    EventCode.CONFIDENTIALITY_CLEARED: {"confidentiality": "", "comment": "经核实不涉密"},
    EventCode.PROFILE_ASSIGNED: {"profile": "dalian", "previous": "national", "name": "大连片区综合监管执法局"},
    EventCode.FINDING_RAISED: {"finding_kind": "repeated_denials", "failures": 6, "full_name": "张伟"},
    EventCode.FINDING_ACKNOWLEDGED: {"finding_kind": "sign_in_burst", "comment": "已核实为本人忘记密码"},
    EventCode.MATTER_ADDED: {"department": 3, "matter_code": "d1", "name": "夜间食品经营场所检查", "matter_level": "full_process",
                             "tightens": 12},
    EventCode.MATTER_REVISED: {"department": 3, "matter_code": "d1", "version": 2, "reason": "增加涉案财物清点要点"},
    EventCode.CASE_CREATED: {"case_number": "市监罚〔2026〕12号", "party": "某贸易有限公司", "case_stage": "start",
                             "external_system": "办案系统"},
    EventCode.ACTIVITY_CREATED: {"title": "某贸易有限公司查封现场", "matter": "查封、扣押", "matter_level": "full_process",
                                 "case_number": "市监罚〔2026〕12号", "officers": 2,
                                 "starts_at": "2026-11-20T01:30:00+00:00", "ends_at": "2026-11-20T03:00:00+00:00",
                                 "external_system": "", "devices": 2},
    EventCode.RECORDING_LINKED: {"activity": 7, "title": "某贸易有限公司查封现场", "link_source": "suggested"},
    EventCode.RECORDING_UNLINKED: {"activity": 7, "title": "某贸易有限公司查封现场", "comment": "误关联，属另一次检查"},
    EventCode.INTERRUPTION_RECORDED: {"interruption_reason": "battery", "comment": "备用电池已更换",
                                      "interruption_form": "voice", "start_time": "2026-11-20T02:10:00+00:00",
                                      "end_time": "2026-11-20T02:17:00+00:00", "signers": 0},
    EventCode.INTERRUPTION_ACKNOWLEDGED: {"start_time": "2026-11-20T02:10:00+00:00",
                                          "end_time": "2026-11-20T02:17:00+00:00"},
    EventCode.NON_RECORDING_REPORTED: {"non_recording_reason": "commercial_secret", "comment": "涉及生产配方",
                                       "application": True},
    EventCode.NON_RECORDING_ACKNOWLEDGED: {"non_recording_reason": "emergency"},
    EventCode.NON_RECORDING_DECIDED: {"non_recording_reason": "privacy", "approved": False, "comment": "应当记录"},
    EventCode.MARKER_ADDED: {"marker_kind": "content_point", "content_point": "show_id", "offset_s": 12.5,
                             "comment": ""},
    EventCode.MARKER_REMOVED: {"marker_kind": "note", "content_point": "", "offset_s": 3, "comment": "误标"},
    EventCode.COMPLIANCE_RAISED: {"finding_code": "gap_unexplained", "message": "10:10:00 至 10:17:00 中断约 7 分钟"},
    EventCode.COMPLIANCE_RESOLVED: {"finding_code": "gap_unexplained", "message": "10:10:00 至 10:17:00 中断约 7 分钟"},
    EventCode.COMPLIANCE_EXPLAINED: {"finding_code": "late_upload", "comment": "当日系统故障"},
    EventCode.COMPLIANCE_ACCEPTED: {"finding_code": "late_upload", "comment": "情况属实"},
    EventCode.DOCUMENT_ADDED: {"doc_type": "site_record", "doc_number": "市监现〔2026〕88号",
                               "case_number": "市监罚〔2026〕12号", "external_system": "办案系统"},
    EventCode.CASE_CLOSED: {"case_number": "市监罚〔2026〕12号", "closed_on": "2026-11-30"},
    EventCode.CASE_ARCHIVED: {"case_number": "市监罚〔2026〕12号", "archived_on": "2026-12-15"},
    EventCode.CASE_STAGE_CHANGED: {"case_number": "市监罚〔2026〕12号", "case_stage": "investigation",
                                   "previous_stage": "start"},
    EventCode.DOCUMENT_DOWNLOADED: {"doc_type": "site_record", "doc_number": "市监现〔2026〕88号", "sha256": SHA},
    EventCode.WEBHOOK_ADDED: {"name": "办案系统", "webhook_url": "https://case.example.gov.cn/hooks/avr"},
    EventCode.WEBHOOK_CHANGED: {"name": "办案系统", "webhook_url": "https://case.example.gov.cn/hooks/avr",
                                "webhook_active": False, "secret_rotated": True},
    EventCode.RECORDING_FILED: {"case_number": "市监罚〔2026〕12号", "matter": "查封、扣押", "filing_source": "migrated"},
    EventCode.DEVICE_CLOCK_MEASURED: {"device_serial": "A0012345", "clock_offset_s": 95.0, "clock_source": "dock",
                                      "records": 3},
    EventCode.COMPLIANCE_SETTINGS_CHANGED: {"time_tolerance_minutes": 10, "gap_tolerance_seconds": 90,
                                            "previous_tolerances": [5, 60]},
}


def _latin(lines: list[str]) -> list[str]:
    return english_words("\n".join(lines), also_allowed=SAMPLE_DATA)


# --- the filter, for every event code ---------------------------------------------------


def test_every_event_code_has_a_sample():
    assert set(SAMPLE_DETAILS) == set(EventCode), "add a sample for each new event code"


@pytest.mark.parametrize("code", list(EventCode), ids=lambda c: c.value)
def test_event_details_read_in_chinese(code):
    details = SAMPLE_DETAILS[code]
    lines = summary_lines(details)
    assert _latin(lines) == [], (code, lines)
    shown = "\n".join(lines)
    for key in details:
        assert f"{key}：" not in shown and f"{key}:" not in shown, (code, key, lines)
    for key, value in details.items():
        if key in FIELDS and value not in (None, "", [], {}):
            assert str(FIELDS[key].label) in shown, (code, key, lines)
    for line in lines:
        assert "：" in line and not re.search(r"\b(True|False|None|null)\b", line), line


def test_the_reported_examples_are_translated():
    started = summary_lines(SAMPLE_DETAILS[EventCode.UPLOAD_STARTED])
    assert "文件大小：27.6\xa0KB（28,298 字节）" in started
    assert "来源：接口上传" in started
    assert "结果：通过" in summary_lines(SAMPLE_DETAILS[EventCode.FIXITY_PASSED])
    assert "触发方式：人工执行" in summary_lines(SAMPLE_DETAILS[EventCode.FIXITY_FAILED])
    assert "触发方式：定时任务" in summary_lines(SAMPLE_DETAILS[EventCode.FIXITY_PASSED])
    assert "结果：未执行" in summary_lines(SAMPLE_DETAILS[EventCode.FIXITY_NOT_RUN])


def test_values_use_the_existing_choice_labels():
    assert "来源：演示数据" in summary_lines({"source": "seed"})
    assert "来源：采集站" in summary_lines({"source": "dock"})
    assert "来源：网页上传" in summary_lines({"source": "web"})
    assert "类型：照片" in summary_lines({"media_kind": "photo"})
    assert "衍生资料类型：封面图" in summary_lines({"kind": "poster"})
    assert "角色：法制机构" in summary_lines({"role": "legal_office"})
    assert "层级：县级" in summary_lines({"level": "county"})
    assert "原因：超时未续传，已过期" in summary_lines({"reason": "expired"})
    assert "原因：上传人取消" in summary_lines({"reason": "client"})


def test_booleans_sizes_and_times():
    assert summary_lines({"write_verified": True}) == ["写入后已复核：是"]
    assert summary_lines({"flagged": False}) == ["异常标记：否"]
    assert summary_lines({"on_time": None}) == ["按时上传：未确定"]
    assert summary_lines({"size": 512}) == ["大小：512 字节"]
    assert summary_lines({"size": 3 * 2**30}) == ["大小：3.0\xa0GB（3,221,225,472 字节）"]
    # stored in UTC, shown in the platform's time zone (Asia/Shanghai in the tests)
    expected = timezone.localtime(datetime(2026, 3, 5, 1, 30, tzinfo=UTC)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert summary_lines({"start_time": "2026-03-05T01:30:00+00:00"}) == [f"开始时间：{expected}"]


def test_unknown_keys_and_values_never_show_raw_english():
    lines = summary_lines(
        {"frobnicate": "yes please", "source": "carrier-pigeon", "status": "weird"}
    )
    assert _latin(lines) == []
    assert "frobnicate" not in "".join(lines)
    assert "来源：其他取值（见技术细节）" in lines and "结果：其他取值（见技术细节）" in lines


def test_technical_keys_stay_out_of_the_summary():
    shown = "\n".join(summary_lines(SAMPLE_DETAILS[EventCode.STORED]))
    assert SHA[:12] not in shown and "originals/" not in shown
    assert shown == "大小：27.6\xa0KB（28,298 字节）\n写入后已复核：是"


def test_every_edited_field_has_a_chinese_before_after_line():
    names = [*EDITABLE_FIELDS, "time_source", "flags"]
    before = {name: "" for name in names}
    after = {name: "新值" for name in names}
    after.update(
        start_time="2026-03-05T02:30:00+00:00",
        end_time="2026-03-05T02:40:00+00:00",
        late_reason="device_fault",
        time_source="manual",
        flags=[{"code": "capture_time_future", "message": "拍摄时间晚于接收时间"}],
    )
    lines = summary_lines({"before": before, "after": after})
    assert len(lines) == len(names)
    assert _latin(lines) == [], lines
    assert "逾期原因：— → 设备故障" in lines
    assert "时间来源：— → 人工填写" in lines
    assert "异常项：无 → 拍摄时间晚于接收时间" in lines


# --- formats and MIME types as people name them -------------------------------------------


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("mp4", "MP4"),
        ("h264", "H.264"),
        ("hevc", "H.265"),
        ("aac", "AAC"),
        ("pcm_s16le", "PCM"),
        ("mov", "MOV"),
        ("webm", "WebM"),
        ("mpegts", "MPEG-TS"),
        ("", ""),
    ],
)
def test_media_format_names(code, shown):
    from web.templatetags.web_ui import media_format

    assert media_format(code) == shown
    assert english_words(shown) == []


@pytest.mark.parametrize(
    ("mime", "shown"),
    [
        ("image/jpeg", "JPEG 图片"),
        ("video/mp4", "MP4 视频"),
        ("audio/mp4", "MP4 音频"),
        ("video/quicktime", "MOV 视频"),
        ("video/x-matroska", "MKV 视频"),
        ("audio/mpeg", "MP3 音频"),
        ("application/octet-stream", "文件"),
        ("video/x-unheard-of", "视频"),
    ],
)
def test_media_type_labels(mime, shown):
    from web.templatetags.web_ui import media_type

    assert media_type(mime) == shown


def test_probe_data_for_a_technical_disclosure(tmp_path):
    from recordings.media import probe_media
    from web.templatetags.web_ui import technical_data

    path = tmp_path / "a.mp4"
    path.write_bytes(b"%PDF-1.4 not a video" * 50)
    shown = technical_data(probe_media(path, filename="a.mp4").raw)
    assert "Invalid data found when processing input" in shown  # the library's words, kept
    assert json.loads(shown)["error"]["code"] == "invalid_data"


# --- every key a record_event(...) call writes has a label (or is technical) -----------------


def _dict_keys(node: ast.AST, scope: ast.AST, tree: ast.Module) -> set[str] | None:
    """The string keys of a details expression: a dict literal, a name bound to one in the
    same function, or a call of a module function returning one. None when unknowable."""
    if isinstance(node, ast.Dict):
        keys: set[str] = set()
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # **spread
                spread = _spread_keys(value, scope, tree)
                if spread is None:
                    return None
                keys |= spread
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.add(key.value)
            else:
                return None
        return keys
    if isinstance(node, ast.Name):
        for sub in ast.walk(scope):
            if isinstance(sub, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in sub.targets
            ):
                return _dict_keys(sub.value, scope, tree)
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        where, function = _find_function(node.func.id, tree)
        if function is not None:
            for ret in ast.walk(function):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    return _dict_keys(ret.value, function, where)
    return None


def _find_function(name: str, tree: ast.Module):
    """A function defined in this module, or imported into it from one of ours."""
    for sub in tree.body:
        if isinstance(sub, ast.FunctionDef) and sub.name == name:
            return tree, sub
    for sub in ast.walk(tree):
        if (
            isinstance(sub, ast.ImportFrom)
            and sub.module
            and any(a.name == name for a in sub.names)
        ):
            base = ROOT.joinpath(*sub.module.split("."))
            for path in (base.with_suffix(".py"), base / "__init__.py"):
                if path.exists():
                    return _find_function(name, ast.parse(path.read_text(encoding="utf-8")))
    return tree, None


def _spread_keys(value: ast.AST, scope, tree) -> set[str] | None:
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "as_dict"
    ):
        return {f.name for f in fields(Digests)}  # **digests.as_dict()
    return _dict_keys(value, scope, tree)


def _record_event_details() -> list[tuple[str, int, set[str] | None]]:
    found = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "node_modules", "var", "bench"} or "tests" in rel.parts:
            continue
        source = path.read_text(encoding="utf-8")
        if "record_event(" not in source:
            continue
        tree = ast.parse(source)
        scopes = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for scope in scopes:
            for call in ast.walk(scope):
                if not (
                    isinstance(call, ast.Call) and getattr(call.func, "id", None) == "record_event"
                ):
                    continue
                details = next((k.value for k in call.keywords if k.arg == "details"), None)
                if details is None:
                    continue
                found.append((str(rel), call.lineno, _dict_keys(details, scope, tree)))
    return found


def test_every_details_key_written_anywhere_has_a_label():
    calls = _record_event_details()
    assert len(calls) >= 20, "the scan should find the services' record_event calls"
    unknowable = [(f, line) for f, line, keys in calls if keys is None]
    assert unknowable == [], "details the scan cannot read: pass a dict literal"
    missing = sorted(
        {
            (f, line, key)
            for f, line, keys in calls
            for key in keys or ()
            if key not in FIELDS and key not in TECHNICAL_KEYS and key not in ("before", "after")
        }
    )
    assert missing == [], "give these details keys a label (FIELDS) or mark them technical"


# --- the history panel as rendered -------------------------------------------------------


def _visible_text(body: str) -> str:
    body = re.sub(r"<details class=\"event-technical.*?</details>", " ", body, flags=re.S)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return html.unescape(body)


@pytest.mark.django_db
def test_history_panel_is_chinese_with_a_technical_disclosure(client):
    from access.choices import AccessAction
    from access.services import register_access
    from recordings.services import update_recording_metadata
    from storage.services import run_fixity_check

    officer = make_person("officer", unit=make_unit(), full_name="张伟")
    recording = make_recording(officer, filename=FILE)
    register_access(recording, actor=officer, action=AccessAction.PLAY, client="10.0.0.1")
    update_recording_metadata(
        recording,
        actor=officer,
        changes={"case_number": "某市监处罚〔2026〕15号", "party": "某某食品有限公司"},
    )
    run_fixity_check(recording.original, actor=None, trigger="manual")
    client.force_login(officer)
    response = client.get(reverse("web:recording_history", args=[recording.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    text = _visible_text(body)
    assert english_words(text) == [], [in_context(text, w) for w in english_words(text)]
    for phrase in (
        "编目",
        "播放",
        "修改元数据",
        "完整性校验通过",
        "触发方式：人工执行",
        "结果：通过",
    ):
        assert phrase in text, phrase
    rows = body.count("<tr>") - 1  # minus the header row
    assert rows >= 5 and body.count(">技术细节</summary>") == rows, "one disclosure per event"
    assert '<summary class="text-secondary">技术细节</summary>' in body
    technical = re.findall(r"<details class=\"event-technical.*?</details>", body, flags=re.S)
    joined = html.unescape(" ".join(technical))
    assert recording.original.sha256 in joined and '"request_id"' in joined
    first = json.loads(
        html.unescape(re.search(r"<pre[^>]*>(.*?)</pre>", technical[0], re.S).group(1))
    )
    assert set(first) >= {"id", "event_uid", "action", "request_id", "details_digest", "details"}


# --- the acceptance walk in Chromium --------------------------------------------------------


@dataclass(frozen=True)
class DemoRole:
    username: str
    role: str  # the role's label, for the report


# One demo account per role (orgs/management/commands/seed_demo.py).
DEMO_ROLES = [
    DemoRole("zhangwei", "执法人员"),
    DemoRole("wangqiang", "记录仪管理员"),
    DemoRole("liuyang", "采集机构负责人"),
    DemoRole("machao", "部门负责人"),
    DemoRole("zhulin", "法制机构"),
    DemoRole("sysadmin", "系统管理员"),
    DemoRole("secadmin", "安全管理员"),
    DemoRole("auditadmin", "审计管理员"),
]

# Everything a person reads on a page: the rendered text, the text of menus and collapsed
# panels they can open, and the attributes browsers show (titles, placeholders, labels, alt).
# The "技术细节" disclosures hold raw stored data for technicians and are left out by design.
READ_PAGE = """() => {
  const skip = el => el.closest('details.technical-details');
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll(
      '.dropdown-menu, .collapse:not(.show), .modal, .offcanvas, details:not([open]), option, [hidden]')) {
    if (!skip(el)) parts.push(el.textContent);
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label], img[alt]')) {
    if (skip(el)) continue;
    for (const name of ['title', 'placeholder', 'aria-label', 'alt']) {
      const v = el.getAttribute(name);
      if (v) parts.push(v);
    }
  }
  for (const el of document.querySelectorAll('input[type=submit], input[type=button], input[type=reset]')) {
    parts.push(el.value);
  }
  return parts.join('\\n');
}"""

HOME_LINKS = """() => [...document.querySelectorAll('main a[href]')]
  .map(a => a.href).filter(h => h.startsWith(location.origin) && !h.includes('#'))"""

NAV_LINKS = """() => [...document.querySelectorAll('aside a[href], header a[href]')]
  .map(a => a.href).filter(h => h.startsWith(location.origin) && !h.includes('#'))"""


@dataclass
class Finding:
    role: str
    page: str
    word: str
    context: str


@dataclass
class Walk:
    base: str
    shots: Path
    data: frozenset = frozenset()  # identifiers that are data here (the demo accounts)
    findings: list[Finding] = field(default_factory=list)
    visited: list[tuple[str, str, int]] = field(default_factory=list)
    _shot: int = 0

    def check(self, page, role: str, label: str, screenshot: bool = False) -> None:
        page.wait_for_load_state("load")
        settle(page)
        text = page.evaluate(READ_PAGE)
        where = f"{label} {urlsplit(page.url).path}"
        if urlsplit(page.url).query:
            where += "?" + urlsplit(page.url).query
        for word in dict.fromkeys(english_words(text, also_allowed=self.data)):
            self.findings.append(Finding(role, where, word, in_context(text, word)))
        if screenshot:
            self._shot += 1
            name = f"{self._shot:02d}-{role}-{label}.png".replace("/", "-")
            page.screenshot(path=self.shots / name, full_page=True)

    def visit(self, page, role: str, label: str, url: str, screenshot: bool = False) -> int:
        response = page.goto(url if url.startswith("http") else self.base + url, wait_until="load")
        status = response.status if response else 0
        self.visited.append((role, url, status))
        self.check(page, role, label, screenshot)
        return status

    def report(self) -> str:
        """One line per English word and page (ids and queries folded), with the roles that saw it."""
        grouped: dict[tuple[str, str], list[Finding]] = {}
        for f in self.findings:
            label, _sep, url = f.page.partition(" ")
            path = re.sub(r"/\d+/", "/<id>/", urlsplit(url).path)
            grouped.setdefault((path, f.word), []).append(f)
        lines = [
            f"{len(grouped)} English word(s) on pages people read (page: word — roles — text):"
        ]
        for (path, word), found in sorted(grouped.items()):
            roles = "、".join(dict.fromkeys(f.role for f in found))
            labels = "、".join(dict.fromkeys(f.page.partition(" ")[0] for f in found))
            lines.append(f"  {path} [{labels}]: {word!r} — {roles} — …{found[0].context}…")
        return "\n".join(lines)

    def statuses(self) -> str:
        lines = []
        for role in dict.fromkeys(r for r, _u, _s in self.visited):
            seen = dict.fromkeys(f"{urlsplit(u).path}={s}" for r, u, s in self.visited if r == role)
            lines.append(f"  [{role}] " + " ".join(seen))
        return "\n".join(lines)


def _options(page, form: str) -> list[dict]:
    """One query per option of each select of a filter form (at most six per select)."""
    options = page.evaluate(
        f"""() => [...document.querySelectorAll({form!r} + ' select')].map(s =>
             [s.name, [...s.options].map(o => o.value).filter(v => v)])"""
    )
    return [{name: value} for name, values in options for value in values[:6]]


def _filters(page) -> tuple[list[dict], list[dict]]:
    """Catalogue filter queries: each option of each select, some text filters, bad input."""
    by_option = _options(page, "#filter-form")
    return by_option, [
        {"q": "某某"},
        {"q": "DSJ-A0012345"},
        {"q": "x" * 3000},  # too long: the form must say so in Chinese
        {"date_from": "2026-01-01", "date_to": "2026-12-31"},
        {"date_from": "0001-01-01"},  # out of range: a Chinese error, never a 500
        {"date_from": "2026-12-31", "date_to": "2026-01-01"},
        {"case_number": "某市监处罚", "party": "某某"},
        {"device_serial": "NO-SUCH-DEVICE"},
        {"page": "2"},
        {"page": "999"},
    ]


def _walk_role(walk: Walk, context, demo: DemoRole, password: str, *, all_filters: bool) -> None:
    page = context.new_page()
    page.set_default_timeout(20_000)
    role = demo.role
    walk.visit(page, role, "登录页", "/login/")
    page.fill("input[name=username]", demo.username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    if urlsplit(page.url).path == "/security/totp/":  # must have a second factor: enrol first
        walk.check(page, role, "绑定动态口令", screenshot=True)
    pass_second_factor(page, demo.username)
    walk.check(page, role, "工作台", screenshot=True)

    seen = {urlsplit(page.url).path}
    home_links = page.evaluate(HOME_LINKS)
    for link in list(dict.fromkeys(page.evaluate(NAV_LINKS))):
        path = urlsplit(link).path
        if path in seen or path.startswith("/logout"):
            continue
        seen.add(path)
        walk.visit(
            page, role, "导航", link, screenshot=path.startswith(("/recordings/", "/ingest/"))
        )
    for path in ("/upload/", "/ingest/", "/recordings/", "/password/", "/security/", "/security/totp/",
                 "/activities/new", "/activities/findings/"):
        if path not in seen:
            walk.visit(page, role, "直接访问", path)  # pages a role may not use say so in Chinese
    # what the home page links to (late items, flagged items, "view all"), once per link
    for link in list(dict.fromkeys(home_links))[:12]:
        if urlsplit(link).path.startswith("/logout") or link in seen:
            continue
        seen.add(link)
        walk.visit(page, role, "工作台链接", link)

    # 执法活动: the demo seizure's page (its timeline, findings and forms), the 需要处理 tab, bad input
    if page.goto(walk.base + "/activities/").status == 200 and "/activities/" in page.url:
        activities = page.evaluate(
            """() => [...new Set([...document.querySelectorAll('#activities-table a[href]')]
                 .map(a => a.href).filter(h => /\\/activities\\/\\d+\\/$/.test(h)))]"""
        )
        for n, url in enumerate(activities[:2]):
            walk.visit(page, role, "执法活动详情", url, screenshot=n == 0)
        walk.visit(page, role, "执法活动", "/activities/?tab=attention")
        walk.visit(page, role, "执法活动检索", "/activities/?date_from=0001-01-01&officer=abc")

    if page.goto(walk.base + "/ingest/").status == 200 and "/ingest/" in page.url:
        queries = _options(page, "form[role=search]")
        queries += [{"q": "DSJ"}, {"date_from": "0001-01-01"}, {"q": "y" * 3000}]
        for query in queries if all_filters else queries[:2]:
            walk.visit(page, role, "入库情况检索", "/ingest/?" + urlencode(query))

    if page.goto(walk.base + "/recordings/").status == 200 and "/recordings/" in page.url:
        page.wait_for_load_state("load")
        by_option, typed = _filters(page)
        # every filter once (the first role that can search); a few for every other role
        for query in by_option + typed if all_filters else by_option[:1] + typed[:3]:
            walk.visit(page, role, "检索", "/recordings/?" + urlencode(query))
        walk.visit(page, role, "检索", "/recordings/")
        details = page.evaluate(
            """() => [...new Set([...document.querySelectorAll('#results a[href]')]
                 .map(a => a.href).filter(h => /\\/recordings\\/\\d+\\/$/.test(h)))]"""
        )
        for n, url in enumerate(details):
            walk.visit(page, role, "记录详情", url, screenshot=n == 0)
            recording = urlsplit(url).path
            walk.visit(page, role, "保管链", recording + "history")
            walk.visit(page, role, "查阅登记", recording + "access-log")
        if details and walk.visit(page, role, "编辑信息", details[0] + "edit") == 200:
            # the same form refused: its errors must read in Chinese next to the fields
            if page.locator("form#edit").count():
                page.evaluate(
                    """() => { const f = document.querySelector('form#edit');
                         const set = (n, v) => { const i = f.querySelector(`[name=${n}]`); if (i) i.value = v; };
                         set('start_time', '2026-03-05T10:00:00'); set('end_time', '2026-03-05T09:00:00');
                         set('case_number', '案'.repeat(5000)); f.submit(); }"""
                )
                walk.check(page, role, "编辑信息（校验未通过）", screenshot=role == "执法人员")
        if details:
            # open every collapsed panel on the detail page (edit form, disclosures) and re-read
            walk.visit(page, role, "记录详情（展开）", details[0])
            page.evaluate(
                """() => { document.querySelectorAll('.collapse').forEach(c => c.classList.add('show'));
                           document.querySelectorAll('details:not(.technical-details)').forEach(d => d.open = true); }"""
            )
            walk.check(page, role, "记录详情（展开）", screenshot=role == "执法人员")
    walk.visit(page, role, "修改密码", "/password/", screenshot=role == "执法人员")
    walk.visit(page, role, "错误页", "/no-such-page/")
    walk.visit(page, role, "错误页", "/recordings/999999999/")
    walk.visit(page, role, "错误页", "/recordings/99999999999999999999999/")
    # a form posted without its CSRF token gets the Chinese CSRF failure page
    page.goto(walk.base + "/password/")
    page.evaluate(
        """() => { const f = document.createElement('form'); f.method = 'post'; f.action = '/password/';
                   document.body.appendChild(f); f.submit(); }"""
    )
    page.wait_for_load_state("load")
    walk.check(page, role, "安全校验失败页", screenshot=role == "执法人员")
    page.close()


@pytest.mark.browser
@pytest.mark.req("INT-1")
@needs_chromium
def test_every_role_every_page_reads_in_chinese(tmp_path):
    from playwright.sync_api import sync_playwright

    from core.testing_server import Platform
    from orgs.management.commands.seed_demo import DEMO_PASSWORD

    shots = tmp_path / "screenshots"
    shots.mkdir()
    if os.environ.get("AVR_SCREENSHOTS"):
        shots = Path(os.environ["AVR_SCREENSHOTS"])
        shots.mkdir(parents=True, exist_ok=True)
    with Platform(tmp_path / "var") as platform, sync_playwright() as pw:
        platform.manage("seed_demo")
        browser = launch_chromium(pw)
        walk = Walk(platform.base_url, shots, data=frozenset(d.username for d in DEMO_ROLES))
        # signed out: the login page and an error page
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        walk.visit(page, "未登录", "登录页", "/login/", screenshot=True)
        page.fill("input[name=username]", "zhangwei")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
        walk.check(page, "未登录", "登录失败")
        walk.visit(page, "未登录", "错误页", "/no-such-page/")
        walk.visit(page, "未登录", "需要登录", "/recordings/")
        context.close()
        for n, demo in enumerate(DEMO_ROLES):
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            _walk_role(walk, context, demo, DEMO_PASSWORD, all_filters=n == 0)
            context.close()
        browser.close()
    errors = [(role, url, status) for role, url, status in walk.visited if status >= 500]
    print(walk.report())
    print(f"pages visited: {len(walk.visited)}; screenshots in {shots}; status per page:")
    print(walk.statuses())
    assert errors == [], f"server errors: {errors}"
    assert len(walk.visited) > 8 * 10, "the walk should reach every page of every role"
    assert walk.findings == [], walk.report()
