"""The Merkle tree as stored in the database: reads only (sizes, nodes, roots, proofs).

Nodes are the perfect subtrees of ``TreeNode``; any root or proof is folded from at most
~2·log2(N) of them, fetched in one query (custody.merkle plans).
"""

from __future__ import annotations

from django.db.models import Max, Q

from custody import merkle
from custody.models import Leaf, TreeNode


class MissingNode(LookupError):
    """A node the tree of this size must have is not stored (deleted or never written)."""


def tree_size() -> int:
    last = Leaf.objects.aggregate(last=Max("index"))["last"]
    return 0 if last is None else last + 1


def fetch_nodes(ids) -> dict[tuple[int, int], bytes]:
    ids = set(ids)
    if not ids:
        return {}
    query = Q()
    for level, index in ids:
        query |= Q(level=level, index=index)
    found = {(lv, ix): bytes.fromhex(h) for lv, ix, h in TreeNode.objects.filter(query).values_list("level", "index", "hash")}
    missing = ids - found.keys()
    if missing:
        raise MissingNode(sorted(missing)[0])
    return found


def getter(ids):
    nodes = fetch_nodes(ids)
    return lambda level, index: nodes[(level, index)]


def root_at(size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    plan = merkle.root_plan(size)
    return merkle.root_at(size, getter(plan))


def inclusion_proof(index: int, size: int) -> list[bytes]:
    plan = merkle.inclusion_plan(index, size)
    return merkle.resolve_plan(plan, fetch_nodes(merkle.plan_node_ids(plan)))


def consistency_proof(first: int, second: int) -> list[bytes]:
    plan = merkle.consistency_plan(first, second)
    return merkle.resolve_plan(plan, fetch_nodes(merkle.plan_node_ids(plan)))


def frontier(size: int) -> merkle.Frontier:
    return merkle.Frontier.load(size, getter(merkle.root_plan(size)) if size else None)
