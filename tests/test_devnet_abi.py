"""The devnet contracts' compiled ABIs reproduce the real ABIs the monitor relies on.

Reads only the committed artifacts in devnet/artifacts/ and the real ABI files in abi/ (no node needed),
except the rebuild test, which runs `node devnet/compile.mjs <tmp>` and is skipped without node.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from devnet import contracts_info as ci

REPO_ROOT = Path(__file__).resolve().parent.parent

AbiEntry = dict[str, Any]


# ----- helpers -----


def canonical_type(param: dict[str, Any]) -> str:
    """Canonical ABI type of a parameter, tuples expanded: ``(uint8,string,(bytes,uint64)[])[]``."""
    typ: str = param["type"]
    if typ.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){typ[len('tuple') :]}"
    return typ


def signature(entry: AbiEntry) -> str:
    return f"{entry['name']}({','.join(canonical_type(p) for p in entry.get('inputs', []))})"


def topic0(entry: AbiEntry) -> str:
    return "0x" + keccak(text=signature(entry)).hex()


def selector(entry: AbiEntry) -> str:
    return "0x" + keccak(text=signature(entry))[:4].hex()


def output_types(entry: AbiEntry) -> list[str]:
    return [canonical_type(p) for p in entry.get("outputs", [])]


def entries(abi: list[AbiEntry], kind: str) -> dict[str, AbiEntry]:
    """ABI entries of one kind by name (no overloads exist in these contracts; assert it)."""
    found = [e for e in abi if e["type"] == kind]
    by_name = {e["name"]: e for e in found}
    assert len(by_name) == len(found), f"overloaded {kind}s: {[e['name'] for e in found]}"
    return by_name


def compiled_abi(name: str) -> list[AbiEntry]:
    abi: list[AbiEntry] = ci.load_artifact(name)["abi"]
    return abi


def real_entries(name: str, kind: str) -> dict[str, AbiEntry]:
    merged: dict[str, AbiEntry] = {}
    for file_name in ci.REAL_ABI_FOR[name]:
        merged.update(entries(ci.load_real_abi(file_name), kind))
    return merged


def first_compiled(name: str, kind: str, entry_name: str) -> AbiEntry:
    found = entries(compiled_abi(name), kind)
    assert entry_name in found, f"{name} has no {kind} {entry_name}"
    return found[entry_name]


REAL_PAIRS = [(name, f) for name, files in ci.REAL_ABI_FOR.items() for f in files]


# ----- artifacts -----


def test_artifacts_exist_and_are_well_formed() -> None:
    names = set(ci.artifact_names())
    wanted = (
        set(ci.REAL_ABI_FOR)
        | set(ci.MONITORED_FUNCTIONS)
        | set(ci.PRECOMPILE_ADDRESSES)
        | set(ci.DEVNET_MUTATORS)
        | {"DevProxy", "DevTimelock", "SimpleMultisig", "Batcher", "InferenceCaller"}
    )
    assert wanted <= names, f"missing artifacts: {sorted(wanted - names)}"
    for name in names:
        art = ci.load_artifact(name)
        assert sorted(art) == ["abi", "bytecode", "contractName", "deployedBytecode", "solcVersion", "storageLayout"]
        assert art["contractName"] == name
        assert art["solcVersion"].startswith("0.8.30+")
        for key in ("bytecode", "deployedBytecode"):
            code = art[key]
            assert code.startswith("0x") and len(code) > 2 and len(code) % 2 == 0
            int(code, 16)
        # EIP-170 limit, so every contract deploys on a default anvil
        assert (len(art["deployedBytecode"]) - 2) // 2 <= 24_576, name


def test_every_source_file_is_accounted_for() -> None:
    """Each deployable contract has an artifact; no artifact lacks a source file."""
    sources = {p.stem: p.read_text(encoding="utf-8") for p in ci.CONTRACTS_DIR.glob("*.sol")}
    for name in ci.artifact_names():
        assert any(f"contract {name} " in text for text in sources.values()), name


# ----- events -----


@pytest.mark.parametrize(("name", "abi_file"), REAL_PAIRS)
def test_events_match_real_abi(name: str, abi_file: str) -> None:
    absent = set(ci.ABSENT_EVENTS.get(name, []))
    compiled = entries(compiled_abi(name), "event")
    for ev_name, real in entries(ci.load_real_abi(abi_file), "event").items():
        if ev_name in absent:
            continue
        assert ev_name in compiled, f"{name} lacks event {ev_name} of {abi_file}"
        mine = compiled[ev_name]
        assert [canonical_type(p) for p in mine["inputs"]] == [canonical_type(p) for p in real["inputs"]], ev_name
        assert [bool(p.get("indexed")) for p in mine["inputs"]] == [bool(p.get("indexed")) for p in real["inputs"]], (
            ev_name
        )
        assert bool(mine.get("anonymous")) == bool(real.get("anonymous")), ev_name
        assert topic0(mine) == topic0(real), ev_name


@pytest.mark.parametrize("name", sorted(ci.ABSENT_EVENTS))
def test_deliberately_absent_events(name: str) -> None:
    compiled = entries(compiled_abi(name), "event")
    real = real_entries(name, "event")
    for ev_name in ci.ABSENT_EVENTS[name]:
        assert ev_name in real, f"{ev_name} is not an event of {ci.REAL_ABI_FOR[name]}"
        assert ev_name not in compiled, f"{name} must not emit {ev_name}"


@pytest.mark.parametrize("name", sorted(ci.ABSENT_FUNCTIONS))
def test_deliberately_absent_functions(name: str) -> None:
    compiled = entries(compiled_abi(name), "function")
    for fn_name in ci.ABSENT_FUNCTIONS[name]:
        assert fn_name not in compiled, f"{name} must not have {fn_name}()"


# ----- functions -----


@pytest.mark.parametrize("name", sorted(ci.MONITORED_FUNCTIONS))
def test_monitored_functions_match_real_abi(name: str) -> None:
    real = real_entries(name, "function")
    compiled = entries(compiled_abi(name), "function")
    for fn_name in ci.MONITORED_FUNCTIONS[name]:
        assert fn_name in real, f"{fn_name} is not in {ci.REAL_ABI_FOR[name]}"
        assert fn_name in compiled, f"{name} lacks {fn_name}"
        mine, ref = compiled[fn_name], real[fn_name]
        assert selector(mine) == selector(ref), f"{name}.{fn_name}: {signature(mine)} != {signature(ref)}"
        assert output_types(mine) == output_types(ref), f"{name}.{fn_name} outputs"
        assert mine["stateMutability"] == ref["stateMutability"], f"{name}.{fn_name} mutability"


def _abi_keys(abi: list[AbiEntry], skip_functions: set[str]) -> set[tuple[str, ...]]:
    keys: set[tuple[str, ...]] = set()
    for e in abi:
        kind = e["type"]
        if kind in ("constructor", "receive", "fallback"):
            continue
        if kind == "function":
            if e["name"] in skip_functions:
                continue
            keys.add((kind, signature(e), ",".join(output_types(e)), e["stateMutability"]))
        elif kind == "event":
            indexed = ",".join("i" if p.get("indexed") else "-" for p in e["inputs"])
            keys.add((kind, signature(e), indexed, str(bool(e.get("anonymous")))))
        else:
            keys.add((kind, signature(e)))
    return keys


@pytest.mark.parametrize("name", sorted(ci.EXACT_ABI))
def test_exact_abi(name: str) -> None:
    """Functions, events and errors are exactly the real ones (plus the listed devnet-only functions)."""
    extras = set(ci.EXACT_ABI[name])
    real: list[AbiEntry] = []
    for file_name in ci.REAL_ABI_FOR[name]:
        real.extend(ci.load_real_abi(file_name))
    mine = _abi_keys(compiled_abi(name), extras)
    ref = _abi_keys(real, set())
    assert mine == ref, f"missing: {sorted(ref - mine)}\nextra: {sorted(mine - ref)}"
    compiled_fns = entries(compiled_abi(name), "function")
    for extra in extras:
        assert extra in compiled_fns, f"{name} lacks its devnet-only function {extra}"


@pytest.mark.parametrize("name", sorted(ci.DEVNET_MUTATORS))
def test_devnet_mutators_exist(name: str) -> None:
    compiled = {signature(e) for e in compiled_abi(name) if e["type"] == "function"}
    for sig in ci.DEVNET_MUTATORS[name]:
        assert sig in compiled, f"{name} lacks {sig}"


# ----- literal facts from docs/opengradient-onchain.md -----

TOPIC0_FACTS = [
    (
        "InferencePrecompileStandIn",
        "ModelInferenceEvent",
        "0x1b283af3452f3718585ce100f80d9aa81fc60924db4a582a36db6aae3b109d87",
    ),
    (
        "InferencePrecompileStandIn",
        "LLMChat",
        "0x4c92d3df7819fcd1c9f9663332f0a599a65eefdad2eaf9193cffb9dbf1919c3b",
    ),
    (
        "InferencePrecompileStandIn",
        "LLMCompletionEvent",
        "0x51fe69d513d73ecde3fa3bf17584f7d2acfd5f0b13d367e898d6e11e742127a3",
    ),
    (
        "InferenceHub",
        "InferenceResult",
        "0xc1396ff68bc2d8630100df29ce5561fa99078c602e8676ab72a53e37095d7168",
    ),
    (
        "DigitalTwinSharesV1",
        "Trade",
        "0x311a52e66bed13064f865403cc4c02927bd6506c88460c4c66ed158c4279f130",
    ),
    (
        "DigitalTwinSharesV1Uncapped",
        "Trade",
        "0x311a52e66bed13064f865403cc4c02927bd6506c88460c4c66ed158c4279f130",
    ),
    (
        "TwinSharesDocs",
        "Trade",
        "0x311a52e66bed13064f865403cc4c02927bd6506c88460c4c66ed158c4279f130",
    ),
    (
        "FriendtechSharesV1",
        "Trade",
        "0x2c76e7a47fd53e2854856ac3f0a5f3ee40d15cfaa82266357ea9779c486ab9c3",
    ),
    (
        "InferenceSettlementRelay",
        "BatchSettlement",
        "0xc2aff8d8a10a4543baabf39bd9ff45e7fc3881d19098df350a3b7f339e911127",
    ),
    (
        "InferenceSettlementRelay",
        "IndividualSettlement",
        "0x74e71a1981c03bd0c36f3b1227f3ee2a34dca5d6fef25c4b2787e033ab60b782",
    ),
]


@pytest.mark.parametrize(("name", "event", "expected"), TOPIC0_FACTS)
def test_topic0_facts(name: str, event: str, expected: str) -> None:
    assert topic0(first_compiled(name, "event", event)) == expected


SELECTOR_FACTS = {
    "setProtocolFeePercent": "0xa4983421",
    "setSubjectFeePercent": "0x5a8a764e",
    "setFeeDestination": "0xfbe53234",
    "protocolFeePercent": "0xd6e6eb9f",
    "subjectFeePercent": "0x24dc441d",
    "owner": "0x8da5cb5b",
}
MARKETS = ["DigitalTwinSharesV1", "DigitalTwinSharesV1Uncapped", "TwinSharesDocs", "FriendtechSharesV1"]


@pytest.mark.parametrize("name", MARKETS)
def test_market_selector_facts(name: str) -> None:
    for fn_name, expected in SELECTOR_FACTS.items():
        assert selector(first_compiled(name, "function", fn_name)) == expected, f"{name}.{fn_name}"


def test_docs_variant_shares_the_bsc_trade_and_price_views() -> None:
    real = entries(ci.load_real_abi("DigitalTwinSharesV1.json"), "function")
    docs = entries(compiled_abi("TwinSharesDocs"), "function")
    for fn_name in ("getBuyPriceAfterFee", "getSellPriceAfterFee", "getBuyPrice", "getSellPrice", "sharesSupply"):
        assert selector(docs[fn_name]) == selector(real[fn_name]), fn_name


# ----- storage layout -----


def slots(name: str) -> dict[str, int]:
    return {e["label"]: e["slot"] for e in ci.load_artifact(name)["storageLayout"] if e["offset"] == 0}


@pytest.mark.parametrize("name", ["DigitalTwinSharesV1", "DigitalTwinSharesV1Uncapped"])
def test_bsc_market_storage_layout(name: str) -> None:
    layout = slots(name)
    assert layout["protocolFeeDestination"] == 0
    assert layout["protocolFeePercent"] == 1
    assert layout["subjectFeePercent"] == 2
    assert layout["minSharesToCreate"] == 3


def test_uncapped_upgrade_keeps_the_layout() -> None:
    assert (
        ci.load_artifact("DigitalTwinSharesV1")["storageLayout"]
        == ci.load_artifact("DigitalTwinSharesV1Uncapped")["storageLayout"]
    )


@pytest.mark.parametrize("name", ["TwinSharesDocs", "FriendtechSharesV1"])
def test_owner_first_market_storage_layout(name: str) -> None:
    layout = slots(name)
    assert layout["_owner"] == 0
    assert layout["protocolFeeDestination"] == 1
    assert layout["protocolFeePercent"] == 2
    assert layout["subjectFeePercent"] == 3


@pytest.mark.parametrize("name", sorted(ci.PRECOMPILE_ADDRESSES))
def test_precompile_stand_ins_need_no_constructor(name: str) -> None:
    """Their runtime code is placed with anvil_setCode: no constructor may be needed."""
    abi = compiled_abi(name)
    assert not [e for e in abi if e["type"] == "constructor"]
    art = ci.load_artifact(name)
    # no constructor and no immutables: the creation code is a plain copy of the runtime code
    assert art["bytecode"].endswith(art["deployedBytecode"][2:])


# ----- governance helpers (OpenZeppelin and our own event shapes) -----


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "DevTimelock",
            {
                "CallScheduled": "CallScheduled(bytes32,uint256,address,uint256,bytes,bytes32,uint256)",
                "CallExecuted": "CallExecuted(bytes32,uint256,address,uint256,bytes)",
                "Cancelled": "Cancelled(bytes32)",
                "MinDelayChange": "MinDelayChange(uint256,uint256)",
            },
        ),
        (
            "SimpleMultisig",
            {
                "Submitted": "Submitted(uint256,address,bytes)",
                "Confirmed": "Confirmed(uint256,address)",
                "Executed": "Executed(uint256,bool)",
            },
        ),
    ],
)
def test_governance_event_shapes(name: str, expected: dict[str, str]) -> None:
    compiled = entries(compiled_abi(name), "event")
    for ev_name, sig in expected.items():
        assert signature(compiled[ev_name]) == sig


def test_multisig_and_batcher_functions() -> None:
    multisig = {signature(e) for e in compiled_abi("SimpleMultisig") if e["type"] == "function"}
    assert {"getOwners()", "getThreshold()", "submit(address,uint256,bytes)", "confirm(uint256)"} <= multisig
    batcher = first_compiled("Batcher", "function", "batch")
    assert signature(batcher) == "batch(address[],uint256[],bytes[])"
    assert batcher["stateMutability"] == "payable"


def test_tee_registry_marks_the_skipped_attestation() -> None:
    for name in ("TEERegistryV1", "TEERegistryOHTTP"):
        fn = first_compiled(name, "function", "ATTESTATION_CHECK")
        assert output_types(fn) == ["string"]
    text = (ci.CONTRACTS_DIR / "TEERegistryBase.sol").read_text(encoding="utf-8")
    assert 'ATTESTATION_CHECK = "skipped-devnet"' in text


# ----- reproducible build -----


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot rebuild the artifacts")
    if not (REPO_ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("node_modules/solc is missing (run npm ci): cannot rebuild the artifacts")
    out = tmp_path / "artifacts"
    proc = subprocess.run(
        [node, str(REPO_ROOT / "devnet" / "compile.mjs"), str(out)],
        cwd=tmp_path,  # the script must not depend on the working directory
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    committed = sorted(p.name for p in ci.ARTIFACTS_DIR.glob("*.json"))
    rebuilt = sorted(p.name for p in out.glob("*.json"))
    assert rebuilt == committed
    for file_name in committed:
        assert (out / file_name).read_bytes() == (ci.ARTIFACTS_DIR / file_name).read_bytes(), file_name
