"""/api/v1/custody: independent verification of the hash-chained custody log (ACC-5)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from api.schemas import ErrorOut
from core.choices import CheckStatus, CheckTrigger
from core.errors import PermissionDeniedError
from custody.services import verify_custody_chain
from orgs.choices import Role

router = Router(tags=["保管链"])


class ChainFindingOut(Schema):
    seq: int
    problem: str = Field(description="gap / broken_link / altered")
    message: str


class ChainVerificationOut(Schema):
    intact: bool = Field(description="哈希链是否完整")
    status: str = Field(description="pass / fail / not_run（本次校验结果已保存）")
    detail: str
    total_events: int
    last_seq: int | None
    last_hash: str
    checked_at: datetime
    findings: list[ChainFindingOut]


@router.get(
    "/verify",
    response={200: ChainVerificationOut, 401: ErrorOut, 403: ErrorOut},
    summary="校验保管链（审计管理员）",
)
def verify_custody(request):
    """重新计算整条保管链的哈希，返回并保存发现的问题（缺号、断链、内容被改动）。仅审计管理员可用。"""
    if not request.auth.has_role(Role.AUDIT_ADMIN):
        raise PermissionDeniedError(_("仅审计管理员可以校验保管链。"))
    result = verify_custody_chain(actor=request.auth, trigger=CheckTrigger.API)
    return {
        "intact": result.status == CheckStatus.PASS,
        "status": result.status,
        "total_events": result.events_checked,
        "last_seq": result.last_seq,
        "last_hash": result.last_hash,
        "checked_at": result.checked_at,
        "detail": result.detail,
        "findings": result.findings,
    }
