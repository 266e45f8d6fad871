"""The AI scenario against real anvil nodes: everything its ground truth claims is checked on chain.

One module-wide run (OG EVM + alpha nodes, Walrus and CometBFT stand-ins): setup, the scripted
catalogue, 20 random steps and 300 bulk inferences. Receipts, logs and views are read back through raw
JSON-RPC and decoded here with eth_abi from the real ABI files, independently of the simulator; Merkle
roots are recomputed in Python. A second, shorter run with the same seed must give the same intents.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from devnet import deploy, merkle, nodes
from devnet.chain import Chain, calldata
from devnet.contracts_info import INFERENCE_PRECOMPILE, load_artifact
from devnet.deploy import Deployment
from devnet.scenario_ai import AIScenario, ModeMix, comparable
from devnet.standins import CometBFTStandIn, WalrusStandIn
from devnet.truth import Truth, read

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240611
PRECOMPILE_TOPIC = {"ml": "0x1b283af3452f3718585ce100f80d9aa81fc60924db4a582a36db6aae3b109d87",
                    "llm_chat": "0x4c92d3df7819fcd1c9f9663332f0a599a65eefdad2eaf9193cffb9dbf1919c3b",
                    "llm_completion": "0x51fe69d513d73ecde3fa3bf17584f7d2acfd5f0b13d367e898d6e11e742127a3"}
INFERENCE_RESULT = "0xc1396ff68bc2d8630100df29ce5561fa99078c602e8676ab72a53e37095d7168"
BATCH_SETTLEMENT = "0xc2aff8d8a10a4543baabf39bd9ff45e7fc3881d19098df350a3b7f339e911127"
INDIVIDUAL_SETTLEMENT = "0x74e71a1981c03bd0c36f3b1227f3ee2a34dca5d6fef25c4b2787e033ab60b782"
REGISTRY_ARTIFACT = {"tee_registry_v1": "TEERegistryV1", "tee_registry_ohttp": "TEERegistryOHTTP"}


def _type(item: dict[str, Any]) -> str:
    """ABI type string of one input/output, tuples spelled out."""
    if not item["type"].startswith("tuple"):
        return str(item["type"])
    return "(" + ",".join(_type(c) for c in item["components"]) + ")" + item["type"][len("tuple"):]


def _abi(file: str) -> list[dict[str, Any]]:
    raw = json.loads((ROOT / "abi" / file).read_text())
    return list(raw["abi"] if isinstance(raw, dict) else raw)


def _events(file: str) -> dict[str, tuple[str, list[str]]]:
    """Event name -> (topic0, types of the non-indexed inputs) from a real ABI file."""
    out = {}
    for e in _abi(file):
        if e["type"] == "event":
            topic = "0x" + keccak(f"{e['name']}({','.join(_type(i) for i in e['inputs'])})".encode()).hex()
            out[e["name"]] = (topic, [_type(i) for i in e["inputs"] if not i["indexed"]])
    return out


PRECOMPILE_EVENTS = _events("InferencePrecompile.events.json")
HUB_EVENTS = _events("InferenceHub.json")
V1_EVENTS = _events("SettlementRelayV1.events.json")
REGISTRY_EVENTS = _events("TEERegistry.events.json")
HUB_RESULT_TOPICS = {HUB_EVENTS[n][0] for n in ("InferenceResult", "LLMChatResult", "LLMCompletionResult")}
KIND_EVENT = {"ml": "ModelInferenceEvent", "llm_chat": "LLMChat", "llm_completion": "LLMCompletionEvent"}


def _fn_types(artifact: str, fn: str) -> list[str]:
    f = next(x for x in load_artifact(artifact)["abi"] if x.get("name") == fn and x["type"] == "function")
    return [_type(o) for o in f["outputs"]]


def _batch(chain: Chain, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(calls), 500):
        out += nodes.rpc_batch(chain.url, calls[i:i + 500])
    return out


@dataclass
class Run:
    """Everything the module's tests read: the chains, the deployment, the stand-ins, the truth rows."""

    chains: dict[str, Chain]
    dep: Deployment
    scenario: AIScenario
    walrus: WalrusStandIn
    comet: CometBFTStandIn
    rows: list[dict[str, Any]]
    receipts: dict[str, dict[str, Any]]
    blocks: dict[tuple[str, int], dict[str, Any]]


