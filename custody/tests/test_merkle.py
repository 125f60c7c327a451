"""custody.merkle against the transparency-dev reference vectors, pymerkle and properties."""

from __future__ import annotations

import base64
import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custody import merkle
from custody.verifier import tlog

VECTORS = pathlib.Path(__file__).parent / "vectors"
REF = json.loads((VECTORS / "rfc6962-reference-tree.json").read_text())
LEAVES = [bytes.fromhex(x) for x in REF["leaf_inputs_hex"]]


def _probes(kind):
    for path in sorted((VECTORS / "transparency-dev" / kind).rglob("*.json")):
        yield pytest.param(json.loads(path.read_text()), id=str(path.relative_to(VECTORS)))


def _b(values):
    return [base64.b64decode(v) for v in values or []]


def _tree(n):
    return merkle.MemoryTree(i.to_bytes(4, "big") for i in range(n))


def test_reference_roots_every_size():
    for size, want in enumerate(REF["root_hashes_hex"]):
        assert merkle.mth(LEAVES[:size]).hex() == want
        assert merkle.MemoryTree(LEAVES[:size]).root().hex() == want
        assert merkle.MemoryTree(LEAVES).root(size).hex() == want
        assert merkle.root_from_leaf_hashes(map(merkle.leaf_hash, LEAVES[:size])).hex() == want


def test_reference_node_hashes_by_level_and_index():
    tree = merkle.MemoryTree(LEAVES)
    for level, row in enumerate(REF["node_hashes_hex"]):
        for index, want in enumerate(row):
            assert tree.get_node(level, index).hex() == want
    assert len(tree.nodes) == 15  # 2N - 1 perfect subtrees for N = 8


def test_empty_tree_root_is_hash_of_empty_string():
    assert merkle.EMPTY_ROOT.hex() == REF["root_hashes_hex"][0]
    assert merkle.MemoryTree().root() == merkle.EMPTY_ROOT


def _expected_groups(case):
    ids = [tuple(x) for x in case["ids"]]
    if case["rehash"] is None:
        return [(i,) for i in ids]
    begin, end = case["rehash"]
    ephemeral = tuple(reversed(ids[begin:end]))  # transparency-dev lists them right to left
    return [(i,) for i in ids[:begin]] + [ephemeral] + [(i,) for i in ids[end:]]


@pytest.mark.parametrize("case", REF["inclusion_node_ids"], ids=lambda c: f"{c['size']}:{c['index']}")
def test_inclusion_plan_matches_reference_node_ids(case):
    assert merkle.inclusion_plan(case["index"], case["size"]) == _expected_groups(case)


@pytest.mark.parametrize("case", REF["consistency_node_ids"], ids=lambda c: f"{c['size1']}:{c['size2']}")
def test_consistency_plan_matches_reference_node_ids(case):
    assert merkle.consistency_plan(case["size1"], case["size2"]) == _expected_groups(case)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (8, 7), (-1, 3)])
def test_inclusion_plan_rejects_impossible_arguments(index, size):
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_plan(index, size)


@pytest.mark.parametrize(("size1", "size2"), [(5, 0), (9, 8), (0, 5), (0, 0)])
def test_consistency_plan_rejects_impossible_arguments(size1, size2):
    with pytest.raises(merkle.ProofError):
        merkle.consistency_plan(size1, size2)


@pytest.mark.parametrize("probe", list(_probes("inclusion")))
def test_inclusion_probes_both_verifiers(probe):
    args = (probe["leafIdx"], probe["treeSize"], base64.b64decode(probe["leafHash"] or ""),
            _b(probe["proof"]), base64.b64decode(probe["root"] or ""))
    try:
        merkle.verify_inclusion(*args)
        ours = True
    except merkle.ProofError:
        ours = False
    assert ours is not probe["wantErr"], probe["desc"]
    assert tlog.verify_inclusion(*args) is not probe["wantErr"], probe["desc"]


@pytest.mark.parametrize("probe", list(_probes("consistency")))
def test_consistency_probes_both_verifiers(probe):
    root1, root2 = base64.b64decode(probe["root1"] or ""), base64.b64decode(probe["root2"] or "")
    proof = _b(probe["proof"])
    try:
        merkle.verify_consistency(probe["size1"], probe["size2"], root1, root2, proof)
        ours = True
    except merkle.ProofError:
        ours = False
    assert ours is not probe["wantErr"], probe["desc"]
    theirs = tlog.verify_consistency(probe["size1"], probe["size2"], root1, root2, proof)
    assert theirs is not probe["wantErr"], probe["desc"]


def test_happy_path_probes_are_the_proofs_we_generate():
    tree = merkle.MemoryTree(LEAVES)
    for path in (VECTORS / "transparency-dev" / "inclusion").glob("*/happy-path.json"):
        p = json.loads(path.read_text())
        assert tree.inclusion_proof(p["leafIdx"], p["treeSize"]) == _b(p["proof"])
    for path in (VECTORS / "transparency-dev" / "consistency").glob("*/happy-path.json"):
        p = json.loads(path.read_text())
        if p["size1"]:
            assert tree.consistency_proof(p["size1"], p["size2"]) == _b(p["proof"])


