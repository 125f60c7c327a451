"""Merkle tree verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 write it.

Standard library only. Kept apart from ``custody/merkle.py`` (which builds the tree and
its proofs, and verifies by a different route) so that this directory can be copied onto
an evidence disc alone, and so that two independent implementations check each other.
"""

from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _hashes_ok(*values: bytes) -> bool:
    return all(isinstance(v, bytes) and len(v) == 32 for v in values)


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, path: list, root: bytes) -> bool:
    """RFC 9162 §2.1.3.2; ``leaf`` is the leaf hash."""
    if not _hashes_ok(leaf, root, *path) or not 0 <= leaf_index < tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes, path: list) -> bool:
    """RFC 9162 §2.1.4.2, plus the equal-size and empty-tree cases the RFC leaves to callers."""
    if not 0 < first <= second:  # from the empty tree there is nothing to prove
        return False
    if first == second:  # nothing to prove: the same tree (the hashes' sizes are not checked)
        return not path and first_hash == second_hash
    if not _hashes_ok(first_hash, second_hash, *path):
        return False
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0
