"""What the devnet contracts stand in for, and where their compiled artifacts live.

The contracts in ``devnet/contracts/`` reproduce the interfaces of the real OpenGradient and Twin.fun
contracts (ABI files in ``abi/``); ``node devnet/compile.mjs`` compiles them into
``devnet/artifacts/<ContractName>.json`` (keys ``abi``, ``bytecode``, ``contractName``,
``deployedBytecode``, ``solcVersion``, ``storageLayout``).

The tables below say which real ABI file(s) each artifact must match (``REAL_ABI_FOR``), which of its
functions the monitor calls (``MONITORED_FUNCTIONS``), which events of those files a devnet contract
deliberately lacks (``ABSENT_EVENTS``, ``ABSENT_FUNCTIONS``) and where the precompile stand-ins' runtime
code goes (``PRECOMPILE_ADDRESSES``). ``tests/test_devnet_abi.py`` checks the artifacts against them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEVNET_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = DEVNET_DIR / "artifacts"
CONTRACTS_DIR = DEVNET_DIR / "contracts"
ABI_DIR = DEVNET_DIR.parent / "abi"

INFERENCE_PRECOMPILE = "0x00000000000000000000000000000000000000F4"
STAKING_PRECOMPILE = "0x0000000000000000000000000000000000000800"

#: Artifact name -> address its deployedBytecode is placed at with ``anvil_setCode``.
PRECOMPILE_ADDRESSES: dict[str, str] = {
    "InferencePrecompileStandIn": INFERENCE_PRECOMPILE,
    "StakingPrecompileStandIn": STAKING_PRECOMPILE,
}

#: Role ids used by the devnet contracts (AccessControl).
ROLES: dict[str, str] = {
    "DEFAULT_ADMIN_ROLE": "0x" + "00" * 32,
    # keccak256("CLAIM_OWNERSHIP_ROLE"): DigitalTwinSharesV1 (granted to the initial admin)
    "CLAIM_OWNERSHIP_ROLE": "0xbea6e44865e135b32714dfa043d5086c2089f80ed35a3300e8b4277dd628e9c4",
    # keccak256("SETTLEMENT_RELAY_ROLE"): InferenceSettlementRelay (granted to the deployer)
    "SETTLEMENT_RELAY_ROLE": "0xf36647b1df9abd99804e22cf307aa4756961525a36f70d6d017702e4e0d8fd75",
    # keccak256("TEE_OPERATOR_ROLE"): TEE registries (granted to the constructor's admin)
    "TEE_OPERATOR_ROLE": "0x66271355502ff8b32eb354cacb7e900249a442e9292fd7f7f425a020bbcdd4dc",
}

#: Artifact -> real ABI files (in ``abi/``) whose events (all of them, minus ABSENT_EVENTS) and
#: monitored functions the artifact must reproduce exactly.
REAL_ABI_FOR: dict[str, list[str]] = {
    "DigitalTwinSharesV1": ["DigitalTwinSharesV1.json"],
    "DigitalTwinSharesV1Uncapped": ["DigitalTwinSharesV1.json"],
    "TwinSharesDocs": ["DigitalTwinSharesV1.json"],
    "FriendtechSharesV1": ["FriendtechSharesV1.json"],
    "InferenceSettlementRelay": ["InferenceSettlementRelay.json"],
    "SettlementRelayV1": ["SettlementRelayV1.events.json"],
    "TEEInferenceVerifier": ["TEEInferenceVerifier.events.json"],
    "TEERegistryV1": ["TEERegistry.views-v1.json", "TEERegistry.events.json"],
    "TEERegistryOHTTP": ["TEERegistry.views-ohttp.json", "TEERegistry.events.json"],
    "InferencePrecompileStandIn": ["InferencePrecompile.json", "InferencePrecompile.events.json"],
    "InferenceHub": ["InferenceHub.json"],
    "PriceHistoryInference": ["PriceHistoryInference.json"],
    "StakingPrecompileStandIn": ["StakingPrecompile.json"],
}

#: Artifacts whose whole ABI (functions, events, errors; constructors aside) equals the real file's,
#: apart from the listed devnet-only functions.
EXACT_ABI: dict[str, list[str]] = {
    "DigitalTwinSharesV1": [],
    "DigitalTwinSharesV1Uncapped": [],
    "FriendtechSharesV1": [],
    "InferenceSettlementRelay": [],
    "InferenceHub": [],
    "InferencePrecompileStandIn": ["setNextSimulation"],
    "PriceHistoryInference": ["hub", "setHub"],
}

_TWIN_MARKET_VIEWS_AND_SETTERS = [
    "protocolFeePercent",
    "subjectFeePercent",
    "protocolFeeDestination",
    "owner",
    "getBuyPriceAfterFee",
    "getSellPriceAfterFee",
    "getBuyPrice",
    "getSellPrice",
    "getPrice",
    "sharesSupply",
    "sharesBalance",
    "setProtocolFeePercent",
    "setSubjectFeePercent",
    "setFeeDestination",
]

_BSC_MARKET = [
    *_TWIN_MARKET_VIEWS_AND_SETTERS,
    "minSharesToCreate",
    "setMinSharesToCreate",
    "digitalTwinIdToOwner",
    "digitalTwinUrl",
    "digitalTwinExists",
    "upgradeToAndCall",
    "proxiableUUID",
    "UPGRADE_INTERFACE_VERSION",
    "hasRole",
    "getRoleAdmin",
    "DEFAULT_ADMIN_ROLE",
    "CLAIM_OWNERSHIP_ROLE",
]

_TEE_REGISTRY_COMMON = [
    "getTEEsByType",
    "getEnabledTEEs",
    "getActiveTEEs",
    "getTEE",
    "isTEEActive",
    "isTEEEnabled",
]

#: Artifact -> names of the functions the monitor calls (looked up in the files of REAL_ABI_FOR).
MONITORED_FUNCTIONS: dict[str, list[str]] = {
    "DigitalTwinSharesV1": _BSC_MARKET,
    "DigitalTwinSharesV1Uncapped": _BSC_MARKET,
    "TwinSharesDocs": list(_TWIN_MARKET_VIEWS_AND_SETTERS),
    "FriendtechSharesV1": list(_TWIN_MARKET_VIEWS_AND_SETTERS),
    "InferenceSettlementRelay": [
        "batchSettle",
        "settleIndividual",
        "verifyProof",
        "owner",
        "hasRole",
        "getRoleAdmin",
        "SETTLEMENT_RELAY_ROLE",
        "SETTLEMENT_CONTRACT",
    ],
    "TEERegistryV1": [
        *_TEE_REGISTRY_COMMON,
        "getTEETypes",
        "getApprovedPCRs",
        "heartbeatMaxAge",
        "isPCRApproved",
    ],
    "TEERegistryOHTTP": list(_TEE_REGISTRY_COMMON),
    "InferencePrecompileStandIn": ["runModelInference", "runLLMChat", "runLLMCompletion"],
    "InferenceHub": ["run", "runLLMChat", "runLLMCompletion"],
    "PriceHistoryInference": ["getInferenceResult", "getLastInferenceResults", "modelId", "inputName", "run"],
    "StakingPrecompileStandIn": ["validators", "validator"],
}

#: Events of the REAL_ABI_FOR files that the devnet contract deliberately does NOT have.
ABSENT_EVENTS: dict[str, list[str]] = {
    # the documented Twin.fun variant: setters without events, not upgradeable, no roles, no twin registry
    "TwinSharesDocs": [
        "ProtocolFeePercentSet",
        "SubjectFeePercentSet",
        "ProtocolFeeDestinationSet",
        "MinSharesToCreateSet",
        "DigitalTwinOwnershipClaimed",
        "DigitalTwinUrlSet",
        "Initialized",
        "Upgraded",
        "RoleAdminChanged",
        "RoleGranted",
        "RoleRevoked",
    ],
    # the newer registry: heartbeats are visible only through its views
    "TEERegistryOHTTP": ["HeartbeatReceived"],
}

#: Functions the devnet contract deliberately does NOT have (views of other real versions).
ABSENT_FUNCTIONS: dict[str, list[str]] = {
    "TEERegistryOHTTP": ["getTEETypes", "getApprovedPCRs", "heartbeatMaxAge", "isPCRApproved"],
    "TwinSharesDocs": ["upgradeToAndCall", "minSharesToCreate", "setMinSharesToCreate"],
}

#: Artifact -> constructor parameter types (canonical), for deployers. Absent = no constructor arguments.
CONSTRUCTORS: dict[str, str] = {
    "DevProxy": "(address implementation,bytes data)",
    "DevTimelock": "(uint256 minDelay,address[] proposers,address[] executors,address admin)",
    "SimpleMultisig": "(address[] owners,uint256 threshold)",
    "Batcher": "(address initialOwner)",
    "InferenceSettlementRelay": "(address _settlement_contract)",
    "TEEInferenceVerifier": "(address initialRegistry)",
    "TEERegistryV1": "(address admin)",
    "TEERegistryOHTTP": "(address admin)",
    "InferenceCaller": "(address hub)",
    "PriceHistoryInference": "(string _modelId,string _inputName,(string,string,uint32,uint32,uint8,uint8[]) _query)",
}

#: Artifact -> canonical signatures of the state-changing functions the devnet simulator drives
#: (real functions and devnet-only ones; see each contract's header comment for who may call them).
DEVNET_MUTATORS: dict[str, list[str]] = {
    "DigitalTwinSharesV1": [
        "initialize(address,address,address)",
        "createDigitalTwin(bytes16,string)",
        "buyShares(bytes16,uint256)",
        "sellShares(bytes16,uint256,uint256)",
        "claimOwnership(bytes16,address)",
        "setDigitalTwinUrl(bytes16,string)",
        "setProtocolFeePercent(uint256)",
        "setSubjectFeePercent(uint256)",
        "setFeeDestination(address)",
        "setMinSharesToCreate(uint256)",
        "upgradeToAndCall(address,bytes)",
        "transferOwnership(address)",
        "grantRole(bytes32,address)",
    ],
    "TwinSharesDocs": [
        "buyShares(bytes16,uint256)",
        "sellShares(bytes16,uint256)",
        "setProtocolFeePercent(uint256)",
        "setSubjectFeePercent(uint256)",
        "setFeeDestination(address)",
        "transferOwnership(address)",
    ],
    "FriendtechSharesV1": [
        "buyShares(address,uint256)",
        "sellShares(address,uint256)",
        "setProtocolFeePercent(uint256)",
        "setSubjectFeePercent(uint256)",
        "setFeeDestination(address)",
        "transferOwnership(address)",
    ],
    "DevTimelock": [
        "schedule(address,uint256,bytes,bytes32,bytes32,uint256)",
        "execute(address,uint256,bytes,bytes32,bytes32)",
        "cancel(bytes32)",
        "updateDelay(uint256)",
    ],
    "SimpleMultisig": ["submit(address,uint256,bytes)", "confirm(uint256)"],
    "Batcher": ["batch(address[],uint256[],bytes[])"],
    "InferenceSettlementRelay": [
        "batchSettle(bytes32,uint256,bytes)",
        "settleIndividual(bytes32,bytes32,bytes32,uint256,address,bytes,bytes)",
        "grantRole(bytes32,address)",
    ],
    "SettlementRelayV1": [
        "settle(bytes32,bytes32)",
        "batchSettle(bytes32,uint256)",
        "settleWithMetadata(bytes32,bytes32,string,bytes,bytes)",
    ],
    "TEEInferenceVerifier": ["setRegistry(address)"],
    "TEERegistryV1": [
        "addTEEType(uint8,string)",
        "setAWSRootCertificate(bytes)",
        "approvePCR(bytes32,uint8,string)",
        "revokePCR(bytes32,uint8)",
        "setHeartbeatMaxAge(uint256)",
        "registerTEE(address,address,string,bytes,bytes,bytes32,uint8)",
        "enableTEE(bytes32)",
        "disableTEE(bytes32)",
        "heartbeat(bytes32,uint256)",
        "grantRole(bytes32,address)",
    ],
    "TEERegistryOHTTP": [
        "addTEEType(uint8,string)",
        "setAWSRootCertificate(bytes)",
        "approvePCR(bytes32,uint8,string)",
        "revokePCR(bytes32,uint8)",
        "setHeartbeatMaxAge(uint256)",
        "registerTEE(address,address,string,bytes,bytes,bytes32,uint8)",
        "setOhttpConfig(bytes32,uint8,uint16,uint16,uint16,bytes,bytes)",
        "enableTEE(bytes32)",
        "disableTEE(bytes32)",
        "heartbeat(bytes32,uint256)",
        "grantRole(bytes32,address)",
    ],
    "InferencePrecompileStandIn": [
        "setNextSimulation(bool)",
        "runModelInference((uint8,string,((string,(int128,int128)[],uint32[])[],(string,string[])[])))",
        "runLLMChat((uint8,string,(string,string,string,string,(string,string,string)[])[],"
        "(string,string,string)[],string,uint32,string[],uint32))",
        "runLLMCompletion((uint8,string,string,uint32,string[],uint32))",
    ],
    "InferenceHub": [
        "run(string,uint8,((string,(int128,int128)[],uint32[])[],(string,string[])[]))",
        "runLLMChat((uint8,string,(string,string,string,string,(string,string,string)[])[],"
        "(string,string,string)[],string,uint32,string[],uint32))",
        "runLLMCompletion((uint8,string,string,uint32,string[],uint32))",
    ],
    "InferenceCaller": [
        "runML(string,uint8,((string,(int128,int128)[],uint32[])[],(string,string[])[]))",
        "runChat((uint8,string,(string,string,string,string,(string,string,string)[])[],"
        "(string,string,string)[],string,uint32,string[],uint32))",
        "runCompletion((uint8,string,string,uint32,string[],uint32))",
    ],
    "PriceHistoryInference": ["run()", "setHub(address)"],
    "StakingPrecompileStandIn": [
        "setValidator(address,string,string,bool,uint8,uint256,string)",
        "removeValidator(address)",
    ],
}


def load_artifact(name: str) -> dict[str, Any]:
    """Return the compiled artifact ``devnet/artifacts/<name>.json`` as a dict."""
    path = ARTIFACTS_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as fh:
        artifact: dict[str, Any] = json.load(fh)
    return artifact


def load_real_abi(file_name: str) -> list[dict[str, Any]]:
    """Return the ABI entries of a real ABI file in ``abi/`` (plain list or ``{"abi": [...]}``)."""
    with (ABI_DIR / file_name).open(encoding="utf-8") as fh:
        data = json.load(fh)
    entries: list[dict[str, Any]] = data["abi"] if isinstance(data, dict) else data
    return entries


def artifact_names() -> list[str]:
    """Names of all compiled artifacts, sorted."""
    return sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))
