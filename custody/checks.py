"""check_custody_chain(): a pure checker returning findings (habit 5)."""

from __future__ import annotations

from dataclasses import dataclass

from custody.hashing import event_hash
from custody.models import GENESIS_HASH, Event


@dataclass(frozen=True)
class ChainFinding:
    seq: int
    problem: str  # stable code
    message: str  # Chinese, for people


def check_custody_chain(*, batch_size: int = 5000, stop_at_first: bool = False) -> list[ChainFinding]:
    findings: list[ChainFinding] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    fields = ["seq", "occurred_at", "actor_id", "actor_name", "action", "subject_type",
              "subject_id", "details", "request_id", "prev_hash", "hash"]
    last_seq = 0
    while True:
        rows = list(Event.objects.filter(seq__gt=last_seq).order_by("seq").values(*fields)[:batch_size])
        if not rows:
            break
        for row in rows:
            last_seq = row["seq"]
            if row["seq"] != expected_seq:
                findings.append(ChainFinding(row["seq"], "gap", f"序号不连续：应为 {expected_seq}，实为 {row['seq']}（有事件缺失）"))
            if row["prev_hash"] != expected_prev:
                findings.append(ChainFinding(row["seq"], "broken_link", f"第 {row['seq']} 号事件的前序哈希与上一事件不符"))
            if event_hash(row) != row["hash"]:
                findings.append(ChainFinding(row["seq"], "altered", f"第 {row['seq']} 号事件的内容与其哈希不符（已被改动）"))
            if findings and stop_at_first:
                return findings
            expected_prev, expected_seq = row["hash"], row["seq"] + 1
    return findings
