"""Helpers for the decentralization tests: a store of the OG EVM devnet, and the ground truth replayed.

The truth comes from the simulator's truth.jsonl (intents and receipts), never from ogwatch's decoding.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors import blob_check, runner
from collectors.concentration_jobs import concentration_jobs
from devnet import truth as truthmod
from devnet.world import TRUTH_FILE, World
from ogwatch import config
from store.db import Store

NET = "og_evm"
TEE_KINDS = ("tee_registered", "heartbeat", "tee_enabled", "tee_disabled", "pcr_approved", "pcr_revoked")


def og_toml(world: World, store_path: Path, entities: Sequence[tuple[str, str, str]] = ()) -> str:
    """The world's config with CometBFT and Walrus stand-ins on OG EVM, and [[entities]] (id, entity, source)."""
    text = world.config_toml(str(store_path)).replace(
        f"[networks.{NET}]\n",
        f'[networks.{NET}]\ncometbft_url = "{world.comet.url}"\nwalrus_aggregator_url = "{world.walrus.url}"\n')
    for ident, entity, source in entities:
        text += f'\n[[entities]]\nid = "{ident}"\nentity = "{entity}"\nsource = "{source}"\n'
    return text


def og_config(text: str) -> config.Config:
    """A config from TOML text."""
    return config.parse(tomllib.loads(text))


def index_og(cfg: config.Config, store_path: Path, jobs: bool = True) -> None:
    """Backfill OG EVM's logs, check the Walrus batches, then one reading of the registries and validators."""
    with Store(store_path, serve=False) as store:
        pools = runner.pools(cfg, [NET])
        for eng in runner.engines(cfg, store, [NET], shared=pools):
            for _ in range(200):
                if eng.tick().spans == 0:
                    break
        for bjob in blob_check.blob_jobs(cfg, store, pools):
            bjob.tick()
        if jobs:
            for job in concentration_jobs(cfg, store, pools):
                job.tick()


@dataclass
class TeeTruth:
    """The registries as the simulator left them (replayed from its intents), up to some block."""

    tees: dict[str, dict[str, Any]] = field(default_factory=dict)
    approved: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, r: dict[str, Any]) -> None:
        """One recorded action (successful ones change state)."""
        i = r["intent"]
        if r["status"] != 1:
            return
        if r["kind"] == "tee_registered":
            self.tees[i["tee_id"]] = {"registry": i["registry_address"], "owner": i["owner"], "tee_type": i["tee_type"],
                                      "pcr_hash": i["pcr_hash"], "endpoint": i["endpoint"], "enabled": True,
                                      "registered_at": i["block_time"], "last_heartbeat_at": i["block_time"],
                                      "label": i["label"]}
        elif r["kind"] == "heartbeat":
            self.tees[i["tee_id"]]["last_heartbeat_at"] = i["timestamp"]
        elif r["kind"] in ("tee_enabled", "tee_disabled"):
            self.tees[i["tee_id"]]["enabled"] = r["kind"] == "tee_enabled"
        elif r["kind"] == "pcr_approved":
            self.approved.setdefault(i["registry_address"], set()).add((i["pcr_hash"], i["tee_type"]))
        elif r["kind"] == "pcr_revoked":
            self.approved[i["registry_address"]].discard((i["pcr_hash"], i["tee_type"]))

    def approved_of(self, tee: dict[str, Any]) -> bool:
        """Whether the TEE's PCR is approved for its type in its registry."""
        return (tee["pcr_hash"], tee["tee_type"]) in self.approved.get(tee["registry"], set())

    def active(self, tee: dict[str, Any], now: int, max_age: int = 1800) -> bool:
        """Active as the registry defines it (the simulator checked this model against isTEEActive)."""
        return tee["enabled"] and now - tee["last_heartbeat_at"] <= max_age and self.approved_of(tee)


def records(snapshot: Path) -> list[dict[str, Any]]:
    """Every OG EVM truth record, in order."""
    return [r for r in truthmod.read(snapshot / TRUTH_FILE) if r["chain"] == NET]


def tee_truth(snapshot: Path, up_to: int | None = None) -> TeeTruth:
    """The registries' state replayed from the truth up to a block (default: all)."""
    t = TeeTruth()
    for r in records(snapshot):
        if r["kind"] in TEE_KINDS and (up_to is None or r["block"] <= up_to):
            t.apply(r)
            t.records.append(r)
    return t


def work_truth(snapshot: Path) -> tuple[dict[str, int], int]:
    """(settled inferences per operator from individual settlements and untampered batches, all settled)."""
    per: dict[str, int] = {}
    settled = 0
    for r in records(snapshot):
        i = r["intent"]
        if r["kind"] == "settlement_individual":
            per[i["operator"]] = per.get(i["operator"], 0) + 1
            settled += 1
        elif r["kind"] == "settlement_batch":
            settled += int(i["batch_size"])
            if not i["tampered"]:
                for op in i["operators"]:
                    per[op] = per.get(op, 0) + 1
        elif r["kind"] == "settlement_v1":
            settled += int(i.get("batch_size", 1)) if i["event"] == "BatchSettlement" else 1
    return per, settled


def last_validator_powers(snapshot: Path, up_to: int | None = None) -> dict[str, int]:
    """Operator address -> power after the last validator change (at or below a block)."""
    sets = [r for r in records(snapshot) if r["kind"] == "validator_set" and (up_to is None or r["block"] <= up_to)]
    return {k: int(v) for k, v in sets[-1]["intent"]["powers"].items()} if sets else {}
