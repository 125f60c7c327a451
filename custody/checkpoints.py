"""Checkpoints: the tree's size and root, signed by the log key (C2SP tlog-checkpoint), and the
witnesses' co-signatures on them (C2SP tlog-cosignature).

Each new checkpoint is checked before it is signed: the previous checkpoint's signature must
verify and the tree must still have its root at its size (a consistency proof from it to the
new size verifies). A tree that fails is not signed; the refusal is an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.choices import CheckTrigger
from core.errors import DomainError
from custody import tree
from custody.choices import EventCode
from custody.keys import log_origin, verifying_keys
from custody.models import Checkpoint, Cosignature
from custody.sequencer import integrate_all
from custody.services import record_event
from custody.signing import sign_checkpoint, verify_checkpoint
from custody.verifier import note, tlog


class CheckpointRefused(DomainError):
    pass


def checkpoint_due(now: datetime | None = None) -> bool:
    now = now or timezone.now()
    last = Checkpoint.objects.order_by("-size").values("created_at", "size").first()
    if last is None:
        return tree.tree_size() > 0
    interval = timedelta(minutes=max(1, settings.LOG_CHECKPOINT_MINUTES))
    return now - last["created_at"] >= interval and tree.tree_size() > last["size"]


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def check_against_tree(checkpoint: Checkpoint, size: int, root: bytes) -> str | None:
    """Why ``checkpoint`` is not a prefix of the tree (size, root), or None when it is."""
    ed_keys, sm2_keys = verifying_keys()
    check = verify_checkpoint(checkpoint.note, ed25519_keys=ed_keys, sm2_keys=sm2_keys)
    if not check.ok:
        return _("第 %(size)s 号检查点的签名无效：%(why)s") % {"size": checkpoint.size, "why": "；".join(check.problems)}
    if check.checkpoint.size != checkpoint.size or check.checkpoint.root.hex() != checkpoint.root:
        return _("第 %(size)s 号检查点的记录与其签名内容不符") % {"size": checkpoint.size}
    if checkpoint.size > size:
        return _("树只有 %(now)s 个叶子，少于检查点的 %(size)s 个（日志被截短）") % {"now": size, "size": checkpoint.size}
    old_root = bytes.fromhex(checkpoint.root)
    if checkpoint.size == size:
        return None if old_root == root else _("树大小与检查点相同，根哈希却不同（历史被改写）")
    proof = tree.consistency_proof(checkpoint.size, size) if checkpoint.size else []
    if checkpoint.size and not tlog.verify_consistency(checkpoint.size, size, old_root, root, proof):
        return _("当前树与第 %(size)s 号检查点不一致（历史被改写）") % {"size": checkpoint.size}
    return None


def make_checkpoint(*, actor=None, trigger: str = CheckTrigger.MANUAL) -> Checkpoint:
    """Sign the tree as it is now (after integrating what is queued); the latest one if nothing is new."""
    integrate_all()
    with transaction.atomic():
        size = tree.tree_size()
        last = latest_checkpoint()
        if last is not None and last.size == size:
            return last
        root = tree.root_at(size)
        problem = check_against_tree(last, size, root) if last is not None else None
        if problem is None:
            try:
                with transaction.atomic():
                    return _sign(size, root, actor=actor, trigger=trigger)
            except IntegrityError:
                # Another node signed this very size a moment ago (the audit page, the API and
                # the periodic task may race): the same tree, so the same checkpoint.
                existing = Checkpoint.objects.filter(size=size).first()
                if existing is None or existing.root != root.hex():
                    raise
                return existing
    # outside the block above, so the refusal itself is kept (and no checkpoint is)
    record_event(EventCode.CHECKPOINT_REFUSED, actor=actor, subject=("checkpoint", str(size)),
                 details={"tree_size": size, "root": root.hex(), "reason": problem})
    raise CheckpointRefused(problem)


def _sign(size: int, root: bytes, *, actor, trigger: str) -> Checkpoint:
    text = sign_checkpoint(log_origin(), size, root)
    checkpoint = Checkpoint.objects.create(
        size=size, root=root.hex(), note=text, created_at=timezone.now(), trigger=trigger
    )
    record_event(EventCode.CHECKPOINT_SIGNED, actor=actor, subject=checkpoint,
                 details={"tree_size": size, "root": root.hex(), "trigger": trigger})
    return checkpoint


# --- witnesses --------------------------------------------------------------------------


def witness_keys() -> list[note.VerifierKey]:
    keys = []
    for text in settings.LOG_WITNESSES:
        try:
            key = note.VerifierKey.parse(text)
        except note.NoteError:
            continue
        if key.alg == note.ALG_COSIGNATURE_V1:
            keys.append(key)
    return keys


@dataclass(frozen=True)
class CosignatureCheck:
    key: note.VerifierKey | None
    signed_at: datetime | None
    problem: str | None


def check_cosignature(checkpoint: Checkpoint, line: str) -> CosignatureCheck:
    body = note.parse_checkpoint(checkpoint.note).body
    try:
        _body, signatures = note.parse_note(body + "\n" + line.rstrip("\n") + "\n")
    except note.NoteError as exc:
        return CosignatureCheck(None, None, _("联署签名行无法解析：%(why)s") % {"why": exc})
    if len(signatures) != 1:
        return CosignatureCheck(None, None, _("应当只有一行联署签名"))
    sig = signatures[0]
    key = next((k for k in witness_keys() if k.name == sig.name and k.key_id == sig.key_id), None)
    if key is None:
        return CosignatureCheck(None, None, _("见证人 %(name)s 未登记（AVR_LOG_WITNESSES）") % {"name": sig.name})
    ok, _kind = note.verify_signature(body, sig, key)
    if not ok:
        return CosignatureCheck(key, None, _("见证人 %(name)s 的联署签名无效") % {"name": sig.name})
    stamp = int.from_bytes(sig.blob[:8], "big")
    return CosignatureCheck(key, datetime.fromtimestamp(stamp, UTC), None)


def add_cosignature(checkpoint: Checkpoint, line: str, *, actor=None) -> Cosignature:
    """Store a witness's co-signature of ``checkpoint`` after verifying it (the witness
    publishes it back); one per witness key and checkpoint."""
    check = check_cosignature(checkpoint, line)
    if check.problem:
        raise DomainError(check.problem)
    existing = Cosignature.objects.filter(
        checkpoint=checkpoint, witness_name=check.key.name, key_id=check.key.key_id.hex()
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            cosignature = Cosignature.objects.create(
                checkpoint=checkpoint, witness_name=check.key.name, key_id=check.key.key_id.hex(),
                signed_at=check.signed_at, line=line.rstrip("\n"), received_at=timezone.now(),
            )
            record_event(EventCode.CHECKPOINT_COSIGNED, actor=actor, subject=checkpoint,
                         also=[cosignature],
                         details={"tree_size": checkpoint.size, "witness": check.key.name})
    except IntegrityError:  # the same witness published twice at once
        return Cosignature.objects.get(checkpoint=checkpoint, witness_name=check.key.name,
                                       key_id=check.key.key_id.hex())
    return cosignature


def cosigned_note(checkpoint: Checkpoint) -> str:
    """The checkpoint with every stored co-signature line appended (what witnesses publish)."""
    lines = [c.line + "\n" for c in checkpoint.cosignatures.order_by("pk")]
    return checkpoint.note + "".join(lines)


def last_witnessed_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.filter(cosignatures__isnull=False).order_by("-size").distinct().first()


def check_cosignatures_of():
    """Findings for stored co-signatures that do not verify (a witness key no longer listed in
    AVR_LOG_WITNESSES cannot be checked and is not a finding)."""
    from custody.checks import ChainFinding

    known = {(k.name, k.key_id.hex()) for k in witness_keys()}
    findings = []
    checkpoints = {cp.pk: cp for cp in Checkpoint.objects.filter(
        pk__in=Cosignature.objects.values("checkpoint_id"))}
    for cosig in Cosignature.objects.order_by("pk").iterator():
        checkpoint = checkpoints.get(cosig.checkpoint_id)
        if checkpoint is None:
            findings.append(ChainFinding(None, "cosignature_orphaned",
                                         _("见证人 %(name)s 的联署所属的检查点已不存在（检查点被删除）") % {"name": cosig.witness_name}))
            continue
        cosig.checkpoint = checkpoint
        if (cosig.witness_name, cosig.key_id) not in known:
            continue
        problem = check_cosignature(cosig.checkpoint, cosig.line).problem
        if problem:
            findings.append(ChainFinding(None, "cosignature_invalid",
                                         _("第 %(size)s 号检查点的见证联署无效：%(why)s") % {"size": cosig.checkpoint.size, "why": problem}))
    return findings
