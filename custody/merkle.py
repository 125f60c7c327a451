"""RFC 9162 Merkle tree hashing and proofs for the custody log (standard library only).

This module must import with nothing but the Python standard library: no Django, no
packages. The platform's sequencer, the proofs API and the witness use it; the standalone
verifier (``custody/verifier/``) carries its own, separately written verification code
(``custody/verifier/tlog.py``, the RFC's verification algorithms word for word) so that
the two cross-check each other in the tests.

Why not a library
-----------------
``pymerkle`` 7.0 (the library the issue names) was examined. Its ``security`` mode does
use the 0x00/0x01 prefixes, but it does not fit: it needs ``cachetools`` (a package, so
the disc verifier could not run under ``python3 -I``), it builds and keeps the tree in its
own backends (memory or its own SQLite file) instead of letting us read perfect-subtree
nodes from our database, and its proof objects are its own serialisation, not the RFC
9162 audit path / consistency path lists that checkpoints and witnesses exchange. The
RFC's algorithms are short; they are implemented here and tested against the
transparency-dev reference vectors (``custody/tests/vectors/``) and against pymerkle's
roots where pymerkle is installed.

Hashing (RFC 9162 §2.1.1)
-------------------------
``leaf_hash(entry) = SHA-256(0x00 || entry)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``,
the hash of the empty tree is ``SHA-256("")``. MTH(D[n]) for n > 1 splits at k, the
largest power of two smaller than n: ``MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))``.

Node addressing
---------------
A node is ``(level, index)``: the root of the *perfect* subtree of ``2**level`` leaves
covering leaf positions ``[index * 2**level, (index + 1) * 2**level)``. Level 0 holds the
leaf hashes, ``(0, i)`` is leaf ``i``. (This is the addressing of transparency-dev's
``compact.NodeID`` and of Trillian.) Because the log only grows, a node exists from the
moment the tree has ``(index + 1) * 2**level`` leaves and never changes afterwards, so it
can be written once to an append-only table keyed by ``(level, index)``. A tree of N
leaves has fewer than 2N such nodes; appending one leaf creates the leaf node plus one
node for each trailing one-bit of the old size (``Frontier.append`` returns them).

Nodes that are not perfect (the right border of a tree whose size is not a power of two)
are never stored: they are "ephemeral" and recomputed from at most log2(N) stored nodes.
A proof *plan* is therefore a list of *groups*; each group is a tuple of node ids, left to
right, whose fold ``node_hash(g[0], node_hash(g[1], ... g[-1]))`` is one proof hash. A
group of one id is a stored node. ``inclusion_plan`` and ``consistency_plan`` compute
plans from sizes alone, ``plan_node_ids`` lists the ids to fetch (one ``IN`` query), and
``resolve_plan`` turns fetched hashes into the RFC proof. An inclusion or consistency
proof in a tree of 10 million leaves reads at most about 2 * 24 nodes; a root reads
popcount(size) nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]  # (level, index)
Plan = list[tuple[NodeId, ...]]
GetNode = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that does not verify, or arguments no proof can exist for."""


# --- hashing -------------------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1)."""
    if n < 2:
        raise ValueError("split point needs n > 1")
    return 1 << ((n - 1).bit_length() - 1)