def test_frontier_emits_each_perfect_node_once_and_reloads():
    tree = _tree(1000)
    assert len(tree.nodes) == 2 * 1000 - bin(1000).count("1")
    reads = []

    def get_node(level, index):
        reads.append((level, index))
        return tree.get_node(level, index)

    frontier = merkle.Frontier.load(1000, get_node)
    assert len(reads) == bin(1000).count("1")
    assert frontier.root() == tree.root()
    frontier.append(merkle.leaf_hash((1000).to_bytes(4, "big")))
    assert frontier.root() == _tree(1001).root()


def test_proofs_for_ten_million_leaves_read_logarithmically_many_nodes():
    size = 10_000_000
    worst = max(
        len(merkle.plan_node_ids(merkle.inclusion_plan(i, size)))
        for i in (0, 1, size // 2, size - 2, size - 1, 9_999_873)
    )
    assert worst <= 2 * size.bit_length()
    worst = max(
        len(merkle.plan_node_ids(merkle.consistency_plan(s, size)))
        for s in (1, 3, 4_999_999, 9_999_999, 7_777_777)
    )
    assert worst <= 2 * size.bit_length()


def test_frontier_rejects_a_leaf_hash_of_the_wrong_size():
    with pytest.raises(ValueError):
        merkle.Frontier().append(b"short")


def test_pymerkle_agrees_on_roots_and_audit_paths():
    import pymerkle  # a test dependency (pyproject test extras): an independent RFC 9162 tree
    theirs = pymerkle.InmemoryTree(algorithm="sha256")
    ours = merkle.MemoryTree()
    for i in range(70):
        entry = f"event {i}".encode()
        theirs.append_entry(entry)
        ours.append_entry(entry)
        assert theirs.get_root(i + 1) == ours.root()
    for size in (1, 2, 3, 7, 8, 33, 70):
        for index in range(size):
            path = theirs.prove_inclusion(index + 1, size).path  # pymerkle counts from 1
            assert path[1:] == ours.inclusion_proof(index, size)


_flip = st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=31), st.integers(1, 255))


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 300), data=st.data(), flip=_flip)
def test_every_inclusion_proof_verifies_and_any_altered_byte_fails(size, data, flip):
    tree = _tree(size)
    index = data.draw(st.integers(0, size - 1))
    at = data.draw(st.integers(index + 1, size)) if index + 1 < size else size
    root, proof = tree.root(at), tree.inclusion_proof(index, at)
    leaf = tree.get_node(0, index)
    merkle.verify_inclusion(index, at, leaf, proof, root)
    assert tlog.verify_inclusion(index, at, leaf, proof, root)
    # alter one byte of the leaf, the root or one proof hash
    hashes = [leaf, root, *proof]
    which, pos, xor = flip[0] % len(hashes), flip[1], flip[2]
    changed = bytearray(hashes[which])
    changed[pos] ^= xor
    hashes[which] = bytes(changed)
    leaf2, root2, proof2 = hashes[0], hashes[1], hashes[2:]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, at, leaf2, proof2, root2)
    assert not tlog.verify_inclusion(index, at, leaf2, proof2, root2)
    if index + 1 < at:  # another index must not verify
        assert not tlog.verify_inclusion(index + 1, at, leaf, proof, root)


@settings(max_examples=150, deadline=None)
@given(size2=st.integers(1, 300), data=st.data(), flip=_flip)
def test_every_consistency_proof_verifies_and_any_altered_byte_fails(size2, data, flip):
    tree = _tree(size2)
    size1 = data.draw(st.integers(1, size2))
    root1, root2 = tree.root(size1), tree.root(size2)
    proof = tree.consistency_proof(size1, size2)
    merkle.verify_consistency(size1, size2, root1, root2, proof)
    assert tlog.verify_consistency(size1, size2, root1, root2, proof)
    hashes = [root1, root2, *proof]
    which, pos, xor = flip[0] % len(hashes), flip[1], flip[2]
    changed = bytearray(hashes[which])
    changed[pos] ^= xor
    hashes[which] = bytes(changed)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(size1, size2, hashes[0], hashes[1], hashes[2:])
    assert not tlog.verify_consistency(size1, size2, hashes[0], hashes[1], hashes[2:])


@settings(max_examples=60, deadline=None)
@given(size2=st.integers(2, 200), data=st.data())
def test_a_rewritten_history_is_not_consistent(size2, data):
    size1 = data.draw(st.integers(1, size2 - 1))
    edited = data.draw(st.integers(0, size1 - 1))
    honest = _tree(size2)
    forged = merkle.MemoryTree(
        (b"forged" if i == edited else i.to_bytes(4, "big")) for i in range(size2)
    )
    proof = forged.consistency_proof(size1, size2)
    assert not tlog.verify_consistency(size1, size2, honest.root(size1), forged.root(), proof)
