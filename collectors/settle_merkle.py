"""Rebuild an LLM settlement batch's Merkle root from its published tree dump (pure: bytes in, result out).

The inference facilitator builds each batch with OpenZeppelin's StandardMerkleTree over leaves
``(bytes32 teeId, bytes32 inputHash, bytes32 outputHash, bytes teeSignature, uint256 timestamp)`` and stores
the tree's dump (``{"format": "standard-v1", "leafEncoding": [...], "tree": [...], "values": [...]}``) on
Walrus. The convention: a leaf hash is keccak256(keccak256(abi.encode(leaf))); leaf hashes are sorted, put at
the end of the tree array in reverse order, and each inner node is keccak256 of its two children in ascending
byte order. The root is what we compare with the one settled on chain; nothing from the dump's own `tree`
array is trusted for that.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak

LEAF_ENCODING = ("bytes32", "bytes32", "bytes32", "bytes", "uint256")
DUMP_FORMAT = "standard-v1"
MAX_SAFE_INT = 2**53 - 1  # timestamps above this are no time (and a double would round them): stored as NULL


class DumpError(ValueError):
    """The blob is not a StandardMerkleTree dump of settlement leaves; the message says why."""


@dataclass(frozen=True)
class Leaf:
    """One settled inference of a batch, as the dump lists it (hex lower-case, 0x-prefixed)."""

    index: int           # position in the dump's `values` (the order the facilitator gave)
    tee_id: str
    input_hash: str
    output_hash: str
    signature: str
    timestamp: int       # the TEE's signing time (uint256)
    leaf_hash: str

    @property
    def timestamp_int(self) -> int | None:
        """The timestamp as a storable BIGINT, None when it is beyond any real time."""
        return self.timestamp if self.timestamp <= MAX_SAFE_INT else None


@dataclass(frozen=True)
class Rebuilt:
    """A dump's leaves, the root rebuilt from them, and the tree array (for proofs)."""

    leaves: tuple[Leaf, ...]
    root: str
    tree: tuple[str, ...]
    dump_root: str | None  # the root the dump itself claims (tree[0]), for the reason text only


def _bytes(value: Any, where: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise DumpError(f"{where}: expected 0x-prefixed hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise DumpError(f"{where}: not hex") from None
    if size is not None and len(raw) != size:
        raise DumpError(f"{where}: expected {size} bytes, got {len(raw)}")
    return raw


def _uint(value: Any, where: str) -> int:
    text = str(value)
    if isinstance(value, bool) or not text.isdigit():
        raise DumpError(f"{where}: expected a non-negative decimal integer")
    number = int(text)
    if number >= 2**256:
        raise DumpError(f"{where}: larger than uint256")
    return number


def leaf_hash(tee_id: bytes, input_hash: bytes, output_hash: bytes, signature: bytes, timestamp: int) -> bytes:
    """keccak256(keccak256(abi.encode(leaf))): the StandardMerkleTree leaf hash."""
    return keccak(keccak(encode(list(LEAF_ENCODING), [tee_id, input_hash, output_hash, signature, timestamp])))


def node_hash(a: bytes, b: bytes) -> bytes:
    """An inner node: keccak256 of its two children, smaller first."""
    return keccak(a + b) if a <= b else keccak(b + a)


def build_tree(hashes: Sequence[bytes]) -> list[bytes]:
    """The tree array of sorted leaf hashes: root at 0, leaves at the end in reverse order."""
    if not hashes:
        raise DumpError("a Merkle tree needs at least one leaf")
    ordered = sorted(hashes)
    size = 2 * len(ordered) - 1
    tree = [b""] * size
    for i, h in enumerate(ordered):
        tree[size - 1 - i] = h
    for i in range(size - len(ordered) - 1, -1, -1):
        tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def proof(tree: Sequence[str], leaf: str) -> list[str]:
    """Sibling hashes from a leaf up to the root (what MerkleProof.verify takes)."""
    index = list(tree).index(leaf)
    out = []
    while index > 0:
        out.append(tree[index - 1] if index % 2 == 0 else tree[index + 1])
        index = (index - 1) // 2
    return out


def _leaf(i: int, entry: Any) -> Leaf:
    where = f"values[{i}]"
    value = entry.get("value") if isinstance(entry, dict) else None
    if not isinstance(value, list) or len(value) != len(LEAF_ENCODING):
        raise DumpError(f"{where}: a leaf must be a list of {len(LEAF_ENCODING)} values")
    tee, inp, out = (_bytes(v, f"{where}[{k}]", 32) for k, v in enumerate(value[:3]))
    sig, ts = _bytes(value[3], f"{where}[3]"), _uint(value[4], f"{where}[4]")
    h = leaf_hash(tee, inp, out, sig, ts)
    return Leaf(i, "0x" + tee.hex(), "0x" + inp.hex(), "0x" + out.hex(), "0x" + sig.hex(), ts, "0x" + h.hex())


def parse_dump(data: bytes) -> dict[str, Any]:
    """The dump as JSON, checked for the StandardMerkleTree shape and our leaf encoding."""
    try:
        dump = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DumpError(f"blob is not JSON ({type(exc).__name__})") from None
    if not isinstance(dump, dict):
        raise DumpError("blob is not a JSON object")
    if dump.get("format") != DUMP_FORMAT:
        raise DumpError(f"dump format is {str(dump.get('format'))[:40]!r}, expected {DUMP_FORMAT!r}")
    if list(dump.get("leafEncoding") or []) != list(LEAF_ENCODING):
        raise DumpError(f"leaf encoding is {str(dump.get('leafEncoding'))[:80]}, expected {list(LEAF_ENCODING)}")
    if not isinstance(dump.get("values"), list) or not dump["values"]:
        raise DumpError("dump has no values")
    return dump


def rebuild(data: bytes) -> Rebuilt:
    """Leaves and the rebuilt root of a dump blob; DumpError when it is not one."""
    dump = parse_dump(data)
    leaves = tuple(_leaf(i, v) for i, v in enumerate(dump["values"]))
    tree = tuple("0x" + h.hex() for h in build_tree([bytes.fromhex(leaf.leaf_hash[2:]) for leaf in leaves]))
    claimed = dump.get("tree")
    dump_root = str(claimed[0]).lower() if isinstance(claimed, list) and claimed else None
    return Rebuilt(leaves, tree[0], tree, dump_root)
