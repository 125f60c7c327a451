"""/api/v1/ingest-items: where an upload stands (status endpoints only; tus lives in ingest.views)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from api.auth import api_auth
from api.choices import TokenScope
from api.schemas import ErrorOut, Id, PageMeta, PageParams, page_of
from core.errors import NotFoundError
from ingest.choices import IngestSource, IngestStatus
from ingest.models import IngestItem
from ingest.selectors import get_ingest_item, list_ingest_items

router = Router(tags=["入库"], auth=api_auth(TokenScope.READ))

_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class IngestFilterIn(Schema):
    status: Literal[("", *IngestStatus.values)] = Field("", description="状态")  # type: ignore[valid-type]


class IngestItemOut(Schema):
    id: int
    filename: str
    source: str
    source_label: str
    size: int
    status: str = Field(description="received / processing / stored / flagged / failed")
    status_label: str
    status_message: str
    steps: list[Any] = Field(description="入库处理步骤及结果")
    sha256: str = Field(description="入库时计算的 SHA-256")
    sm3: str = Field(description="入库时计算的 SM3")
    declared_sha256: str = Field(description="客户端声明的 SHA-256")
    client_metadata: dict[str, str] = Field(
        description="上传时客户端附带、平台不认识的元数据键及其值（原样保存，平台不解读）"
    )
    upload_id: UUID | None
    recording_id: int | None = Field(description="入库后的记录编号")
    duplicate_of_id: int | None = Field(description="与已有记录重复且本人可查看该记录时，指向该记录（否则为空）")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_duplicate_of_id(obj: IngestItem) -> int | None:
        return obj.duplicate_of_id if getattr(obj, "duplicate_visible", False) else None

    @staticmethod
    def resolve_status_label(obj: IngestItem) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_source_label(obj: IngestItem) -> str:
        try:
            return str(IngestSource(obj.source).label)
        except ValueError:
            return obj.source


class IngestItemPage(PageMeta):
    items: list[IngestItemOut]


@router.get("", response={200: IngestItemPage, **_ERRORS}, summary="入库项列表")
def list_ingest_items_endpoint(request, filters: Query[IngestFilterIn], page: Query[PageParams]):
    """按角色范围列出入库项及其状态，新的在前：本人上传的，以及本人可查看的记录的入库项；记录仪管理员、采集机构负责人还可看到本机构人员上传的，部门负责人可看到本部门的。"""
    qs = list_ingest_items(request.auth)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page_of(qs, page)


@router.get("/{int:item_id}", response={200: IngestItemOut, **_ERRORS}, summary="入库项详情")
def ingest_item_detail(request, item_id: Id):
    """状态、状态说明、处理步骤，以及入库后的记录编号或重复记录编号。"""
    item = get_ingest_item(request.auth, item_id)
    if item is None:
        raise NotFoundError(_("入库项不存在或您无权查看。"))
    return item
