"""The registry of every event ogwatch indexes: signature, topic0, ABI source, target table, emitting kinds, decoder.

Each entry names its canonical signature; topic0 is keccak256 of it, and at import the signature must
be an event of the named ABI file (so a typo or an ABI change fails loudly, not silently). An event
shared by several contracts (OwnershipTransferred, RoleGranted, ...) is one entry with every kind
that emits it. Kinds are those of `ogwatch.config.ContractKind`, plus `timelock` for the
OpenZeppelin TimelockController that can own a market (not a config kind yet).

Families and tables are described in `store/migrations/0002_events.sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from collectors import abis
from collectors import decode_inference as inf
from collectors.decode_core import (
    SAFE_INT,
    BatchDecoder,
    Custom,
    Hook,
    RawLog,
    Row,
    dynamic_decoder,
    signature,
    static_decoder,
    text,
    word_converter,
)
from collectors.decode_tables import COLUMNS

TIMELOCK_ABI = "TimelockController"  # embedded below: OpenZeppelin Contracts 5.x, not a file in abi/


def _event(name: str, *params: tuple[str, str, bool]) -> dict[str, Any]:
    inputs = [{"name": n, "type": t, "indexed": i} for n, t, i in params]
    return {"type": "event", "name": name, "anonymous": False, "inputs": inputs}


_B32, _U256 = "bytes32", "uint256"
EMBEDDED_ABIS: dict[str, list[dict[str, Any]]] = {
    TIMELOCK_ABI: [  # events of @openzeppelin/contracts 5.x governance/TimelockController.sol
        _event("CallScheduled", ("id", _B32, True), ("index", _U256, True), ("target", "address", False),
               ("value", _U256, False), ("data", "bytes", False), ("predecessor", _B32, False),
               ("delay", _U256, False)),
        _event("CallExecuted", ("id", _B32, True), ("index", _U256, True), ("target", "address", False),
               ("value", _U256, False), ("data", "bytes", False)),
        _event("CallSalt", ("id", _B32, True), ("salt", _B32, False)),
        _event("Cancelled", ("id", _B32, True)),
        _event("MinDelayChange", ("oldDuration", _U256, False), ("newDuration", _U256, False)),
    ],
}


@dataclass(frozen=True)
class EventSpec:
    """One indexed event: where its ABI is, what it is called on chain, where its rows go, who emits it."""

    name: str
    abi_file: str
    signature: str
    topic0: str
    table: str
    kinds: frozenset[str]
    decoder: Callable[[list[RawLog]], list[dict[str, Any]]]
    topic_count: int  # topic0 plus one per indexed parameter: logs with another count do not fit


def load_abi(abi_file: str) -> list[dict[str, Any]]:
    """An ABI by file name in abi/ (without .json), or one embedded above."""
    return EMBEDDED_ABIS.get(abi_file) or abis.load(abi_file)


def topic0_of(sig: str) -> str:
    """keccak256 of a canonical event signature, 0x-hex lower."""
    return "0x" + keccak(text=sig).hex()


def _abi_event(abi_file: str, sig: str) -> dict[str, Any]:
    for item in load_abi(abi_file):
        if item.get("type") == "event" and signature(item) == sig:
            return item
    raise RuntimeError(f"event {sig} is not in ABI {abi_file}: the registry and the ABI disagree")


def _is_word(abi_type: str) -> bool:
    try:
        word_converter(abi_type)
    except ValueError:
        return False
    return True


def _spec(sig: str, abi_file: str, table: str, kinds: Iterable[str], names: dict[str, str] | None = None, *,
          consts: Row | None = None, post: Hook | None = None, custom: Custom | None = None) -> EventSpec:
    event = _abi_event(abi_file, sig)
    names, columns = names or {}, COLUMNS[table]
    static = custom is None and all(_is_word(p["type"]) for p in event["inputs"])
    decoder: BatchDecoder = (static_decoder(event, names, columns, consts, post) if static
                             else dynamic_decoder(event, names, columns, consts, post, custom))
    n_topics = 1 + sum(1 for p in event["inputs"] if p["indexed"])
    return EventSpec(event["name"], abi_file, sig, topic0_of(sig), table, frozenset(kinds), decoder, n_topics)


# ---- derived columns ----

def _timestamp_int(row: Row) -> None:
    value = int(row["timestamp"])
    row["timestamp_int"] = value if value <= SAFE_INT else None  # beyond: not a time, and not exact in a double


def _walrus(row: Row) -> None:
    row["walrus_blob_id"] = text(bytes.fromhex(row["walrus_blob_id_hex"][2:]))


def _settled(row: Row) -> None:
    _walrus(row)
    _timestamp_int(row)


def _selector(row: Row) -> None:
    row["selector"] = row["data"][:10] if len(row["data"]) >= 10 else None


# ---- kinds ----
TWIN, DOCS, FT = "twinfun_market", "twinfun_docs_market", "friendtech_market"
RELAY, RELAY_V1, TEE, VERIFIER = "settlement_relay", "settlement_relay_v1", "tee_registry", "tee_verifier"
HUB, PRECOMPILE, WORKFLOW, TIMELOCK = "inference_hub", "inference_precompile", "workflow", "timelock"
ROLE_KINDS = (TWIN, RELAY, TEE, TIMELOCK)

# ---- struct shapes (canonical), to keep the long signatures readable ----
NUM_TENSOR, STR_TENSOR = "(string,(int128,int128)[],uint32[])", "(string,string[])"
MODEL_OUTPUT = f"({NUM_TENSOR}[],{STR_TENSOR}[],(string,string)[],bool)"
ML_REQUEST = f"(uint8,string,({NUM_TENSOR}[],{STR_TENSOR}[]))"
TOOL_CALL = "(string,string,string)"
CHAT_MESSAGE = f"(string,string,string,string,{TOOL_CALL}[])"
CHAT_REQUEST = f"(uint8,string,{CHAT_MESSAGE}[],(string,string,string)[],string,uint32,string[],uint32)"
CHAT_RESPONSE = f"(string,{CHAT_MESSAGE})"
COMPLETION_REQUEST, COMPLETION_RESPONSE = "(uint8,string,string,uint32,string[],uint32)", "(string)"

TRADE = "(address,{},bool,uint256,uint256,uint256,uint256,uint256)"
_TRADE_COLS = {"trader": "trader", "isBuy": "is_buy", "shareAmount": "share_amount", "ethAmount": "eth_amount",
               "protocolEthAmount": "protocol_eth_amount", "subjectEthAmount": "subject_eth_amount",
               "supply": "supply"}
_ROLE = {"role": "role", "account": "account", "sender": "sender"}
_OP = {"id": "operation_id", "index": "call_index", "target": "target", "value": "value", "data": "data"}
_DV, _ST = "DigitalTwinSharesV1", "SettlementRelayV1.events"
_TR, _PC = "TEERegistry.events", "InferencePrecompile.events"


def _setter(sig: str, field: str) -> EventSpec:
    return _spec(sig, _DV, "market_events", [TWIN], {field: "value"}, consts={"field": field})


EVENTS: tuple[EventSpec, ...] = (
    # Twin.fun and friend.tech markets
    _spec("Trade" + TRADE.format("bytes16"), _DV, "trades", [TWIN, DOCS], _TRADE_COLS | {"digitalTwinId": "twin_id"}),
    _spec("Trade" + TRADE.format("address"), "FriendtechSharesV1", "trades", [FT],
          _TRADE_COLS | {"subject": "subject"}),
    _setter("ProtocolFeePercentSet(uint256)", "protocolFeePercent"),
    _setter("SubjectFeePercentSet(uint256)", "subjectFeePercent"),
    _setter("ProtocolFeeDestinationSet(address)", "protocolFeeDestination"),
    _setter("MinSharesToCreateSet(uint256)", "minSharesToCreate"),
    _spec("DigitalTwinOwnershipClaimed(bytes16,address)", _DV, "twin_events", [TWIN],
          {"digitalTwinId": "twin_id", "newOwner": "new_owner"}),
    _spec("DigitalTwinUrlSet(bytes16,string)", _DV, "twin_events", [TWIN], {"digitalTwinId": "twin_id", "url": "url"}),
    # who controls what
    _spec("Upgraded(address)", _DV, "admin_events", [TWIN], {"implementation": "implementation"}),
    _spec("OwnershipTransferred(address,address)", _DV, "admin_events", [TWIN, DOCS, FT, RELAY, VERIFIER],
          {"previousOwner": "previous_owner", "newOwner": "new_owner"}),
    _spec("RoleGranted(bytes32,address,address)", _DV, "admin_events", ROLE_KINDS, _ROLE),
    _spec("RoleRevoked(bytes32,address,address)", _DV, "admin_events", ROLE_KINDS, _ROLE),
    _spec("RoleAdminChanged(bytes32,bytes32,bytes32)", _DV, "admin_events", ROLE_KINDS,
          {"role": "role", "previousAdminRole": "previous_admin_role", "newAdminRole": "new_admin_role"}),
    _spec("Initialized(uint64)", _DV, "admin_events", [TWIN], {"version": "version"}),
    _spec("RegistryUpdated(address,address)", "TEEInferenceVerifier.events", "registry_events", [VERIFIER],
          {"oldRegistry": "old_registry", "newRegistry": "new_registry"}),
    # timelock owners
    _spec("CallScheduled(bytes32,uint256,address,uint256,bytes,bytes32,uint256)", TIMELOCK_ABI, "timelock_events",
          [TIMELOCK], _OP | {"predecessor": "predecessor", "delay": "delay"}, post=_selector),
    _spec("CallExecuted(bytes32,uint256,address,uint256,bytes)", TIMELOCK_ABI, "timelock_events", [TIMELOCK], _OP,
          post=_selector),
    _spec("CallSalt(bytes32,bytes32)", TIMELOCK_ABI, "timelock_events", [TIMELOCK],
          {"id": "operation_id", "salt": "salt"}),
    _spec("Cancelled(bytes32)", TIMELOCK_ABI, "timelock_events", [TIMELOCK], {"id": "operation_id"}),
    _spec("MinDelayChange(uint256,uint256)", TIMELOCK_ABI, "timelock_events", [TIMELOCK],
          {"oldDuration": "old_duration", "newDuration": "new_duration"}),
    # on-chain inference (alpha)
    _spec(f"ModelInferenceEvent(string,{ML_REQUEST},{MODEL_OUTPUT})", _PC, "inferences", [PRECOMPILE],
          custom=inf.ml_inference),
    _spec(f"LLMChat(string,{CHAT_REQUEST},{CHAT_RESPONSE})", _PC, "inferences", [PRECOMPILE], custom=inf.llm_chat),
    _spec(f"LLMCompletionEvent(string,{COMPLETION_REQUEST},{COMPLETION_RESPONSE})", _PC, "inferences",
          [PRECOMPILE], custom=inf.llm_completion),
    _spec(f"InferenceResult({MODEL_OUTPUT})", "InferenceHub", "inference_results", [HUB], custom=inf.ml_result),
    _spec(f"LLMChatResult({CHAT_RESPONSE})", "InferenceHub", "inference_results", [HUB], custom=inf.llm_chat_result),
    _spec(f"LLMCompletionResult({COMPLETION_RESPONSE})", "InferenceHub", "inference_results", [HUB],
          custom=inf.llm_completion_result),
    _spec(f"InferenceResultEmitted(address,{MODEL_OUTPUT})", "PriceHistoryInference", "inference_results",
          [WORKFLOW], {"caller": "caller"}, custom=inf.ml_result),
    # LLM settlement (OG EVM)
    _spec("BatchSettlement(bytes32,uint256,bytes)", "InferenceSettlementRelay", "settlements", [RELAY],
          {"merkleRoot": "merkle_root", "batchSize": "batch_size", "walrusBlobId": "walrus_blob_id_hex"},
          consts={"relay_version": 2}, post=_walrus),
    _spec("IndividualSettlement(bytes32,address,bytes32,bytes32,uint256,bytes,bytes)", "InferenceSettlementRelay",
          "settlements", [RELAY], {"teeId": "tee_id", "ethAddress": "eth_address", "inputHash": "input_hash",
                                   "outputHash": "output_hash", "timestamp": "timestamp",
                                   "walrusBlobId": "walrus_blob_id_hex", "signature": "signature"},
          consts={"relay_version": 2}, post=_settled),
    _spec("Settlement(bytes32,bytes32)", _ST, "settlements", [RELAY_V1],
          {"inputHash": "input_hash", "outputHash": "output_hash"}, consts={"relay_version": 1}),
    _spec("BatchSettlement(bytes32,uint256)", _ST, "settlements", [RELAY_V1],
          {"merkleRoot": "merkle_root", "batchSize": "batch_size"}, consts={"relay_version": 1}),
    _spec("SettlementWithMetadata(bytes32,bytes32,string,bytes,bytes)", _ST, "settlements", [RELAY_V1],
          {"inputHash": "input_hash", "outputHash": "output_hash", "modelInfo": "model_info",
           "inputData": "input_data", "outputData": "output_data"}, consts={"relay_version": 1}),
    # TEE registry
    _spec("TEERegistered(bytes32,address,uint8)", _TR, "tee_events", [TEE],
          {"teeId": "tee_id", "owner": "owner", "teeType": "tee_type"}),
    _spec("TEEEnabled(bytes32)", _TR, "tee_events", [TEE], {"teeId": "tee_id"}),
    _spec("TEEDisabled(bytes32)", _TR, "tee_events", [TEE], {"teeId": "tee_id"}),
    _spec("HeartbeatReceived(bytes32,uint256)", _TR, "tee_events", [TEE], {"teeId": "tee_id", "timestamp": "timestamp"},
          post=_timestamp_int),
    _spec("TEETypeAdded(uint8,string)", _TR, "tee_events", [TEE], {"typeId": "tee_type", "name": "type_name"}),
    _spec("PCRApproved(bytes32,uint8,string)", _TR, "tee_events", [TEE],
          {"pcrHash": "pcr_hash", "teeType": "tee_type", "version": "pcr_version"}),
    _spec("PCRRevoked(bytes32,uint8)", _TR, "tee_events", [TEE], {"pcrHash": "pcr_hash", "teeType": "tee_type"}),
    _spec("AWSCertificateUpdated(bytes32)", _TR, "tee_events", [TEE], {"certHash": "cert_hash"}),
)


def _check_unique() -> None:
    seen: set[tuple[str, int]] = set()
    for spec in EVENTS:
        key = (spec.topic0, spec.topic_count)
        if key in seen:
            raise RuntimeError(f"{spec.signature}: topic0 and topic count registered twice")
        seen.add(key)


_check_unique()


def by_topic0() -> dict[str, list[EventSpec]]:
    """Every registered event by topic0 (a list: the same topic0 may come with different indexed layouts)."""
    out: dict[str, list[EventSpec]] = {}
    for spec in EVENTS:
        out.setdefault(spec.topic0, []).append(spec)
    return out


def for_kinds(kinds: Iterable[str]) -> list[EventSpec]:
    """The events that contracts of any of these kinds emit, in registry order."""
    wanted = set(kinds)
    return [spec for spec in EVENTS if spec.kinds & wanted]
