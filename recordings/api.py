"""/api/v1/recordings: the catalogue, its bytes (with Range) and each record's custody history."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema

from access.choices import AccessAction
from access.services import Span, register_read
from api.auth import api_auth
from api.choices import TokenScope
from api.schemas import Day, ErrorOut, Id, PageMeta, PageParams, Text, page_of
from core.clients import client_label
from core.ranges import requested_range, served_span
from custody.choices import EventCode
from recordings.choices import LateReason, MediaKind, TimeSource
from recordings.models import DESCRIPTIVE_FIELDS, Recording
from recordings.selectors import (
    FILTER_TEXT_LIMITS,
    SORTS,
    RecordingFilter,
    custody_history,
    get_recording,
    list_recordings,
)
from storage.serving import ensure_present, serve_stored_object

router = Router(tags=["执法音像记录"], auth=api_auth(TokenScope.READ))

_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas -----------------------------------------------------------------------------


class RecordingFilterIn(Schema):
    """Mirrors ``recordings.selectors.RecordingFilter``."""

    date_from: Day | None = Field(None, description="拍摄日期起（含）")
    date_to: Day | None = Field(None, description="拍摄日期止（含）")
    unit_id: Id | None = Field(None, description="采集机构编号")
    officer_id: Id | None = Field(None, description="执法人员编号")
    device_serial: Text = Field(
        "", max_length=FILTER_TEXT_LIMITS["device_serial"], description="设备序列号（精确）"
    )
    case_number: Text = Field(
        "", max_length=FILTER_TEXT_LIMITS["case_number"], description="案号（前缀匹配）"
    )
    party: Text = Field("", max_length=FILTER_TEXT_LIMITS["party"], description="当事人（前缀匹配）")
    status: Literal["", "flagged", "ok"] = Field("", description="flagged：有异常；ok：无异常")
    timeliness: Literal["", "on_time", "late", "unknown"] = Field(
        "", description="按时 / 逾期 / 时间未知"
    )
    media_kind: Literal["", "video", "audio", "photo", "unknown"] = Field("", description="类型")
    q: Text = Field(
        "", max_length=FILTER_TEXT_LIMITS["q"], description="案号、当事人、文件名前缀或设备序列号"
    )
    sort: Literal[tuple(SORTS)] = Field("-start_time", description="排序")  # type: ignore[valid-type]

    def to_filter(self) -> RecordingFilter:
        return RecordingFilter(**self.dict())


class UnitRef(Schema):
    id: int
    name: str
    code: str


class DepartmentRef(Schema):
    id: int
    name: str
    code: str
    level: str


class PersonRef(Schema):
    id: int
    full_name: str
    badge_number: str


class DigestsOut(Schema):
    sha256: str = Field(description="SHA-256（十六进制）")
    sm3: str = Field(description="SM3（十六进制）")
    size: int = Field(description="字节数")


class RecordingListItem(Schema):
    id: int
    original_filename: str
    media_kind: str
    start_time: datetime | None
    end_time: datetime | None
    duration_s: float | None
    device_serial: str
    badge_number: str
    case_number: str
    party: str
    place: str
    matter_type: str
    unit: UnitRef
    primary_officer: PersonRef | None
    received_at: datetime
    on_time: bool | None = Field(description="true 按时上传；false 逾期；null 拍摄时间未知")
    flagged: bool
    sha256: str
    size: int

    @staticmethod
    def resolve_sha256(obj: Recording) -> str:
        return obj.original.sha256

    @staticmethod
    def resolve_size(obj: Recording) -> int:
        return obj.original.size


class RecordingPage(PageMeta):
    items: list[RecordingListItem]


class MetadataOut(Schema):
    device_serial: str
    badge_number: str
    start_time: datetime | None
    end_time: datetime | None
    time_source: str
    time_source_label: str
    place: str
    case_number: str
    party: str
    handler: str
    matter_type: str
    notes: str


class MediaOut(Schema):
    kind: str
    kind_label: str
    mime_type: str
    container: str
    video_codec: str
    audio_codec: str
    duration_s: float | None
    width: int | None
    height: int | None
    playable: bool = Field(description="浏览器能否直接播放原始文件")


class TimelinessOut(Schema):
    received_at: datetime
    upload_deadline: datetime | None
    on_time: bool | None
    late_reason: str
    late_reason_label: str
    late_reason_text: str


class FlagOut(Schema):
    code: str = Field(description="稳定代码，如 capture_time_future（拍摄时间晚于接收时间）")
    message: str = Field(description="中文说明")


class FlagsOut(Schema):
    flagged: bool
    flag_reason: str
    items: list[FlagOut] = Field(description="逐项异常（更正拍摄时间后，时间类异常自动解除）")
    is_important: bool
    late: bool


class DerivativeOut(Schema):
    id: int
    kind: str
    kind_label: str
    mime_type: str
    width: int | None
    height: int | None
    size: int
    created_at: datetime
    note: str


class RecordingDetail(Schema):
    id: int
    original_filename: str
    raw_filename: str
    metadata: MetadataOut
    digests: DigestsOut
    media: MediaOut
    unit: UnitRef
    department: DepartmentRef
    primary_officer: PersonRef | None
    officers: list[PersonRef]
    uploaded_by: PersonRef
    timeliness: TimelinessOut
    flags: FlagsOut
    derivatives: list[DerivativeOut] = Field(description="衍生资料（不是执法音像记录本身）")
    content_url: str


class CustodyEventOut(Schema):
    id: int = Field(description="事件编号")
    event_uid: str = Field(description="事件标识（写入默克尔树的条目中）")
    leaf_index: int | None = Field(None, description="在默克尔树中的叶子序号；尚未入树时为空")
    occurred_at: datetime
    actor_name: str
    action: str
    action_label: str
    subject_type: str
    subject_id: str
    details: dict[str, Any]
    details_erased: bool = Field(description="详情是否已依法删除")
    details_digest: str = Field(description="详情的加盐摘要（条目承诺的就是它）")
    request_id: str

    @staticmethod
    def resolve_event_uid(obj) -> str:
        return str(obj.event_uid)

    @staticmethod
    def resolve_leaf_index(obj) -> int | None:
        leaf = getattr(obj, "leaf", None) if hasattr(obj, "leaf") else None
        return leaf.index if leaf is not None else None

    @staticmethod
    def resolve_action_label(obj) -> str:
        try:
            return str(EventCode(obj.action).label)
        except ValueError:
            return obj.action


class CustodyEventPage(PageMeta):
    items: list[CustodyEventOut]


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _detail(recording: Recording) -> dict:
    derivatives = recording.derivatives.select_related("stored_object").order_by("kind")
    return {
        "id": recording.pk,
        "original_filename": recording.original_filename,
        "raw_filename": recording.raw_filename,
        "metadata": {
            **{f: getattr(recording, f) for f in (*DESCRIPTIVE_FIELDS, "badge_number", "time_source")},
            "time_source_label": _label(TimeSource, recording.time_source),
        },
        "digests": recording.original.digests.as_dict(),
        "media": {
            "kind": recording.media_kind,
            "kind_label": _label(MediaKind, recording.media_kind),
            **{
                f: getattr(recording, f)
                for f in (
                    "mime_type",
                    "container",
                    "video_codec",
                    "audio_codec",
                    "duration_s",
                    "width",
                    "height",
                    "playable",
                )
            },
        },
        "unit": recording.unit,
        "department": recording.department,
        "primary_officer": recording.primary_officer,
        "officers": list(recording.officers.order_by("pk")),
        "uploaded_by": recording.uploaded_by,
        "timeliness": {
            "received_at": recording.received_at,
            "upload_deadline": recording.upload_deadline,
            "on_time": recording.on_time,
            "late_reason": recording.late_reason,
            "late_reason_label": _label(LateReason, recording.late_reason),
            "late_reason_text": recording.late_reason_text,
        },
        "flags": {
            "flagged": recording.flagged,
            "flag_reason": recording.flag_reason,
            "items": recording.flags or [],
            "is_important": recording.is_important,
            "late": recording.is_late,
        },
        "derivatives": [
            {
                "id": d.pk,
                "kind": d.kind,
                "kind_label": d.get_kind_display(),
                "mime_type": d.mime_type,
                "width": d.width,
                "height": d.height,
                "size": d.stored_object.size,
                "created_at": d.created_at,
                "note": d.note,
            }
            for d in derivatives
        ],
        "content_url": f"/api/v1/recordings/{recording.pk}/content",
    }


# --- endpoints ---------------------------------------------------------------------------


@router.get("", response={200: RecordingPage, **_ERRORS}, summary="检索执法音像记录")
def list_recordings_endpoint(request, filters: Query[RecordingFilterIn], page: Query[PageParams]):
    """只返回当前账号有权查看的记录；总数超过 10000 时截断（`count_capped` 为 true）。"""
    return page_of(list_recordings(request.auth, filters.to_filter()), page)


@router.get("/{int:recording_id}", response={200: RecordingDetail, **_ERRORS}, summary="记录详情")
def recording_detail(request, recording_id: Id):
    """元数据、摘要（SHA-256、SM3、大小）、媒体信息、是否按时上传、异常标记与衍生资料。"""
    return _detail(get_recording(request.auth, recording_id))


@router.api_operation(
    ["GET", "HEAD"],
    "/{int:recording_id}/content",
    response={200: None, 206: None, **_ERRORS, 416: None},
    summary="原始文件（支持 Range）",
    auth=api_auth(TokenScope.CONTENT),
)
def recording_content(
    request,
    recording_id: Id,
    download: bool = Query(False, description="为 true 时作为附件下载"),
    purpose: Text = Query("", max_length=500, description="查阅事由，记入查阅登记"),
):
    """返回原始文件的字节，支持 HTTP Range 断点与拖动播放。

    每个返回字节的请求都单独记入查阅登记（ACC-2），无论 Range 的形式（`bytes=1-`、后缀范围、
    多个范围、If-Range 不匹配）：带 `download=1` 或返回完整文件的请求登记为“下载”，其余 Range
    请求登记为“播放”，并记录本次返回的字节范围。接口客户端没有页面播放令牌，无法把多个请求
    归为同一次播放，因此每个请求各登记一条。HEAD 与无法满足的范围（416）不返回字节，不登记。
    """
    action = AccessAction.DOWNLOAD if download else AccessAction.PLAY
    recording = get_recording(request.auth, recording_id, action=action.value)
    ensure_present(recording.original)
    if request.method == "GET":
        _register_content_read(request, recording, download=download, purpose=purpose)
    return serve_stored_object(
        request,
        recording.original,
        content_type=recording.mime_type or "application/octet-stream",
        filename=recording.original_filename,
        attachment=download,
    )


def _register_content_read(request, recording, *, download: bool, purpose: str) -> None:
    """One entry per request that is answered with bytes, with the span it is answered with.

    Per-request entries: an API client has no page view whose play token would tie its range
    requests together, so each one is an access of its own (ACC-2).
    """
    obj = recording.original
    wanted = requested_range(request, obj.size, obj.sha256)
    if wanted is False:
        return
    span = Span(*served_span(wanted, obj.size), whole=not wanted)
    register_read(
        recording,
        actor=request.auth,
        action=AccessAction.DOWNLOAD if (download or not wanted) else AccessAction.PLAY,
        span=span,
        purpose=purpose.strip(),
        client=client_label(request, "api"),
    )


@router.get(
    "/{int:recording_id}/custody-events",
    response={200: CustodyEventPage, **_ERRORS},
    summary="记录的保管链事件",
)
def recording_custody_events(request, recording_id: Id, page: Query[PageParams]):
    """该记录自入库以来的全部保管链事件（按编号升序），含叶子序号与详情摘要；证明可用 /custody/proof/inclusion 或 /custody/bundle 取得。"""
    recording = get_recording(request.auth, recording_id)
    return page_of(custody_history(recording), page)
