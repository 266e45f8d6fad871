"""Walrus blob check of LLM settlement batches: is each settled Merkle root backed by its published tree?

For every batch settlement not yet checked, fetch the tree dump from the network's Walrus aggregator
(``GET {aggregator}/v1/blobs/{blobId}``, HTTP with a timeout), rebuild the root from the leaves
(collectors/settle_merkle.py), compare it with the root on chain and, where the relay offers
``verifyProof(bytes32[],bytes32,bytes32)``, have the relay check one leaf's proof with eth_call. Each batch is
recorded verified / mismatch / unavailable with the reason (collectors/settle_store.py); a verified batch's
leaves are stored for per-leaf lags and per-TEE counts. An unreachable aggregator or a missing blob is a
recorded `unavailable`, tried again later, never an exception. Off unless `walrus_aggregator_url` is set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import requests
from eth_abi import encode
from eth_utils import keccak

from collectors import settle_merkle as sm
from collectors.pool import RpcPool
from collectors.rpc import RpcError
from collectors.settle_store import Batch, Check, pending, write
from ogwatch.config import Config
from store.db import Store

VERIFY_PROOF = keccak(text="verifyProof(bytes32[],bytes32,bytes32)")[:4]
PROOF_RELAY_KINDS = frozenset({"settlement_relay"})  # relay v2 has verifyProof; v1 publishes no tree at all
HTTP_TIMEOUT_S = 10.0
MAX_BLOB_BYTES = 64 * 1024 * 1024  # a 20-leaf dump is ~15 kB; refuse anything absurd rather than fill memory
RECHECK_AFTER = timedelta(minutes=5)  # an unavailable blob may not be uploaded yet: first wait, doubling per attempt
BATCHES_PER_TICK = 200

Fetcher = Callable[[str], "Fetched"]


@dataclass(frozen=True)
class Fetched:
    """A blob's bytes, or why there are none."""

    data: bytes | None
    reason: str = ""


def fetch_blob(base_url: str, blob_id: str, timeout: float = HTTP_TIMEOUT_S) -> Fetched:
    """GET one blob from an aggregator; failures become a reason (the URL is never part of it)."""
    url = f"{base_url.rstrip('/')}/v1/blobs/{quote(blob_id, safe='')}"
    try:
        with requests.get(url, timeout=timeout, stream=True) as resp:
            if resp.status_code == 404:
                return Fetched(None, "blob not found on the aggregator (HTTP 404)")
            if resp.status_code != 200:
                return Fetched(None, f"aggregator answered HTTP {resp.status_code}")
            data = bytearray()
            for chunk in resp.iter_content(65536):
                data += chunk
                if len(data) > MAX_BLOB_BYTES:
                    return Fetched(None, f"blob larger than {MAX_BLOB_BYTES // 2**20} MiB: not read")
            return Fetched(bytes(data))
    except requests.RequestException as exc:
        return Fetched(None, f"aggregator unreachable ({type(exc).__name__})")


def verify_proof(pool: RpcPool, relay: str, root: str, leaf: str, proof: list[str]) -> bool | None:
    """The relay's own verdict on a leaf's proof (eth_call); None when it does not answer verifyProof."""
    args = encode(["bytes32[]", "bytes32", "bytes32"],
                  [[bytes.fromhex(p[2:]) for p in proof], bytes.fromhex(root[2:]), bytes.fromhex(leaf[2:])])
    try:
        out = pool.call("eth_call", [{"to": relay, "data": "0x" + (VERIFY_PROOF + args).hex()}, "latest"])
    except RpcError:
        return None
    raw = bytes.fromhex(str(out)[2:]) if isinstance(out, str) and out.startswith("0x") else b""
    return None if len(raw) != 32 else raw[-1] == 1 and not any(raw[:-1])


Prover = Callable[[Batch, sm.Rebuilt], "bool | None"]


def _no_blob(b: Batch) -> Check | None:
    if b.relay_version == 1:
        return Check(b, "unavailable", "relay v1 publishes no tree dump (its event has no blob id)")
    if not b.blob_id:
        return Check(b, "unavailable", "the settlement names no Walrus blob")
    return None


