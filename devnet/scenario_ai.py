"""The AI side of the devnet: inferences on alpha, settlements, TEE churn and validators on OG EVM.

`AIScenario` drives OpenGradient's verifiable-AI contracts the way users and operators do: ML inferences
through the InferenceHub (from an EOA, through each caller contract, through the workflow and several in
one transaction through a Batcher), LLM chat and completion, simulation results, LLM settlements
(individual with chosen lags, Merkle batches on Walrus, one tampered; relay v1) and the TEE registry and
validator churn of `devnet.scenario_tee`. Every action is written to the ground truth with its intent:

- ``inference`` (alpha): kind (ml | llm_chat | llm_completion), mode (label), mode_int, model, caller
  (contract address, None when an EOA calls the hub), via, sender, simulation, count_in_tx;
- ``simulation_flag`` (alpha): the devnet-only setNextSimulation(true) before a simulated inference;
- ``settlement_individual``, ``settlement_batch``, ``settlement_v1``: see `devnet.scenario_settlement`;
- ``pcr_approved``, ``pcr_revoked``, ``tee_registered``, ``heartbeat``, ``tee_disabled``, ``tee_enabled``,
  ``validator_set``: see `devnet.scenario_tee` (TEE records carry block_time and expected_inactive).

The same seed gives the same intents apart from the chain clock (`CLOCK_KEYS`, see `comparable`).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from devnet.chain import Chain, Receipt, calldata
from devnet.contracts_info import INFERENCE_PRECOMPILE
from devnet.deploy import Deployment
from devnet.scenario_settlement import INDIVIDUAL_LAGS, LLM_MODELS, Settler
from devnet.scenario_tee import Membership
from devnet.standins import CometBFTStandIn, WalrusStandIn
from devnet.truth import Truth

ML_MODES = {"VANILLA": 0, "ZKML": 1, "TEE": 2}
LLM_MODES = {"VANILLA": 0, "TEE": 1}
ML_MODELS = ("QmVolatilityEthUsd1hXgb", "QmSpamClassifierTfLite", "QmCreditRiskOnnxV3", "QmSentimentDistilBert")
PRECOMPILE_TOPICS = {"ml": "0x1b283af3452f3718585ce100f80d9aa81fc60924db4a582a36db6aae3b109d87",
                     "llm_chat": "0x4c92d3df7819fcd1c9f9663332f0a599a65eefdad2eaf9193cffb9dbf1919c3b",
                     "llm_completion": "0x51fe69d513d73ecde3fa3bf17584f7d2acfd5f0b13d367e898d6e11e742127a3"}
#: Intent keys whose values follow the chain clock (absolute times, and what is hashed from them).
CLOCK_KEYS = frozenset({"block_time", "timestamp", "timestamps", "leaves", "root", "stored_root"})
BULK_CHUNK = 100
CALLERS = ("caller_prod", "caller_exp", "caller_untagged")


def comparable(intent: dict[str, Any]) -> dict[str, Any]:
    """An intent without its chain-clock values: equal for equal seeds."""
    return {k: v for k, v in intent.items() if k not in CLOCK_KEYS}


@dataclass
class ModeMix:
    """Weights of the verification modes drawn for ML (VANILLA, ZKML, TEE) and LLM (VANILLA, TEE) inferences."""

    ml: dict[str, float] = field(default_factory=lambda: {"VANILLA": 0.5, "ZKML": 0.2, "TEE": 0.3})
    llm: dict[str, float] = field(default_factory=lambda: {"VANILLA": 0.6, "TEE": 0.4})

    def __post_init__(self) -> None:
        for name, weights, modes in (("ml", self.ml, ML_MODES), ("llm", self.llm, LLM_MODES)):
            if set(weights) - set(modes) or sum(weights.values()) <= 0 or min(weights.values()) < 0:
                raise ValueError(f"ModeMix.{name}: weights over {sorted(modes)}, non-negative, not all zero")

    def draw(self, rng: random.Random, llm: bool = False) -> str:
        """One mode label drawn by weight."""
        weights = self.llm if llm else self.ml
        labels = [m for m in (LLM_MODES if llm else ML_MODES) if weights.get(m, 0) > 0]
        return rng.choices(labels, [weights[m] for m in labels])[0]


class AIScenario:
    """Inferences on alpha, settlements and membership churn on OG EVM, all recorded in the ground truth."""

    def __init__(self, chains: dict[str, Chain], dep: Deployment, truth: Truth, rng: random.Random,
                 walrus: WalrusStandIn, comet: CometBFTStandIn, mix: ModeMix | None = None):
        self.alpha, self.og = chains["alpha"], chains["og_evm"]
        self.dep, self.truth, self.rng, self.walrus = dep, truth, rng, walrus
        self.mix = mix or ModeMix()
        self.acct = dep.accounts
        self.users = [dep.accounts[f"trader_{i}"] for i in range(10) if f"trader_{i}" in dep.accounts]
        self.hub = dep.get("hub").address
        self.callers = {name: dep.get(name).address for name in CALLERS}
        self.workflow = dep.get("workflow").address
        self.members = Membership(self.og, dep, truth, rng, comet)
        self.settler = Settler(self.og, dep, truth, rng, walrus)
        self.batcher: str | None = None
        self.batcher_owner = self.users[0]
        self.timings: dict[str, float] = {}

    # ----- building calls -----

    def _ml_input(self) -> tuple[list[Any], list[Any]]:
        n = self.rng.randint(1, 6)
        values = [(self.rng.randint(-10**6, 10**6), self.rng.randint(0, 4)) for _ in range(n)]
        strings = [("tags", [self.rng.choice(["eth", "btc", "sol", "defi"])])] if self.rng.random() < 0.3 else []
        return [("input", values, [n])], strings

    def _chat(self, mode: str) -> tuple[Any, ...]:
        question = self.rng.choice(["What moved ETH today?", "Summarise this contract.", "Is this transfer risky?"])
        messages: list[tuple[Any, ...]] = [("system", "You are a careful analyst.", "", "", []),
                                           ("user", question, "", "", [])]
        return (LLM_MODES[mode], self.rng.choice(LLM_MODELS), messages, [], "", self.rng.randint(64, 512), [],
                self.rng.randint(0, 100))

    def _completion(self, mode: str) -> tuple[Any, ...]:
        prompt = self.rng.choice(["The capital of France is", "def fib(n):", "Gas fees rise when"])
        return (LLM_MODES[mode], self.rng.choice(LLM_MODELS), prompt, self.rng.randint(16, 256), ["\n\n"],
                self.rng.randint(0, 100))

    def _call(self, kind: str, mode: str, via: str) -> tuple[str, str, dict[str, Any]]:
        """(target, calldata, intent part) of one inference of `kind` through `via` (hub, a caller, workflow)."""
        if via == "workflow":
            return self.workflow, calldata("PriceHistoryInference", "run"), {"model": "QmVolatilityModel"}
        target = self.hub if via == "hub" else self.callers[via]
        if kind == "ml":
            model = self.rng.choice(ML_MODELS)
            args: tuple[Any, ...] = (model, ML_MODES[mode], self._ml_input())
            fn = "run" if via == "hub" else "runML"
        else:
            request = self._chat(mode) if kind == "llm_chat" else self._completion(mode)
            model, args = request[1], (request,)
            fn = {"llm_chat": ("runLLMChat", "runChat"), "llm_completion": ("runLLMCompletion", "runCompletion")}[
                kind][via != "hub"]
        return target, calldata("InferenceHub" if via == "hub" else "InferenceCaller", fn, *args), {"model": model}

    def _intent(self, kind: str, mode: str, via: str, sender: str, part: dict[str, Any], simulation: bool = False,
                count: int = 1) -> dict[str, Any]:
        caller = None if via == "hub" else self.workflow if via == "workflow" else self.batcher if via == "batcher" \
            else self.callers[via]
        modes = LLM_MODES if kind != "ml" else ML_MODES
        return {"kind": kind, "mode": mode, "mode_int": modes[mode], "model": part["model"], "caller": caller,
                "via": via, "sender": sender, "simulation": simulation, "count_in_tx": count}

    def _record(self, intent: dict[str, Any], rec: Receipt) -> Receipt:
        self.truth.record(self.alpha, "inference", intent, rec)
        seen = sum(1 for lg in rec.logs if lg["address"] == INFERENCE_PRECOMPILE
                   and lg["topic0"] == PRECOMPILE_TOPICS[intent["kind"]])
        if seen != intent["count_in_tx"]:
            raise RuntimeError(f"simulator bug: {seen} precompile events in {rec.tx_hash}, meant "
                               f"{intent['count_in_tx']}")
        return rec

    # ----- single actions -----

    def infer(self, kind: str, mode: str | None = None, via: str = "hub", sender: str | None = None,
              simulation: bool = False) -> Receipt:
        """One inference (ml, llm_chat, llm_completion) through the hub, a caller contract or the workflow."""
        mode = "VANILLA" if via == "workflow" else mode or self.mix.draw(self.rng, llm=kind != "ml")
        sender = sender or self.rng.choice(self.users)
        target, data, part = self._call(kind, mode, via)
        if simulation:
            flag = self.alpha.transact(sender, INFERENCE_PRECOMPILE, "InferencePrecompileStandIn",
                                       "setNextSimulation", True)
            self.truth.record(self.alpha, "simulation_flag", {"value": True, "sender": sender}, flag)
        rec = self.alpha.send(sender, target, data)
        return self._record(self._intent(kind, mode, via, sender, part, simulation), rec)

    def infer_many_in_one_tx(self, kind: str, vias: list[str], mode: str | None = None) -> Receipt:
        """Several inferences of one kind and mode in ONE transaction, through the Batcher."""
        if self.batcher is None:
            raise RuntimeError("setup() deploys the Batcher on alpha first")
        mode = mode or self.mix.draw(self.rng, llm=kind != "ml")
        calls = [self._call(kind, mode, via) for via in vias]
        data = calldata("Batcher", "batch", [c[0] for c in calls], [0] * len(calls),
                        [bytes.fromhex(c[1][2:]) for c in calls])
        rec = self.alpha.send(self.batcher_owner, self.batcher, data)
        intent = self._intent(kind, mode, "batcher", self.batcher_owner, calls[0][2], count=len(calls))
        intent["models"], intent["inner_vias"] = [c[2]["model"] for c in calls], vias
        return self._record(intent, rec)

    # ----- the scenario -----

    def setup(self) -> None:
        """TEEs, PCRs, heartbeats and validators on OG EVM; a Batcher on alpha for multi-inference transactions."""
        self.members.setup()
        self.alpha.recorder = lambda c, rec, intent: self.truth.record(c, "deploy", intent, rec)
        try:
            self.batcher = self.alpha.deploy(self.acct["deployer"], "Batcher", self.batcher_owner)
        finally:
            self.alpha.recorder = None

    def scripted(self) -> None:
        """The whole catalogue once: every inference path and mode, settlements, registry and validator churn."""
        start = time.monotonic()
        for mode in ML_MODES:
            self.infer("ml", mode)
        for via in ("hub", *CALLERS, "hub", "workflow"):
            self.infer("ml", via=via)
        for kind in ("llm_chat", "llm_completion"):
            for mode in LLM_MODES:
                self.infer(kind, mode, via="hub")
                self.infer(kind, mode, via=self.rng.choice(CALLERS))
            self.infer(kind)
        self.infer_many_in_one_tx("ml", ["hub", "hub", "caller_untagged"])
        self.infer_many_in_one_tx("llm_chat", ["caller_prod", "hub"])
        self.infer("ml", "TEE", simulation=True)
        self.infer("ml", via="caller_exp", simulation=True)
        now = self.og.timestamp()
        llm = self.members.llm_tees(now)
        for i, lag in enumerate(INDIVIDUAL_LAGS):
            self.settler.individual(llm[i % len(llm)], lag)
        weighted = llm + [t for t in llm if t.owner_role == "operator_a"]  # operator_a serves more traffic
        sizes = [self.rng.randint(5, 20) for _ in range(4)]
        self.settler.batches(weighted, sizes, [False, False, True, False])
        self.settler.v1_all()
        self.members.churn()
        self.timings["scripted_s"] = time.monotonic() - start

    def random_step(self) -> None:
        """One inference, or now and then a settlement or heartbeat (live mode)."""
        r = self.rng.random()
        if not self.members.tees:  # setup() not run: no TEE to settle for or heartbeat, so only inferences
            r *= 0.78
        if r < 0.45:
            self.infer("ml", via=self.rng.choice(["hub", "hub", *CALLERS, "workflow"]))
        elif r < 0.62:
            self.infer("llm_chat", via=self.rng.choice(["hub", *CALLERS]))
        elif r < 0.74:
            self.infer("llm_completion", via=self.rng.choice(["hub", *CALLERS]))
        elif r < 0.78:
            self.infer("ml", via=self.rng.choice(["hub", *CALLERS]), simulation=True)
        elif r < 0.88:
            llm = self.members.llm_tees(self.og.timestamp()) or self.members.llm_tees()
            self.settler.individual(self.rng.choice(llm), self.rng.randint(2, 3000))
        elif r < 0.96:
            self.members.random_heartbeat()
        else:
            llm = self.members.llm_tees(self.og.timestamp()) or self.members.llm_tees()
            self.settler.batches(llm, [self.rng.randint(5, 20)], [False])

    def bulk(self, n: int) -> int:
        """n inferences on alpha as fast as possible (batched sends, one block per batch); returns the count."""
        start, done = time.monotonic(), 0
        self.alpha.set_automine(False)
        try:
            while done < n:
                plans = []
                for _ in range(min(BULK_CHUNK, n - done)):
                    kind = self.rng.choices(["ml", "llm_chat", "llm_completion"], [0.6, 0.25, 0.15])[0]
                    via = self.rng.choice(["hub", *CALLERS])
                    mode = self.mix.draw(self.rng, llm=kind != "ml")
                    sender = self.rng.choice(self.users)
                    target, data, part = self._call(kind, mode, via)
                    plans.append(({"from": sender, "to": target, "data": data, "gas": hex(1_000_000)},
                                  self._intent(kind, mode, via, sender, part)))
                receipts = self.alpha.send_many([tx for tx, _ in plans])
                for (_tx, intent), rec in zip(plans, receipts, strict=True):
                    self._record(intent, rec)
                done += len(plans)
        finally:
            self.alpha.set_automine(True)
        elapsed = time.monotonic() - start
        self.timings["bulk_s"], self.timings["bulk_per_s"] = elapsed, done / elapsed if elapsed else 0.0
        return done
