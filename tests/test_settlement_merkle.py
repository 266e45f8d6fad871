"""The Merkle rebuild of settlement batches, against OpenZeppelin's StandardMerkleTree (devnet/merkle.mjs).

Hand-built leaves go through the JavaScript library the facilitator uses; our rebuild (collectors/) must give
its root and tree exactly. check_batch's decisions are held against hand-built batches and blobs.
"""

from __future__ import annotations

import json

import pytest

from collectors import settle_merkle as sm
from collectors.blob_check import Fetched, check_batch
from collectors.settle_store import Batch
from devnet import merkle as js


def _leaves(n: int, seed: int) -> list[list[str]]:
    def h(i: int, k: int) -> str:
        return "0x" + f"{seed:02x}{i:04x}{k:02x}".ljust(64, "a")

    return [[h(i, 1), h(i, 2), h(i, 3), "0x" + f"{i:02x}" * (1 + i % 5), str(1_700_000_000 + 7 * i)]
            for i in range(n)]


@pytest.fixture(scope="module")
def trees() -> list[tuple[list[list[str]], str, dict]]:
    """Trees of 1, 2, 3 and 20 leaves built by OpenZeppelin's library (one node run)."""
    leaf_sets = [_leaves(n, s) for s, n in enumerate((1, 2, 3, 20))]
    return [(leaves, root, dump) for leaves, (root, dump) in zip(leaf_sets, js.build_trees(leaf_sets), strict=True)]


def test_rebuild_equals_openzeppelin(trees: list[tuple[list[list[str]], str, dict]]) -> None:
    for leaves, root, dump in trees:
        rebuilt = sm.rebuild(json.dumps(dump).encode())
        assert rebuilt.root == root
        assert list(rebuilt.tree) == [h.lower() for h in dump["tree"]]
        assert [lf.timestamp for lf in rebuilt.leaves] == [int(v[4]) for v in leaves]
        assert [lf.tee_id for lf in rebuilt.leaves] == [v[0] for v in leaves]
        by_index = {int(v["treeIndex"]): lf.leaf_hash for v, lf in zip(dump["values"], rebuilt.leaves, strict=True)}
        assert all(dump["tree"][i].lower() == h for i, h in by_index.items())


def test_proofs_lead_to_the_root(trees: list[tuple[list[list[str]], str, dict]]) -> None:
    _leaves20, root, dump = trees[-1]
    rebuilt = sm.rebuild(json.dumps(dump).encode())
    for lf in rebuilt.leaves:
        ours = sm.proof(rebuilt.tree, lf.leaf_hash)
        assert js.process_proof(lf.leaf_hash, ours) == root
        assert ours == [p.lower() for p in js.proof_from_dump(dump, lf.index)]


def test_one_changed_leaf_changes_the_root(trees: list[tuple[list[list[str]], str, dict]]) -> None:
    _leaves3, root, dump = trees[2]
    forged = json.loads(json.dumps(dump))
    forged["values"][1]["value"][2] = "0x" + "bb" * 32
    assert sm.rebuild(json.dumps(forged).encode()).root != root


@pytest.mark.parametrize(("blob", "why"), [
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"format": "simple-v1"}).encode(), "dump format"),
    (json.dumps({"format": "standard-v1", "leafEncoding": ["bytes32"], "values": []}).encode(), "leaf encoding"),
    (json.dumps({"format": "standard-v1", "leafEncoding": list(sm.LEAF_ENCODING), "values": []}).encode(),
     "no values"),
    (json.dumps({"format": "standard-v1", "leafEncoding": list(sm.LEAF_ENCODING),
                 "values": [{"value": ["0x12", "0x" + "00" * 32, "0x" + "00" * 32, "0x", "1"]}]}).encode(),
     "expected 32 bytes"),
    (json.dumps({"format": "standard-v1", "leafEncoding": list(sm.LEAF_ENCODING),
                 "values": [{"value": ["0x" + "00" * 32] * 3 + ["0x", "-1"]}]}).encode(), "decimal"),
])
def test_bad_dumps_are_refused(blob: bytes, why: str) -> None:
    with pytest.raises(sm.DumpError, match=why):
        sm.rebuild(blob)


def _batch(root: str, size: int | None, blob: str | None = "blob-1", version: int = 2) -> Batch:
    return Batch(10740, 9, 0, "0x" + "11" * 20, version, root, size, blob, 0)


def test_check_batch_outcomes(trees: list[tuple[list[list[str]], str, dict]]) -> None:
    _leaves3, root, dump = trees[2]
    good = json.dumps(dump).encode()
    check, leaves = check_batch(_batch(root, 3), lambda _b: Fetched(good), lambda _b, _r: True)
    assert (check.status, check.proof_checked, check.proof_ok, len(leaves)) == ("verified", True, True, 3)
    check, leaves = check_batch(_batch(root, 3), lambda _b: Fetched(good), None)
    assert (check.status, check.proof_checked, check.proof_ok) == ("verified", False, None)
    check, leaves = check_batch(_batch(root, 4), lambda _b: Fetched(good), None)
    assert (check.status, leaves) == ("mismatch", ())
    assert "batch size 4" in check.reason
    check, _ = check_batch(_batch("0x" + "cd" * 32, 3), lambda _b: Fetched(good), None)
    assert check.status == "mismatch" and check.rebuilt_root == root
    check, _ = check_batch(_batch(root, 3), lambda _b: Fetched(b"{}"), None)
    assert check.status == "mismatch" and "not a settlement tree dump" in check.reason
    check, _ = check_batch(_batch(root, 3), lambda _b: Fetched(None, "blob not found"), None)
    assert (check.status, check.reason) == ("unavailable", "blob not found")
    check, _ = check_batch(_batch(root, 3, None), lambda _b: Fetched(good), None)
    assert check.status == "unavailable" and "names no Walrus blob" in check.reason
    check, _ = check_batch(_batch(root, 3, None, version=1), lambda _b: Fetched(good), None)
    assert check.status == "unavailable" and "relay v1" in check.reason
    check, _ = check_batch(_batch(root, 3), lambda _b: Fetched(good), lambda _b, _r: False)
    assert (check.status, check.proof_ok) == ("mismatch", False)