def _play(chains: dict[str, Chain], dep: Deployment, truth: Truth, walrus: WalrusStandIn, comet: CometBFTStandIn,
          steps: int, bulk: int) -> AIScenario:
    sc = AIScenario(chains, dep, truth, random.Random(SEED), walrus, comet)
    sc.setup()
    sc.scripted()
    for _ in range(steps):
        sc.random_step()
    if bulk:
        assert sc.bulk(bulk) == bulk
    return sc


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    path = tmp_path_factory.mktemp("ai") / "truth.jsonl"
    dn, walrus, comet = nodes.Devnet(), WalrusStandIn(), CometBFTStandIn()
    try:
        walrus.start()
        comet.start()
        chains = deploy.chains_for(dn.start(keys=["og_evm", "alpha"]))
        dep = deploy.deploy_all(chains)
        truth = Truth(path)
        try:
            sc = _play(chains, dep, truth, walrus, comet, steps=20, bulk=300)
        finally:
            truth.close()
        rows = list(read(path))
        receipts: dict[str, dict[str, Any]] = {}
        blocks: dict[tuple[str, int], dict[str, Any]] = {}
        for key, chain in chains.items():
            mine = [r for r in rows if r["chain"] == key]
            got = _batch(chain, [("eth_getTransactionReceipt", [r["tx"]]) for r in mine])
            receipts.update({r["tx"]: g for r, g in zip(mine, got, strict=True) if g is not None})
            numbers = sorted({r["block"] for r in mine})
            headers = _batch(chain, [("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
            blocks.update({(key, n): h for n, h in zip(numbers, headers, strict=True)})
        yield Run(chains, dep, sc, walrus, comet, rows, receipts, blocks)
    finally:
        comet.stop()
        walrus.stop()
        dn.stop()


def _rows(run: Run, kind: str) -> list[dict[str, Any]]:
    return [r for r in run.rows if r["kind"] == kind]


def _logs(run: Run, row: dict[str, Any], topic0: str, address: str | None = None) -> list[dict[str, Any]]:
    return [lg for lg in run.receipts[row["tx"]]["logs"] if lg["topics"] and lg["topics"][0] == topic0
            and (address is None or to_checksum_address(lg["address"]) == address)]


def _data(log: dict[str, Any], types: list[str]) -> tuple[Any, ...]:
    return decode(types, bytes.fromhex(log["data"][2:]))


def _block_time(run: Run, row: dict[str, Any]) -> int:
    return int(run.blocks[(row["chain"], row["block"])]["timestamp"], 16)


@pytest.mark.devnet
def test_every_truth_tx_is_on_chain_as_recorded(run: Run) -> None:
    assert len(run.rows) > 400
    for row in run.rows:
        rec = run.receipts.get(row["tx"])
        assert rec is not None, row
        assert (int(rec["blockNumber"], 16), rec["blockHash"], int(rec["status"], 16)) == (
            row["block"], row["block_hash"], row["status"])
        assert row["status"] == 1
        assert run.blocks[(row["chain"], row["block"])]["hash"] == row["block_hash"]
    kinds = Counter(r["kind"] for r in run.rows)
    for kind in ("inference", "settlement_individual", "settlement_batch", "settlement_v1", "tee_registered",
                 "heartbeat", "tee_disabled", "tee_enabled", "pcr_approved", "pcr_revoked", "validator_set"):
        assert kinds[kind] > 0, kind


@pytest.mark.devnet
def test_inference_logs_match_intents(run: Run) -> None:
    hub = run.dep.get("hub").address
    seen: Counter[tuple[str, str]] = Counter()
    for row in _rows(run, "inference"):
        intent = row["intent"]
        name = KIND_EVENT[intent["kind"]]
        topic, types = PRECOMPILE_EVENTS[name]
        assert topic == PRECOMPILE_TOPIC[intent["kind"]]
        logs = run.receipts[row["tx"]]["logs"]
        pre = [lg for lg in logs if to_checksum_address(lg["address"]) == INFERENCE_PRECOMPILE
               and lg["topics"][0] in PRECOMPILE_TOPIC.values()]
        assert len(pre) == intent["count_in_tx"] and all(lg["topics"][0] == topic for lg in pre), row["tx"]
        results = [lg for lg in run.receipts[row["tx"]]["logs"]
                   if to_checksum_address(lg["address"]) == hub and lg["topics"][0] in HUB_RESULT_TOPICS]
        assert len(results) == intent["count_in_tx"]
        for lg in pre:
            _id, request, response = _data(lg, types)
            assert request[0] == intent["mode_int"]
            if intent["kind"] == "ml":
                assert response[-1] is intent["simulation"]
        assert [_data(lg, types)[1][1] for lg in pre] == intent.get("models", [intent["model"]])
        receipt = run.receipts[row["tx"]]
        expected_to = intent["caller"] or hub
        assert to_checksum_address(receipt["to"]) == expected_to
        assert to_checksum_address(receipt["from"]) == intent["sender"]
        seen[(intent["kind"], intent["mode"])] += 1
    for mode in ("VANILLA", "ZKML", "TEE"):
        assert seen[("ml", mode)] > 0
    for kind in ("llm_chat", "llm_completion"):
        assert seen[(kind, "VANILLA")] > 0 and seen[(kind, "TEE")] > 0
    intents = [r["intent"] for r in _rows(run, "inference")]
    assert sum(i["simulation"] for i in intents) >= 2
    assert any(i["count_in_tx"] > 1 for i in intents)
    assert {i["via"] for i in intents} >= {"hub", "caller_prod", "caller_exp", "caller_untagged", "workflow",
                                          "batcher"}
    workflow = run.dep.get("workflow").address
    assert all(i["mode"] == "VANILLA" for i in intents if i["caller"] == workflow)


@pytest.mark.devnet
def test_batch_roots_walrus_dumps_and_proofs(run: Run) -> None:
    relay = run.dep.get("relay").address
    og = run.chains["og_evm"]
    batches = _rows(run, "settlement_batch")
    assert sum(r["intent"]["tampered"] for r in batches) == 1 and len(batches) >= 4
    for row in batches:
        intent = row["intent"]
        (log,) = _logs(run, row, BATCH_SETTLEMENT, relay)
        root = log["topics"][1]
        size, blob = _data(log, ["uint256", "bytes"])
        assert root == intent["root"] == merkle.tree_root(intent["leaves"])
        assert size == intent["batch_size"] == len(intent["leaves"])
        assert 5 <= size <= 20
        assert blob.decode() == intent["blob_id"]
        assert [leaf[0] for leaf in intent["leaves"]] == intent["tee_ids"]
        assert [int(leaf[4]) for leaf in intent["leaves"]] == intent["timestamps"]
        assert [_block_time(run, row) - ts for ts in intent["timestamps"]] == intent["lags"]
        reply = requests.get(f"{run.walrus.url}/v1/blobs/{intent['blob_id']}", timeout=5)
        assert reply.status_code == 200
        dump = reply.json()
        assert dump["format"] == "standard-v1" and dump["leafEncoding"] == merkle.LEAF_ENCODING
        stored = [v["value"] for v in dump["values"]]
        stored_root = merkle.tree_root(stored)
        assert stored_root == dump["tree"][0] == intent["stored_root"]
        if intent["tampered"]:
            assert stored_root != root
        else:
            assert stored_root == root and stored == intent["leaves"]
        i = len(stored) // 2
        proof = merkle.proof_from_dump(dump, i)
        ok = og.call(relay, "InferenceSettlementRelay", "verifyProof", [bytes.fromhex(p[2:]) for p in proof],
                     bytes.fromhex(root[2:]), bytes.fromhex(merkle.leaf_hash(stored[i])[2:]))
        assert ok is (not intent["tampered"])


@pytest.mark.devnet
def test_individual_settlement_lags_are_exact(run: Run) -> None:
    relay = run.dep.get("relay").address
    rows = _rows(run, "settlement_individual")
    assert {5, 60, 900, 3000} <= {r["intent"]["lag"] for r in rows}
    assert len({r["intent"]["tee_id"] for r in rows}) >= 3
    for row in rows:
        intent = row["intent"]
        (log,) = _logs(run, row, INDIVIDUAL_SETTLEMENT, relay)
        assert log["topics"][1] == intent["tee_id"]
        assert to_checksum_address("0x" + log["topics"][2][-40:]) == intent["eth_address"]
        input_hash, output_hash, ts, blob, sig = _data(log, ["bytes32", "bytes32", "uint256", "bytes", "bytes"])
        assert ("0x" + input_hash.hex(), "0x" + output_hash.hex()) == (intent["input_hash"], intent["output_hash"])
        assert ts == intent["timestamp"] and blob.decode() == intent["blob_id"] and len(sig) == 256
        assert _block_time(run, row) - ts == intent["lag"]


@pytest.mark.devnet
def test_v1_relay_events(run: Run) -> None:
    relay_v1 = run.dep.get("relay_v1").address
    rows = _rows(run, "settlement_v1")
    assert {r["intent"]["event"] for r in rows} == set(V1_EVENTS)
    for row in rows:
        intent = row["intent"]
        (log,) = _logs(run, row, V1_EVENTS[intent["event"]][0], relay_v1)
        if intent["event"] == "BatchSettlement":
            assert log["topics"][1] == intent["root"]
            assert _data(log, V1_EVENTS["BatchSettlement"][1]) == (intent["batch_size"],)
        else:
            assert log["topics"][1:3] == [intent["input_hash"], intent["output_hash"]]
        if intent["event"] == "SettlementWithMetadata":
            model, inp, out = _data(log, V1_EVENTS["SettlementWithMetadata"][1])
            assert (model, inp.decode(), out.decode()) == (intent["model_info"], intent["input_data"],
                                                           intent["output_data"])


@pytest.mark.devnet
def test_tee_activity_matches_intents(run: Run) -> None:
    og = run.chains["og_evm"]
    registered = [r["intent"] for r in _rows(run, "tee_registered")]
    by_owner = Counter(i["owner_role"] for i in registered[:8])
    assert by_owner["operator_a"] == 4 and len(by_owner) == 4 and len(registered) >= 6
    assert {i["registry"] for i in registered} == set(REGISTRY_ARTIFACT)
    position = {r["tx"]: n for n, r in enumerate(run.rows)}
    registered_at = {r["intent"]["tee_id"]: position[r["tx"]] for r in _rows(run, "tee_registered")}
    rows = [r for r in run.rows if r["chain"] == "og_evm" and "expected_inactive" in r["intent"]]
    calls, keys = [], []
    for row in rows:
        for i in [i for i in registered if registered_at[i["tee_id"]] <= position[row["tx"]]]:
            data = calldata(REGISTRY_ARTIFACT[i["registry"]], "isTEEActive", bytes.fromhex(i["tee_id"][2:]))
            calls.append(("eth_call", [{"to": i["registry_address"], "data": data}, hex(row["block"])]))
            keys.append((row["tx"], i["tee_id"]))
    answers = _batch(og, calls)
    inactive: dict[str, set[str]] = {r["tx"]: set() for r in rows}
    for (tx, tee_id), raw in zip(keys, answers, strict=True):
        if not int(raw, 16):
            inactive[tx].add(tee_id)
    for row in rows:
        assert inactive[row["tx"]] == set(row["intent"]["expected_inactive"]), row["kind"]
        assert _block_time(run, row) == row["intent"]["block_time"]
    after_jump = [r for r in _rows(run, "heartbeat") if r["intent"].get("after_time_jump")]
    assert after_jump and set(after_jump[-1]["intent"]["missed"]) <= inactive[after_jump[-1]["tx"]]
    assert len(after_jump[-1]["intent"]["missed"]) == 2
    (revoked,) = _rows(run, "pcr_revoked")
    assert revoked["intent"]["affected"] and set(revoked["intent"]["affected"]) <= inactive[revoked["tx"]]
    (disabled,) = _rows(run, "tee_disabled")
    assert disabled["intent"]["tee_id"] in inactive[disabled["tx"]]
    heartbeat_topic = REGISTRY_EVENTS["HeartbeatReceived"][0]
    registries = {"tee_registry_v1", "tee_registry_ohttp"}
    hb_rows = _rows(run, "heartbeat")
    assert {r["intent"]["registry"] for r in hb_rows} == registries
    for row in hb_rows:
        logs = _logs(run, row, heartbeat_topic)
        assert len(logs) == int(row["intent"]["emits_event"])
        if logs:
            assert logs[0]["topics"][1] == row["intent"]["tee_id"]
            assert _data(logs[0], ["uint256"]) == (row["intent"]["timestamp"],)


@pytest.mark.devnet
def test_staking_validators_match_cometbft(run: Run) -> None:
    og = run.chains["og_evm"]
    staking = run.dep.get("staking").address
    types = _fn_types("StakingPrecompileStandIn", "validators")
    chain_set: dict[str, int] = {}
    offset = 0
    while True:
        data = "0x" + keccak(b"validators(string,(bytes,uint64,uint64,bool,bool))")[:4].hex() + encode(
            ["string", "(bytes,uint64,uint64,bool,bool)"], ["BOND_STATUS_BONDED", (b"", offset, 2, True, False)]).hex()
        page, (_next, total) = decode(types, bytes.fromhex(og.rpc("eth_call", {"to": staking, "data": data},
                                                                   "latest")[2:]))
        if not page:
            break
        assert len(page) <= 2
        for v in page:
            assert v[0].startswith("ogvaloper1") and v[3] == 3 and not v[2]
            chain_set[v[1]] = v[4] // 10**18
        offset += len(page)
    assert total == len(chain_set) >= 5
    reply = requests.get(f"{run.comet.url}/validators", params={"per_page": 100}, timeout=5).json()["result"]
    comet_set = {v["pub_key"]["value"]: int(v["voting_power"]) for v in reply["validators"]}
    assert chain_set == comet_set
    assert len(set(comet_set.values())) == len(comet_set)  # uneven power
    last = _rows(run, "validator_set")[-1]["intent"]["powers"]
    assert sorted(last.values()) == sorted(comet_set.values())


@pytest.mark.devnet
def test_timings_and_bulk(run: Run) -> None:
    t = run.scenario.timings
    assert t["scripted_s"] < 20 and t["bulk_per_s"] > 20
    bulk = _rows(run, "inference")[-300:]
    assert all(r["intent"]["count_in_tx"] == 1 and not r["intent"]["simulation"] for r in bulk)


@pytest.mark.devnet
def test_same_seed_same_intents(run: Run, tmp_path: Path) -> None:
    with nodes.Devnet() as dn, WalrusStandIn() as walrus, CometBFTStandIn() as comet:
        chains = deploy.chains_for(dn.start(keys=["og_evm", "alpha"]))
        dep = deploy.deploy_all(chains)
        truth = Truth(tmp_path / "again.jsonl")
        try:
            _play(chains, dep, truth, walrus, comet, steps=20, bulk=0)
        finally:
            truth.close()
    again = list(read(tmp_path / "again.jsonl"))
    first = run.rows[:len(again)]
    assert [(r["kind"], comparable(r["intent"])) for r in again] == [(r["kind"], comparable(r["intent"]))
                                                                      for r in first]


def test_mode_mix_validation_and_draws() -> None:
    with pytest.raises(ValueError):
        ModeMix(ml={"FAST": 1.0})
    with pytest.raises(ValueError):
        ModeMix(llm={"VANILLA": 0.0, "TEE": 0.0})
    mix = ModeMix(ml={"ZKML": 1.0}, llm={"TEE": 2.0, "VANILLA": 0.0})
    rng = random.Random(1)
    assert {mix.draw(rng) for _ in range(50)} == {"ZKML"}
    assert {mix.draw(rng, llm=True) for _ in range(50)} == {"TEE"}


def test_merkle_node_and_python_agree() -> None:
    rng = random.Random(3)

    def h(n: int) -> str:
        return "0x" + rng.randbytes(n).hex()

    trees = [[[h(32), h(32), h(32), h(256), str(rng.randint(1, 2**40))] for _ in range(k)] for k in (1, 2, 5, 20)]
    for leaves, (root, dump) in zip(trees, merkle.build_trees(trees), strict=True):
        assert merkle.tree_root(leaves) == root == dump["tree"][0]
        for i, leaf in enumerate(leaves):
            assert merkle.process_proof(merkle.leaf_hash(leaf), merkle.proof_from_dump(dump, i)) == root
    with pytest.raises(merkle.MerkleError, match="5 values"):
        merkle.build_trees([[["0x12"]]])
