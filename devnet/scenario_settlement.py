"""LLM inference settlements on the OG EVM devnet, as OpenGradient's facilitator posts them.

`Settler` sends individual settlements (`settleIndividual`, checked by the verifier's timestamp window)
with chosen lags, batch settlements (`batchSettle`: a StandardMerkleTree root over leaves
(teeId, inputHash, outputHash, teeSignature, timestamp) whose dump JSON is stored in the Walrus stand-in
under the blob id sent on chain), optionally tampered (the stored dump is of other leaves than the
root on chain), and the v1 relay's three events. Lags are exact: each block time is pinned and the
TEE timestamps are derived from it.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Sequence
from typing import Any

from devnet import merkle
from devnet.chain import Chain, Receipt
from devnet.deploy import Deployment
from devnet.scenario_tee import TEE, next_block_time
from devnet.standins import WalrusStandIn
from devnet.truth import Truth

INDIVIDUAL_LAGS = (5, 60, 900, 3000)
BATCH_LAGS = (2, 15, 40, 90, 180, 300, 600, 900, 1200)
SIGNATURE_BYTES = 256  # RSA-2048 PSS, as the TEE gateway signs
LLM_MODELS = ("meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3")


class Settler:
    """Posts settlements through relay v2 and relay v1 as the `relayer` account."""

    def __init__(self, og: Chain, dep: Deployment, truth: Truth, rng: random.Random, walrus: WalrusStandIn):
        self.og, self.truth, self.rng, self.walrus = og, truth, rng, walrus
        self.acct = dep.accounts
        self.relayer = dep.accounts["relayer"]
        self.relay = dep.get("relay").address
        self.relay_v1 = dep.get("relay_v1").address
        self.users = [dep.accounts[f"trader_{i}"] for i in range(8)]

    def _hash(self) -> str:
        return "0x" + self.rng.randbytes(32).hex()

    def _blob_id(self) -> str:
        """A Walrus-style blob id: 32 bytes, URL-safe base64 without padding."""
        return base64.urlsafe_b64encode(self.rng.randbytes(32)).decode().rstrip("=")

    def individual(self, tee: TEE, lag: int) -> Receipt:
        """One settleIndividual signed by tee `lag` seconds before the block it lands in."""
        user = self.rng.choice(self.users)
        input_hash, output_hash, blob_id = self._hash(), self._hash(), self._blob_id()
        signature = self.rng.randbytes(SIGNATURE_BYTES)
        model = self.rng.choice(LLM_MODELS)
        record = {"tee_id": tee.tee_id, "model": model, "input_hash": input_hash, "output_hash": output_hash}
        self.walrus.put(blob_id, json.dumps(record, sort_keys=True).encode())
        block_time = next_block_time(self.og)
        signed_at = block_time - lag
        rec = self.og.transact(self.relayer, self.relay, "InferenceSettlementRelay", "settleIndividual",
                               bytes.fromhex(tee.tee_id[2:]), bytes.fromhex(input_hash[2:]),
                               bytes.fromhex(output_hash[2:]), signed_at, user, blob_id.encode(), signature)
        intent = {"tee_id": tee.tee_id, "tee_label": tee.label, "operator": tee.owner, "eth_address": user,
                  "input_hash": input_hash, "output_hash": output_hash, "timestamp": signed_at,
                  "block_time": block_time, "lag": lag, "blob_id": blob_id, "model": model,
                  "signature_len": SIGNATURE_BYTES}
        return self.truth.record(self.og, "settlement_individual", intent, rec)

    def _leaves(self, tees: Sequence[TEE], size: int, block_time: int) -> tuple[list[list[str]], list[int], list[TEE]]:
        chosen = self.rng.choices(list(tees), k=size)
        lags = [self.rng.choice(BATCH_LAGS) for _ in range(size)]
        leaves = [[t.tee_id, self._hash(), self._hash(), "0x" + self.rng.randbytes(SIGNATURE_BYTES).hex(),
                   str(block_time - lag)] for t, lag in zip(chosen, lags, strict=True)]
        return leaves, lags, chosen

    def batches(self, tees: Sequence[TEE], sizes: Sequence[int], tampered: Sequence[bool]) -> list[Receipt]:
        """Batch settlements, one per size; a tampered one stores the dump of altered leaves on Walrus."""
        first = next_block_time(self.og)
        plans = []
        trees: list[list[list[str]]] = []
        for i, (size, bad) in enumerate(zip(sizes, tampered, strict=True)):
            leaves, lags, chosen = self._leaves(tees, size, first + i)
            trees.append(leaves)
            altered = -1
            if bad:  # the facilitator's stored dump disagrees with the root it settled
                altered = self.rng.randrange(size)
                forged = [list(leaf) for leaf in leaves]
                forged[altered][2] = self._hash()
                trees.append(forged)
            plans.append((leaves, lags, chosen, altered, self._blob_id()))
        built = iter(merkle.build_trees(trees))
        out = []
        for i, (leaves, lags, chosen, altered, blob_id) in enumerate(plans):
            root, dump = next(built)
            if root != merkle.tree_root(leaves):
                raise RuntimeError(f"simulator bug: node root {root} != Python root {merkle.tree_root(leaves)}")
            stored_root, stored = next(built) if altered >= 0 else (root, dump)
            self.walrus.put(blob_id, json.dumps(stored).encode())
            if i:
                self.og.set_next_timestamp(first + i)
            rec = self.og.transact(self.relayer, self.relay, "InferenceSettlementRelay", "batchSettle",
                                   bytes.fromhex(root[2:]), len(leaves), blob_id.encode())
            intent: dict[str, Any] = {
                "root": root, "batch_size": len(leaves), "blob_id": blob_id, "block_time": first + i,
                "tee_ids": [t.tee_id for t in chosen], "operators": [t.owner for t in chosen],
                "timestamps": [int(leaf[4]) for leaf in leaves], "lags": lags, "leaves": leaves,
                "tampered": altered >= 0, "stored_root": stored_root}
            if altered >= 0:
                intent["tampered_leaf"] = altered
            out.append(self.truth.record(self.og, "settlement_batch", intent, rec))
        return out

    def v1_all(self) -> list[Receipt]:
        """One of each v1 relay event: Settlement, BatchSettlement, SettlementWithMetadata."""
        out = []
        i, o = self._hash(), self._hash()
        rec = self.og.transact(self.relayer, self.relay_v1, "SettlementRelayV1", "settle",
                               bytes.fromhex(i[2:]), bytes.fromhex(o[2:]))
        out.append(self.truth.record(self.og, "settlement_v1", {"event": "Settlement", "input_hash": i,
                                                                 "output_hash": o}, rec))
        now = self.og.timestamp()  # v1 predates TEE ids and published trees: only the root reaches the chain
        leaves = [["0x" + "00" * 32, self._hash(), self._hash(), "0x" + self.rng.randbytes(SIGNATURE_BYTES).hex(),
                   str(now - self.rng.choice(BATCH_LAGS))] for _ in range(self.rng.randint(3, 8))]
        root = merkle.tree_root(leaves)
        rec = self.og.transact(self.relayer, self.relay_v1, "SettlementRelayV1", "batchSettle",
                               bytes.fromhex(root[2:]), len(leaves))
        out.append(self.truth.record(self.og, "settlement_v1", {"event": "BatchSettlement", "root": root,
                                                                 "batch_size": len(leaves)}, rec))
        i, o = self._hash(), self._hash()
        model = self.rng.choice(LLM_MODELS)
        prompt, answer = json.dumps({"prompt": "Summarise the ETH/USD week."}), json.dumps({"answer": "Volatile."})
        rec = self.og.transact(self.relayer, self.relay_v1, "SettlementRelayV1", "settleWithMetadata",
                               bytes.fromhex(i[2:]), bytes.fromhex(o[2:]), model, prompt.encode(), answer.encode())
        intent = {"event": "SettlementWithMetadata", "input_hash": i, "output_hash": o, "model_info": model,
                  "input_data": prompt, "output_data": answer}
        out.append(self.truth.record(self.og, "settlement_v1", intent, rec))
        return out