def mth(entries: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of raw entries, written exactly as RFC 9162 §2.1.1 defines it.

    Recursive and O(n); the reference the faster code is tested against.
    """
    n = len(entries)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(entries[0])
    k = split_point(n)
    return node_hash(mth(entries[:k]), mth(entries[k:]))


def root_from_leaf_hashes(leaf_hashes: Iterable[bytes]) -> bytes:
    """The root of a tree given its leaf hashes, in O(n) time and O(log n) memory."""
    frontier = Frontier()
    for value in leaf_hashes:
        frontier.append(value)
    return frontier.root()


# --- node addressing and plans -------------------------------------------------------


def _range_ids(begin: int, end: int) -> tuple[NodeId, ...]:
    """The perfect subtrees covering ``[begin, end)``, left to right, largest first.

    Only used for ranges whose ``begin`` is aligned to the largest of them (every range
    the RFC recursion produces is).
    """
    ids: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin & ((1 << level) - 1):
            raise AssertionError(f"unaligned range [{begin}, {end})")
        ids.append((level, begin >> level))
        begin += 1 << level
    return tuple(ids)


def inclusion_plan(index: int, size: int) -> Plan:
    """The nodes of the RFC 9162 §2.1.3.1 audit path of leaf ``index`` in a tree of ``size``.

    Returned bottom-up, the order of the proof.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    plan: Plan = []
    lo, n, m = 0, size, index
    while n > 1:
        k = split_point(n)
        if m < k:
            plan.append(_range_ids(lo + k, lo + n))
            n = k
        else:
            plan.append(_range_ids(lo, lo + k))
            lo, m, n = lo + k, m - k, n - k
    plan.reverse()
    return plan


def consistency_plan(size1: int, size2: int) -> Plan:
    """The nodes of the RFC 9162 §2.1.4.1 consistency proof from ``size1`` to ``size2``."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    plan: Plan = []
    lo, m, n, complete = 0, size1, size2, True
    while m != n:
        k = split_point(n)
        if m <= k:
            plan.append(_range_ids(lo + k, lo + n))
            n = k
        else:
            plan.append(_range_ids(lo, lo + k))
            lo, m, n, complete = lo + k, m - k, n - k, False
    if not complete:
        plan.append(_range_ids(lo, lo + n))
    plan.reverse()
    return plan


def root_plan(size: int) -> tuple[NodeId, ...]:
    """The perfect subtrees whose fold is the root of a tree of ``size`` (size > 0)."""
    if size < 1:
        raise ProofError("the empty tree has no nodes")
    return _range_ids(0, size)


def plan_node_ids(plan: Iterable[tuple[NodeId, ...]]) -> set[NodeId]:
    return {node for group in plan for node in group}


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect-subtree roots, left to right, into the root of their union."""
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


def resolve_plan(plan: Plan, nodes: Mapping[NodeId, bytes] | GetNode) -> list[bytes]:
    """Turn a plan into the RFC proof, reading nodes from a mapping or ``get_node(level, index)``."""
    get = nodes.__getitem__ if isinstance(nodes, Mapping) else (lambda node: nodes(*node))
    return [fold([get(node) for node in group]) for group in plan]


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    return resolve_plan(inclusion_plan(index, size), get_node)


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    return resolve_plan(consistency_plan(size1, size2), get_node)


def root_at(size: int, get_node: GetNode) -> bytes:
    """The root of the tree of ``size`` leaves (any past size), from stored nodes."""
    if size == 0:
        return EMPTY_ROOT
    return fold([get_node(*node) for node in root_plan(size)])


# --- the frontier (compact range [0, size)) -----------------------------------------


class Frontier:
    """The right edge of the tree: the perfect subtrees covering ``[0, size)``.

    At most log2(size) + 1 hashes. ``append`` returns every node that became complete,
    ``(level, index, hash)``, which is exactly what the sequencer writes to its node
    table; ``Frontier.load(size, get_node)`` rebuilds it from that table in popcount(size)
    reads.
    """

    __slots__ = ("size", "_hashes")

    def __init__(self) -> None:
        self.size = 0
        self._hashes: list[bytes] = []  # left to right, decreasing levels

    @classmethod
    def load(cls, size: int, get_node: GetNode) -> Frontier:
        frontier = cls()
        if size:
            frontier._hashes = [get_node(*node) for node in root_plan(size)]
        frontier.size = size
        return frontier

    def nodes(self) -> list[tuple[int, int, bytes]]:
        ids = root_plan(self.size) if self.size else ()
        return [(level, index, value) for (level, index), value in zip(ids, self._hashes, strict=True)]

    def append(self, value: bytes) -> list[tuple[int, int, bytes]]:
        if len(value) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        index = self.size
        created = [(0, index, value)]
        level = 0
        while index & 1:  # merge with the left sibling while this node is a right child
            value = node_hash(self._hashes.pop(), value)
            index >>= 1
            level += 1
            created.append((level, index, value))
        self._hashes.append(value)
        self.size += 1
        return created

    def root(self) -> bytes:
        return fold(self._hashes) if self._hashes else EMPTY_ROOT


class MemoryTree:
    """A whole tree in a dict of perfect-subtree nodes; for tests and small tools."""

    def __init__(self, entries: Iterable[bytes] = ()) -> None:
        self.frontier = Frontier()
        self.nodes: dict[NodeId, bytes] = {}
        for entry in entries:
            self.append_entry(entry)

    @property
    def size(self) -> int:
        return self.frontier.size

    def append_entry(self, entry: bytes) -> None:
        self.append_leaf_hash(leaf_hash(entry))

    def append_leaf_hash(self, value: bytes) -> None:
        for level, index, node in self.frontier.append(value):
            self.nodes[(level, index)] = node

    def get_node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def root(self, size: int | None = None) -> bytes:
        return self.frontier.root() if size is None else root_at(size, self.get_node)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self.get_node)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self.size if size2 is None else size2, self.get_node)


