"""/api/v1/custody: the custody log's state, proofs and verification (ACC-5).

For the audit administrator (and a witness using an audit administrator's token): the latest
checkpoint, consistency and inclusion proofs, a subject's proof bundle, publishing a witness's
co-signature, and a full verification. Sizes and indexes are bounded; a proof the tree cannot
give is a 400 with a Chinese message, never a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from api.auth import api_auth
from api.choices import TokenScope
from api.schemas import ErrorOut, Id, Text
from core.choices import CheckStatus, CheckTrigger
from core.errors import DomainError, NotFoundError, PermissionDeniedError
from custody import tree
from custody.bundles import subject_bundle
from custody.checkpoints import add_cosignature, cosigned_note, latest_checkpoint, make_checkpoint
from custody.models import Checkpoint, Leaf
from custody.services import verify_custody_chain
from custody.verifier import note
from orgs.choices import Role

router = Router(tags=["保管链"], auth=api_auth(TokenScope.AUDIT))

Size = Annotated[int, Field(ge=0, le=2**53 - 1, description="树大小（叶子数）")]
Index = Annotated[int, Field(ge=0, le=2**53 - 1, description="叶子序号（从 0 起）")]


def _audit_only(request) -> None:
    if not request.auth.has_role(Role.AUDIT_ADMIN):
        raise PermissionDeniedError(_("仅审计管理员可以读取保管链的状态与证明。"))


class ChainFindingOut(Schema):
    seq: int | None = Field(None, description="所涉事件的编号")
    leaf: int | None = Field(None, description="所涉叶子序号")
    problem: str = Field(description="问题代码：altered / details_altered / checkpoint_mismatch / truncated …")
    message: str


class ChainVerificationOut(Schema):
    intact: bool = Field(description="保管链是否完整")
    status: str = Field(description="pass / fail / not_run（本次校验结果已保存）")
    detail: str
    total_events: int
    tree_size: int | None
    root: str
    checked_at: datetime
    findings: list[ChainFindingOut]


@router.get("/verify", response={200: ChainVerificationOut, 401: ErrorOut, 403: ErrorOut},
            summary="校验保管链（审计管理员）")
def verify_custody(request):
    """由全部事件重建默克尔树，与保存的节点、检查点、见证联署及查阅登记逐一核对，返回并保存发现的问题。"""
    _audit_only(request)
    result = verify_custody_chain(actor=request.auth, trigger=CheckTrigger.API)
    return {
        "intact": result.status == CheckStatus.PASS,
        "status": result.status,
        "total_events": result.events_checked,
        "tree_size": result.last_seq,
        "root": result.last_hash,
        "checked_at": result.checked_at,
        "detail": result.detail,
        "findings": result.findings,
    }


class CheckpointOut(Schema):
    checkpoint: str = Field(description="C2SP tlog-checkpoint 签名文本（含见证联署行）")
    size: int
    root: str = Field(description="根哈希（base64）")
    created_at: datetime
    cosignatures: int


def _checkpoint_out(cp: Checkpoint) -> dict:
    return {"checkpoint": cosigned_note(cp), "size": cp.size, "root": note.b64encode(bytes.fromhex(cp.root)),
            "created_at": cp.created_at, "cosignatures": cp.cosignatures.count()}


@router.get("/checkpoint", response={200: CheckpointOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
            summary="最新检查点")
def get_latest_checkpoint(request):
    """最新签发的检查点（树大小、根哈希与签名），见证人据此联署。"""
    _audit_only(request)
    cp = latest_checkpoint()
    if cp is None:
        raise NotFoundError(_("尚未签发检查点。"))
    return _checkpoint_out(cp)


@router.post("/checkpoints", response={201: CheckpointOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
             summary="立即签发检查点")
def post_checkpoint(request):
    """把待入树的事件并入默克尔树，与上一个检查点核对一致后签发新检查点（无新事件时返回最新的）。"""
    _audit_only(request)
    return 201, _checkpoint_out(make_checkpoint(actor=request.auth, trigger=CheckTrigger.API))


class CosignatureIn(Schema):
    cosignature: Text = Field(max_length=500, description="见证人的联署签名行（— 名称 base64）")


class CosignatureOut(Schema):
    witness: str
    size: int
    signed_at: datetime


@router.post("/checkpoints/{size}/cosignatures",
             response={201: CosignatureOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="提交见证联署")
def post_cosignature(request, size: Size, payload: CosignatureIn):
    """见证人核对一致后，把它对该检查点的联署签名行交回平台；平台用登记的见证人公钥核验后保存。"""
    _audit_only(request)
    cp = Checkpoint.objects.filter(size=size).first()
    if cp is None:
        raise NotFoundError(_("没有树大小为 %(size)s 的检查点。") % {"size": size})
    cosig = add_cosignature(cp, payload.cosignature, actor=request.auth)
    return 201, {"witness": cosig.witness_name, "size": cp.size, "signed_at": cosig.signed_at}


class ConsistencyOut(Schema):
    first: int
    second: int
    proof: list[str] = Field(description="RFC 9162 §2.1.4 一致性证明（base64，自下而上）")


def _bounded_sizes(*sizes: int) -> int:
    current = tree.tree_size()
    for size in sizes:
        if size > current:
            raise DomainError(_("树目前只有 %(n)s 个叶子，不能证明到 %(size)s。") % {"n": current, "size": size})
    return current


@router.get("/proof/consistency", response={200: ConsistencyOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
            summary="一致性证明")
def get_consistency(request, first: Query[Size], second: Query[Size]):
    """证明大小为 first 的树是大小为 second 的树的前缀（历史只增未改）。"""
    _audit_only(request)
    if not 0 < first <= second:
        raise DomainError(_("一致性证明要求 0 < first ≤ second。"))
    _bounded_sizes(second)
    return {"first": first, "second": second,
            "proof": [note.b64encode(h) for h in tree.consistency_proof(first, second)]}


class InclusionOut(Schema):
    leaf_index: int
    tree_size: int
    event: int
    proof: list[str] = Field(description="RFC 9162 §2.1.3 包含证明（base64，自下而上）")


@router.get("/proof/inclusion", response={200: InclusionOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
            summary="包含证明")
def get_inclusion(request, tree_size: Query[Size], leaf_index: Query[Index | None] = None,
                  event: Query[Id | None] = None):
    """某个事件（按叶子序号或事件编号）在大小为 tree_size 的树中的包含证明。"""
    _audit_only(request)
    _bounded_sizes(tree_size)
    leaf = (Leaf.objects.filter(event_id=event) if event is not None else Leaf.objects.filter(index=leaf_index)).first()
    if leaf is None:
        raise NotFoundError(_("没有这个叶子（事件可能尚未入树）。"))
    if leaf.index >= tree_size:
        raise DomainError(_("第 %(i)s 号叶子不在大小为 %(n)s 的树中。") % {"i": leaf.index, "n": tree_size})
    return {"leaf_index": leaf.index, "tree_size": tree_size, "event": leaf.event_id,
            "proof": [note.b64encode(h) for h in tree.inclusion_proof(leaf.index, tree_size)]}


@router.get("/bundle", response={200: dict, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
            summary="对象的证明包")
def get_bundle(request, subject_type: Query[Annotated[Text, Field(max_length=32)]],
               subject_id: Query[Annotated[Text, Field(max_length=64)]]):
    """某个对象（如 recording / 42）的全部事件及其包含证明，可用离线校验程序核对。"""
    _audit_only(request)
    return subject_bundle(subject_type, subject_id, actor=request.auth)
