"""End-to-end sanity check of the devnet contracts on a real anvil (started and stopped here).

Deploys the Twin.fun BSC market behind DevProxy, trades, changes fees, hits the 5 % cap, upgrades to
the uncapped implementation; places the inference precompile stand-in at 0xF4 and runs the hub; plus
quick checks of the multisig, the batcher, the staking stand-in and the TEE registry.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD
from web3.types import RPCEndpoint

from devnet import contracts_info as ci

pytestmark = pytest.mark.devnet

REPO_ROOT = Path(__file__).resolve().parent.parent
ANVIL = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"

TRADE_TOPIC = "0x311a52e66bed13064f865403cc4c02927bd6506c88460c4c66ed158c4279f130"
MODEL_INFERENCE_TOPIC = "0x1b283af3452f3718585ce100f80d9aa81fc60924db4a582a36db6aae3b109d87"
INFERENCE_RESULT_TOPIC = "0xc1396ff68bc2d8630100df29ce5561fa99078c602e8676ab72a53e37095d7168"
OWNER_SLOT = 0x9016D09D72D40FDAE2FD8CEAC6B6234C7706214FD39C1CD1E609A0528C199300
IMPLEMENTATION_SLOT = 0x360894A13BA1A3210667C828492DB98DCA3E2076CC3735A920A3CA505D382BBC
E18 = 10**18

MODEL_OUTPUT = "((string,(int128,int128)[],uint32[])[],(string,string[])[],(string,string)[],bool)"
MODEL_REQUEST = "(uint8,string,((string,(int128,int128)[],uint32[])[],(string,string[])[]))"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def w3() -> Iterator[Web3]:
    if not ANVIL.is_file():
        pytest.skip(f"anvil binary not found at {ANVIL} (npm ci installs it)")
    home = tempfile.mkdtemp(prefix="anvil-home-")
    port = _free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--host", "127.0.0.1"],
        env={**os.environ, "HOME": home},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        web3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 10}))
        deadline = time.monotonic() + 10
        while not web3.is_connected():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("anvil did not start")
            time.sleep(0.05)
        yield web3
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(home, ignore_errors=True)


# ----- helpers -----


def deploy(w3: Web3, name: str, *args: Any, sender: str | None = None) -> Any:
    art = ci.load_artifact(name)
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx = factory.constructor(*args).transact({"from": sender or w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1, name
    return w3.eth.contract(address=receipt["contractAddress"], abi=art["abi"])


def send(w3: Web3, fn: Any, sender: str, value: int = 0) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender, "value": value}))
    assert receipt["status"] == 1
    return receipt


def slot_address(w3: Web3, address: str, slot: int) -> str:
    raw = w3.eth.get_storage_at(Web3.to_checksum_address(address), slot)
    return Web3.to_checksum_address(raw[-20:])


def topic0_of(log: Any) -> str:
    topic: str = log["topics"][0].to_0x_hex()
    return topic


def model_input(values: list[int]) -> tuple[Any, ...]:
    numbers = [("price", [(v, 2) for v in values], [len(values)])]
    strings = [("pair", ["ETH/USD"])]
    return (numbers, strings)


# ----- Twin.fun BSC market behind a UUPS proxy -----


def test_bsc_market_fees_cap_and_upgrade(w3: Web3) -> None:
    owner, admin, fee_dest, trader = list(w3.eth.accounts)[:4]
    impl = deploy(w3, "DigitalTwinSharesV1")
    init = impl.encode_abi("initialize", [owner, admin, fee_dest])
    proxy = deploy(w3, "DevProxy", impl.address, init)
    market = w3.eth.contract(address=proxy.address, abi=impl.abi)

    assert market.functions.owner().call() == owner
    assert slot_address(w3, market.address, OWNER_SLOT) == owner
    assert slot_address(w3, market.address, IMPLEMENTATION_SLOT) == impl.address
    assert slot_address(w3, market.address, 0) == fee_dest
    assert market.functions.protocolFeePercent().call() == 3 * E18 // 100
    assert market.functions.minSharesToCreate().call() == 1

    twin = bytes.fromhex("11" * 16)
    receipt = send(w3, market.functions.createDigitalTwin(twin, "https://twin.example/1"), trader)
    assert market.functions.sharesSupply(twin).call() == 1
    assert [topic0_of(log) for log in receipt["logs"]][-1] == TRADE_TOPIC

    cost = market.functions.getBuyPriceAfterFee(twin, 5).call()
    receipt = send(w3, market.functions.buyShares(twin, 5), trader, value=cost + 10**15)  # excess refunded
    (trade,) = market.events.Trade().process_receipt(receipt, errors=DISCARD)
    assert topic0_of(receipt["logs"][0]) == TRADE_TOPIC
    args = trade["args"]
    assert args["isBuy"] and args["shareAmount"] == 5 and args["supply"] == 6
    assert args["ethAmount"] == market.functions.getPrice(1, 5).call() > 0
    assert args["protocolEthAmount"] == args["ethAmount"] * 3 // 100
    assert args["ethAmount"] + args["protocolEthAmount"] + args["subjectEthAmount"] == cost

    receipt = send(w3, market.functions.setProtocolFeePercent(5 * E18 // 100), owner)
    (ev,) = market.events.ProtocolFeePercentSet().process_receipt(receipt, errors=DISCARD)
    assert ev["args"]["protocolFeePercent"] == 5 * E18 // 100
    send(w3, market.functions.setSubjectFeePercent(4 * E18 // 100), owner)
    assert market.functions.subjectFeePercent().call() == 4 * E18 // 100

    with pytest.raises(ContractLogicError):  # above the 5 % cap
        market.functions.setProtocolFeePercent(5 * E18 // 100 + 1).call({"from": owner})
    with pytest.raises(ContractLogicError):  # not the owner
        market.functions.setProtocolFeePercent(E18 // 100).call({"from": trader})

    sell = send(w3, market.functions.sellShares(twin, 2, 0), trader)
    (trade,) = market.events.Trade().process_receipt(sell, errors=DISCARD)
    assert not trade["args"]["isBuy"] and trade["args"]["supply"] == 4
    assert trade["args"]["protocolEthAmount"] == trade["args"]["ethAmount"] * 5 // 100

    uncapped = deploy(w3, "DigitalTwinSharesV1Uncapped")
    receipt = send(w3, market.functions.upgradeToAndCall(uncapped.address, b""), owner)
    (upgraded,) = market.events.Upgraded().process_receipt(receipt, errors=DISCARD)
    assert upgraded["args"]["implementation"] == uncapped.address
    assert slot_address(w3, market.address, IMPLEMENTATION_SLOT) == uncapped.address

    send(w3, market.functions.setProtocolFeePercent(2 * E18 // 10), owner)
    assert market.functions.protocolFeePercent().call() == 2 * E18 // 10
    assert market.functions.sharesSupply(twin).call() == 4  # state survived the upgrade
    assert market.functions.protocolFeeDestination().call() == fee_dest


def test_multisig_records_a_reverted_setter_and_batcher_lands_fee_and_trade(w3: Web3) -> None:
    a = list(w3.eth.accounts)
    impl = deploy(w3, "DigitalTwinSharesV1")
    proxy = deploy(w3, "DevProxy", impl.address, impl.encode_abi("initialize", [a[0], a[0], a[2]]))
    market = w3.eth.contract(address=proxy.address, abi=impl.abi)

    multisig = deploy(w3, "SimpleMultisig", [a[5], a[6], a[7]], 2)
    send(w3, market.functions.transferOwnership(multisig.address), a[0])
    too_high = market.encode_abi("setProtocolFeePercent", [E18 // 10])
    send(w3, multisig.functions.submit(market.address, 0, too_high), a[5])
    receipt = send(w3, multisig.functions.confirm(0), a[6])
    (executed,) = multisig.events.Executed().process_receipt(receipt, errors=DISCARD)
    assert executed["args"]["success"] is False
    ok = market.encode_abi("setProtocolFeePercent", [E18 // 100])
    send(w3, multisig.functions.submit(market.address, 0, ok), a[5])
    send(w3, multisig.functions.confirm(1), a[7])
    assert market.functions.protocolFeePercent().call() == E18 // 100

    batcher = deploy(w3, "Batcher", a[0])
    proxy2 = deploy(w3, "DevProxy", impl.address, impl.encode_abi("initialize", [batcher.address, a[0], a[2]]))
    market2 = w3.eth.contract(address=proxy2.address, abi=impl.abi)
    twin = bytes.fromhex("22" * 16)
    calls = [
        (market2.address, 0, market2.encode_abi("setSubjectFeePercent", [E18 // 50])),
        (market2.address, 0, market2.encode_abi("createDigitalTwin", [twin, "u"])),
        (market2.address, E18, market2.encode_abi("buyShares", [twin, 3])),
    ]
    targets, values, data = (list(x) for x in zip(*calls, strict=True))
    receipt = send(w3, batcher.functions.batch(targets, values, data), a[0], value=E18)
    trades = market2.events.Trade().process_receipt(receipt, errors=DISCARD)
    assert len(trades) == 2 and trades[1]["args"]["subjectEthAmount"] == trades[1]["args"]["ethAmount"] // 50


# ----- inference: precompile stand-in at 0xF4, hub, caller -----


def test_hub_run_emits_precompile_and_hub_events(w3: Web3) -> None:
    sender = w3.eth.accounts[0]
    precompile_art = ci.load_artifact("InferencePrecompileStandIn")
    w3.provider.make_request(
        RPCEndpoint("anvil_setCode"), [ci.INFERENCE_PRECOMPILE, precompile_art["deployedBytecode"]]
    )
    precompile = w3.eth.contract(address=Web3.to_checksum_address(ci.INFERENCE_PRECOMPILE), abi=precompile_art["abi"])
    hub = deploy(w3, "InferenceHub")

    receipt = send(w3, hub.functions.run("QmModel", 1, model_input([123, 456])), sender)
    logs = receipt["logs"]
    assert [topic0_of(log) for log in logs] == [MODEL_INFERENCE_TOPIC, INFERENCE_RESULT_TOPIC]
    assert logs[0]["address"] == precompile.address and logs[1]["address"] == hub.address
    inference_id, request, response = decode(["string", MODEL_REQUEST, MODEL_OUTPUT], bytes(logs[0]["data"]))
    assert request[0] == 1 and request[1] == "QmModel"  # the mode is request.mode
    assert response[0][0][1] == ((123, 2), (456, 2)) and response[3] is False
    (output,) = decode([MODEL_OUTPUT], bytes(logs[1]["data"]))
    assert output == response

    send(w3, precompile.functions.setNextSimulation(True), sender)
    caller = deploy(w3, "InferenceCaller", hub.address)
    receipt = send(w3, caller.functions.runML("QmModel", 0, model_input([7])), sender)
    ids = []
    for log in receipt["logs"]:
        if topic0_of(log) == MODEL_INFERENCE_TOPIC:
            next_id, _, response = decode(["string", MODEL_REQUEST, MODEL_OUTPUT], bytes(log["data"]))
            ids.append(next_id)
            assert response[3] is True  # simulation flag applies to this inference only
    receipt = send(w3, caller.functions.runML("QmModel", 2, model_input([8])), sender)
    next_id, _, response = decode(["string", MODEL_REQUEST, MODEL_OUTPUT], bytes(receipt["logs"][0]["data"]))
    assert response[3] is False and len({inference_id, *ids, next_id}) == 3

    chat: tuple[Any, ...] = (0, "llama", [("user", "hi", "", "", [])], [], "", 64, [], 0)
    receipt = send(w3, hub.functions.runLLMChat(chat), sender)
    (result,) = hub.events.LLMChatResult().process_receipt(receipt, errors=DISCARD)
    assert result["args"]["response"]["message"]["content"] == "echo: hi"


# ----- staking stand-in and TEE registry -----


def test_staking_stand_in_pages_validators(w3: Web3) -> None:
    art = ci.load_artifact("StakingPrecompileStandIn")
    w3.provider.make_request(RPCEndpoint("anvil_setCode"), [ci.STAKING_PRECOMPILE, art["deployedBytecode"]])
    staking = w3.eth.contract(address=Web3.to_checksum_address(ci.STAKING_PRECOMPILE), abi=art["abi"])
    sender = w3.eth.accounts[0]
    for i, (status, tokens) in enumerate([(3, 100), (3, 50), (1, 7), (3, 25)]):
        addr = Web3.to_checksum_address(f"0x{i + 1:040x}")
        fn = staking.functions.setValidator(addr, f"ogvaloper{i}", f"pk{i}", False, status, tokens, f"v{i}")
        send(w3, fn, sender)
    validators, page = staking.functions.validators("BOND_STATUS_BONDED", (b"", 1, 1, True, False)).call()
    assert [v[4] for v in validators] == [50] and page == (b"", 3)
    validators, _ = staking.functions.validators("", (b"", 0, 0, False, False)).call()
    assert len(validators) == 4
    assert staking.functions.validator(Web3.to_checksum_address(f"0x{3:040x}")).call()[0] == "ogvaloper2"


def test_tee_registry_activity(w3: Web3) -> None:
    accounts = list(w3.eth.accounts)
    admin, operator = accounts[0], accounts[8]
    registry = deploy(w3, "TEERegistryV1", admin)
    pcr = Web3.keccak(b"pcr0pcr1pcr2")
    pubkey = b"\x30\x82" + b"k" * 40
    receipt = send(
        w3, registry.functions.registerTEE(operator, operator, "https://tee", pubkey, b"cert", pcr, 0), admin
    )
    tee_id = Web3.keccak(pubkey)
    (ev,) = registry.events.TEERegistered().process_receipt(receipt, errors=DISCARD)
    assert ev["args"]["teeId"] == tee_id
    assert registry.functions.isTEEActive(tee_id).call() is False  # PCR not approved yet
    send(w3, registry.functions.approvePCR(pcr, 0, "v1"), admin)
    assert registry.functions.isTEEActive(tee_id).call() is True
    assert registry.functions.getActiveTEEs(0).call()[0][0] == operator
    now = w3.eth.get_block("latest")["timestamp"]
    receipt = send(w3, registry.functions.heartbeat(tee_id, now - 1801), operator)
    assert len(registry.events.HeartbeatReceived().process_receipt(receipt, errors=DISCARD)) == 1
    assert registry.functions.isTEEActive(tee_id).call() is False  # stale heartbeat
    assert registry.functions.ATTESTATION_CHECK().call() == "skipped-devnet"


def test_workflow_contract_runs_through_the_hub(w3: Web3) -> None:
    sender = w3.eth.accounts[0]
    art = ci.load_artifact("InferencePrecompileStandIn")
    w3.provider.make_request(RPCEndpoint("anvil_setCode"), [ci.INFERENCE_PRECOMPILE, art["deployedBytecode"]])
    hub = deploy(w3, "InferenceHub")
    workflow = deploy(
        w3, "PriceHistoryInference", "QmVolatility", "open_high_low_close", ("ETH", "USD", 10, 30, 0, [0, 1])
    )
    assert workflow.functions.inputQuery().call() == ["ETH", "USD", 10, 30, 0]
    send(w3, workflow.functions.run(), sender)  # no hub: straight to the precompile
    send(w3, workflow.functions.setHub(hub.address), sender)
    receipt = send(w3, workflow.functions.run(), sender)
    topics = [topic0_of(log) for log in receipt["logs"]]
    assert topics[:2] == [MODEL_INFERENCE_TOPIC, INFERENCE_RESULT_TOPIC]
    (emitted,) = workflow.events.InferenceResultEmitted().process_receipt(receipt, errors=DISCARD)
    assert emitted["args"]["caller"] == sender
    result = emitted["args"]["result"]
    assert result["numbers"][0]["name"] == "open_high_low_close" and len(result["numbers"][0]["values"]) == 10
    latest = workflow.functions.getInferenceResult().call()
    assert latest[0][0][0] == "open_high_low_close"
    assert len(workflow.functions.getLastInferenceResults(5).call()) == 2


def test_settlement_relays(w3: Web3) -> None:
    relayer, other = (list(w3.eth.accounts)[i] for i in (0, 9))
    verifier = deploy(w3, "TEEInferenceVerifier", "0x" + "00" * 19 + "01")
    relay = deploy(w3, "InferenceSettlementRelay", verifier.address)
    leaf_a, leaf_b = Web3.keccak(b"a"), Web3.keccak(b"b")
    root = Web3.keccak(b"".join(sorted([bytes(leaf_a), bytes(leaf_b)])))  # OpenZeppelin sorted-pair hashing
    assert relay.functions.verifyProof([leaf_b], root, leaf_a).call() is True
    assert relay.functions.verifyProof([leaf_b], root, leaf_b).call() is False
    receipt = send(w3, relay.functions.batchSettle(root, 2, b"blob-1"), relayer)
    (batch,) = relay.events.BatchSettlement().process_receipt(receipt, errors=DISCARD)
    assert batch["args"]["merkleRoot"] == root and batch["args"]["walrusBlobId"] == b"blob-1"
    now = w3.eth.get_block("latest")["timestamp"]
    tee = Web3.keccak(b"tee")
    fn = relay.functions.settleIndividual(tee, leaf_a, leaf_b, now - 60, other, b"blob-2", b"sig")
    receipt = send(w3, fn, relayer)
    (ind,) = relay.events.IndividualSettlement().process_receipt(receipt, errors=DISCARD)
    assert ind["args"]["teeId"] == tee and ind["args"]["ethAddress"] == other
    with pytest.raises(ContractLogicError):  # older than 1 h: rejected by the verifier
        relay.functions.settleIndividual(tee, leaf_a, leaf_b, now - 7200, other, b"", b"").call({"from": relayer})
    with pytest.raises(ContractLogicError):  # no SETTLEMENT_RELAY_ROLE
        relay.functions.batchSettle(root, 2, b"").call({"from": other})
    v1 = deploy(w3, "SettlementRelayV1")
    receipt = send(w3, v1.functions.settleWithMetadata(leaf_a, leaf_b, "model", b"in", b"out"), relayer)
    assert len(v1.events.SettlementWithMetadata().process_receipt(receipt, errors=DISCARD)) == 1


@pytest.mark.parametrize(
    ("name", "subject_of"),
    [("TwinSharesDocs", lambda trader: bytes.fromhex("33" * 16)), ("FriendtechSharesV1", lambda trader: trader)],
)
def test_owner_first_markets(w3: Web3, name: str, subject_of: Any) -> None:
    owner, fee_dest, trader = (list(w3.eth.accounts)[i] for i in (0, 2, 4))
    market = deploy(w3, name)
    for fn in (
        market.functions.setFeeDestination(fee_dest),
        market.functions.setProtocolFeePercent(E18 // 10),  # no cap
        market.functions.setSubjectFeePercent(E18 // 20),
    ):
        assert send(w3, fn, owner)["logs"] == []  # setters emit nothing
    assert slot_address(w3, market.address, 0) == owner
    assert slot_address(w3, market.address, 1) == fee_dest
    assert int.from_bytes(w3.eth.get_storage_at(market.address, 2), "big") == E18 // 10
    assert int.from_bytes(w3.eth.get_storage_at(market.address, 3), "big") == E18 // 20
    subject = subject_of(trader)
    send(w3, market.functions.buyShares(subject, 1), trader)  # first share is free
    cost = market.functions.getBuyPriceAfterFee(subject, 3).call()
    receipt = send(w3, market.functions.buyShares(subject, 3), trader, value=cost)
    (trade,) = market.events.Trade().process_receipt(receipt, errors=DISCARD)
    assert trade["args"]["protocolEthAmount"] == trade["args"]["ethAmount"] // 10
    assert trade["args"]["supply"] == 4
