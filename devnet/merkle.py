"""Merkle trees of LLM settlement leaves, built by the library the inference facilitator uses.

`build_trees` runs ``node devnet/merkle.mjs`` once for many trees (OpenZeppelin's
``StandardMerkleTree.of(leaves, LEAF_ENCODING)``) and returns each root with the tree dump that goes
to Walrus. The rest recomputes the same things in Python, independently of the JavaScript library:
a leaf's hash (keccak256 of keccak256 of abi.encode, the StandardMerkleTree convention), the root over
leaves (hashes sorted, pairs hashed in sorted order) and proofs from a dump.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak

LEAF_ENCODING = ["bytes32", "bytes32", "bytes32", "bytes", "uint256"]
SCRIPT = Path(__file__).resolve().with_name("merkle.mjs")
REPO_ROOT = SCRIPT.parents[1]

#: One leaf: [teeId, inputHash, outputHash, teeSignature] as 0x-hex strings, then the timestamp as a decimal string.
Leaf = Sequence[str]


class MerkleError(RuntimeError):
    """Building trees with node failed; the message says why."""


def build_trees(trees: Sequence[Sequence[Leaf]], timeout: float = 60.0) -> list[tuple[str, dict[str, Any]]]:
    """Root (0x-hex) and StandardMerkleTree dump of each tree, from one run of node."""
    if not trees:
        return []
    node = shutil.which("node")
    if node is None:
        raise MerkleError("node not found on PATH: it is needed to build Merkle trees (devnet/merkle.mjs)")
    payload = json.dumps([[list(leaf) for leaf in leaves] for leaves in trees])
    try:
        done = subprocess.run([node, str(SCRIPT)], input=payload, capture_output=True, text=True,
                              cwd=REPO_ROOT, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise MerkleError(f"node {SCRIPT.name} did not finish within {timeout:g} s") from exc
    if done.returncode != 0:
        detail = " ".join((done.stderr or done.stdout).split())[-500:]
        raise MerkleError(f"node {SCRIPT.name} exited with {done.returncode}: {detail}")
    try:
        out = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise MerkleError(f"node {SCRIPT.name} wrote no JSON: {done.stdout[:200]!r}") from exc
    if not isinstance(out, list) or len(out) != len(trees):
        raise MerkleError(f"node {SCRIPT.name} returned {len(out) if isinstance(out, list) else '?'} trees, "
                          f"expected {len(trees)}")
    return [(str(t["root"]), dict(t["dump"])) for t in out]


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def leaf_hash(leaf: Leaf) -> str:
    """Hash of one leaf as StandardMerkleTree computes it: keccak256(keccak256(abi.encode(leaf)))."""
    tee_id, input_hash, output_hash, signature, timestamp = leaf
    encoded = encode(LEAF_ENCODING, [_bytes(tee_id), _bytes(input_hash), _bytes(output_hash), _bytes(signature),
                                     int(timestamp)])
    return _hex(keccak(keccak(encoded)))


def node_hash(a: str, b: str) -> str:
    """Hash of two sibling nodes: keccak256 of the pair in ascending byte order."""
    x, y = sorted((_bytes(a), _bytes(b)))
    return _hex(keccak(x + y))


def make_tree(leaf_hashes: Sequence[str]) -> list[str]:
    """The tree array of OpenZeppelin's makeMerkleTree: root first, leaves at the end in reverse order."""
    if not leaf_hashes:
        raise ValueError("a Merkle tree needs at least one leaf")
    size = 2 * len(leaf_hashes) - 1
    tree = [""] * size
    for i, h in enumerate(leaf_hashes):
        tree[size - 1 - i] = h.lower()
    for i in range(size - 1 - len(leaf_hashes), -1, -1):
        tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def tree_root(leaves: Sequence[Leaf]) -> str:
    """Root of StandardMerkleTree.of(leaves, LEAF_ENCODING), computed in Python."""
    return make_tree(sorted(leaf_hash(leaf) for leaf in leaves))[0]


def proof_from_dump(dump: dict[str, Any], value_index: int) -> list[str]:
    """Proof (sibling hashes, leaf to root) for the dump's value at value_index, as tree.getProof would give."""
    tree = [str(h) for h in dump["tree"]]
    index = int(dump["values"][value_index]["treeIndex"])
    proof = []
    while index > 0:
        sibling = index - 1 if index % 2 == 0 else index + 1
        proof.append(tree[sibling])
        index = (index - 1) // 2
    return proof


def process_proof(leaf: str, proof: Sequence[str]) -> str:
    """Root implied by a leaf hash and its proof."""
    node = leaf
    for sibling in proof:
        node = node_hash(node, sibling)
    return node