# --- verification ---------------------------------------------------------------------
# Written from the proof structure (inner part below the point where the paths to
# ``index`` and ``size - 1`` part, border part above it), not from the RFC's loop, so
# that it and custody/verifier/tlog.py check each other.


def _inner_size(index: int, size: int) -> int:
    return (index ^ (size - 1)).bit_length()


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        seed = node_hash(seed, sibling) if (index >> i) & 1 == 0 else node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, sibling in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def _check_hashes(*values: bytes) -> None:
    for value in values:
        if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
            raise ProofError("every hash is 32 bytes")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes(leaf, *proof)
    inner = _inner_size(index, size)
    border = bin(index >> inner).count("1")
    if len(proof) != inner + border:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, expected {inner + border}")
    value = _chain_inner(leaf, proof[:inner], index)
    return _chain_border_right(value, proof[inner:])


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ``ProofError`` unless ``leaf`` (a leaf hash) is at ``index`` of the tree ``root``."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ``ProofError`` unless the tree ``root2`` of ``size2`` extends ``root1`` of ``size1``."""
    if size1 < 0 or size2 < size1:
        raise ProofError(f"size2 ({size2}) is smaller than size1 ({size1})")
    if size1 == 0:  # the empty tree is a prefix of every tree: there is nothing to prove
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes but different roots")
        return
    _check_hashes(root1, root2, *proof)
    if not proof:
        raise ProofError("empty consistency proof")
    inner = _inner_size(size1 - 1, size2)
    shift = ((size1 & -size1).bit_length()) - 1  # trailing zeros of size1
    inner -= shift  # the proof starts at the level of size1's rightmost perfect subtree
    if size1 == 1 << shift:  # size1 is a power of two: its root is that subtree
        seed, rest = root1, list(proof)
    else:
        seed, rest = proof[0], list(proof[1:])
    mask = (size1 - 1) >> shift
    border = bin(mask >> inner).count("1")
    if len(rest) != inner + border:
        raise ProofError("consistency proof has the wrong number of hashes")
    hash1 = _chain_inner_right(seed, rest[:inner], mask)
    hash1 = _chain_border_right(hash1, rest[inner:])
    if hash1 != root1:
        raise ProofError("consistency proof does not lead to the first root")
    hash2 = _chain_inner(seed, rest[:inner], mask)
    hash2 = _chain_border_right(hash2, rest[inner:])
    if hash2 != root2:
        raise ProofError("consistency proof does not lead to the second root")
