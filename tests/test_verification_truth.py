"""Helpers, no tests: the ground truth of each inference (nothing from ogwatch's own decoding).

For every successful `inference` action: the inferences of its transaction in order, each with kind,
mode, model, the contract that called the hub (None when an account called it directly), the sender
and whether it was a simulation; plus the log indexes of the hub results and the workflow repeat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from devnet import truth as truthmod
from devnet.scenario_ai import PRECOMPILE_TOPICS
from devnet.world import TRUTH_FILE, World


@dataclass(frozen=True)
class TrueInference:
    """One inference as the simulator meant it and the receipt shows it."""

    tx: str
    block: int
    log_index: int
    kind: str
    mode: str
    model: str
    caller: str | None
    tx_to_caller: str | None
    sender: str
    simulation: bool
    via: str


def inferences(snapshot: Path, world: World) -> list[TrueInference]:
    """Every inference of the ground truth, in chain order."""
    hub = world.dep.get("hub").address.lower()
    named = {name: world.dep.get(name).address.lower()
             for name in ("caller_prod", "caller_exp", "caller_untagged", "workflow")}
    out = []
    for r in truthmod.read(snapshot / TRUTH_FILE):
        if r["kind"] != "inference" or not r["status"]:
            continue
        it = r["intent"]
        logs = [lg["log_index"] for lg in r["logs"] if lg["topic0"] == PRECOMPILE_TOPICS[it["kind"]]]
        vias = it.get("inner_vias") or [it["via"]] * len(logs)
        models = it.get("models") or [it["model"]] * len(logs)
        tx_to = str(it["caller"]).lower() if it["caller"] else None
        for li, via, model in zip(sorted(logs), vias, models, strict=True):
            who = named.get(via) if via in named else (tx_to if it["via"] == "batcher" else None)
            out.append(TrueInference(r["tx"], r["block"], li, it["kind"], it["mode"], model, who,
                                     tx_to if tx_to != hub else None, it["sender"].lower(), bool(it["simulation"]),
                                     it["via"]))
    return out


def counts(rows: list[TrueInference], tx_to: bool = False) -> Counter[tuple[str | None, str, str, bool]]:
    """Inferences per (caller, kind, mode, simulation) (callers as the tx `to` when `tx_to`)."""
    return Counter(((r.tx_to_caller if tx_to else r.caller), r.kind, r.mode, r.simulation) for r in rows)


def workflow_logs(snapshot: Path, world: World) -> dict[str, int]:
    """tx -> log index of the workflow's InferenceResultEmitted (the repeat that must not count twice)."""
    wf = world.dep.get("workflow").address.lower()
    out = {}
    for r in truthmod.read(snapshot / TRUTH_FILE):
        if r["kind"] == "inference" and r["status"]:
            for lg in r["logs"]:
                if lg["address"].lower() == wf:
                    out[r["tx"]] = lg["log_index"]
    return out


def hub_result_logs(snapshot: Path, world: World) -> dict[str, list[int]]:
    """tx -> log indexes of the hub's result events (any kind), in order."""
    hub = world.dep.get("hub").address.lower()
    out: dict[str, list[int]] = {}
    for r in truthmod.read(snapshot / TRUTH_FILE):
        if r["kind"] == "inference" and r["status"]:
            out[r["tx"]] = sorted(lg["log_index"] for lg in r["logs"] if lg["address"].lower() == hub)
    return out