def _compare(b: Batch, rebuilt: sm.Rebuilt) -> Check | None:
    n = len(rebuilt.leaves)
    if rebuilt.root != b.merkle_root.lower():
        claimed = f"; the dump claims {rebuilt.dump_root}" if rebuilt.dump_root else ""
        return Check(b, "mismatch", f"root rebuilt from {n} leaves is {rebuilt.root}, on chain {b.merkle_root}"
                     f"{claimed}", rebuilt.root, n)
    if b.batch_size is not None and n != b.batch_size:
        return Check(b, "mismatch", f"the dump has {n} leaves, the chain says batch size {b.batch_size}",
                     rebuilt.root, n)
    return None


def check_batch(b: Batch, fetch: Fetcher, prove: Prover | None) -> tuple[Check, tuple[sm.Leaf, ...]]:
    """Check one batch: its outcome, and its leaves when verified."""
    early = _no_blob(b)
    if early is not None:
        return early, ()
    got = fetch(str(b.blob_id))
    if got.data is None:
        return Check(b, "unavailable", got.reason), ()
    try:
        rebuilt = sm.rebuild(got.data)
    except sm.DumpError as exc:
        return Check(b, "mismatch", f"blob is not a settlement tree dump: {exc}"), ()
    bad = _compare(b, rebuilt)
    if bad is not None:
        return bad, ()
    n, ok = len(rebuilt.leaves), (prove(b, rebuilt) if prove else None)
    if ok is False:
        return Check(b, "mismatch", f"root rebuilt from {n} leaves matches, but the relay's verifyProof "
                     "rejected leaf 0's proof", rebuilt.root, n, True, False), ()
    how = ("; leaf 0's proof accepted by the relay's verifyProof" if ok
           else "; no on-chain proof check (the relay gave no verifyProof answer)")
    return Check(b, "verified", f"root rebuilt from {n} leaves equals the on-chain root{how}", rebuilt.root, n,
                 ok is not None, ok), rebuilt.leaves


@dataclass
class BlobCheckJob:
    """The blob check of one network: every unchecked batch, each tick."""

    network: str
    chain_id: int
    store: Store
    pool: RpcPool
    aggregator_url: str
    proof_relays: frozenset[str]  # lower-case addresses of relays that offer verifyProof
    timeout: float = HTTP_TIMEOUT_S
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def _prove(self, b: Batch, rebuilt: sm.Rebuilt) -> bool | None:
        if b.address.lower() not in self.proof_relays:
            return None
        leaf = rebuilt.leaves[0].leaf_hash
        return verify_proof(self.pool, b.address, b.merkle_root, leaf, sm.proof(rebuilt.tree, leaf))

    def tick(self) -> dict[str, int]:
        """Check what is pending; returns how many batches ended in each status."""
        now = self.clock()
        with self.store.transaction() as cur:
            batches = pending(cur, self.chain_id, now, RECHECK_AFTER.total_seconds(), BATCHES_PER_TICK)
        counts: dict[str, int] = {}
        down: list[Fetched] = []  # once the aggregator is unreachable, the rest of this tick does not wait on it

        def fetch(blob: str) -> Fetched:
            if down:
                return down[0]
            got = fetch_blob(self.aggregator_url, blob, self.timeout)
            if got.data is None and got.reason.startswith("aggregator unreachable"):
                down.append(got)
            return got

        for b in batches:
            check, leaves = check_batch(b, fetch, self._prove)
            with self.store.transaction() as cur:
                if write(cur, check, leaves, self.clock()):
                    counts[check.status] = counts.get(check.status, 0) + 1
        return counts


def blob_jobs(cfg: Config, store: Store, shared: dict[str, RpcPool]) -> list[BlobCheckJob]:
    """A job for every network with a Walrus aggregator configured and a settlement relay to check."""
    out = []
    for key, net in cfg.networks.items():
        relays = [c for c in cfg.contracts_on(key) if c.kind in ("settlement_relay", "settlement_relay_v1")]
        if not net.walrus_aggregator_url or not relays or key not in shared:
            continue
        proof = frozenset(c.address.lower() for c in relays if c.kind in PROOF_RELAY_KINDS)
        out.append(BlobCheckJob(key, net.chain_id, store, shared[key], net.walrus_aggregator_url, proof))
    return out
