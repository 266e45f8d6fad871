"""Deploy the devnet's contracts onto the five chains and describe them for ogwatch.

The same accounts deploy in the same order on a fresh node, so addresses are reproducible. The
result (`Deployment`) is saved as JSON beside the chain states and turned into an ogwatch config
whose networks point at the local nodes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devnet.chain import Chain, calldata
from devnet.contracts_info import INFERENCE_PRECOMPILE, STAKING_PRECOMPILE, load_artifact
from devnet.truth import Truth

TIMELOCK_DELAY_S = 3600  # one hour: long enough that a queued fee change is visible before it executes
NETWORK_NAMES = {"og_evm": "OG EVM (devnet)", "alpha": "OpenGradient alpha (devnet)", "bsc": "BNB Smart Chain (devnet)",
                 "base_sepolia": "Base Sepolia (devnet)", "base": "Base (devnet)"}
NATIVE = {"og_evm": "OPG", "alpha": "OPG", "bsc": "BNB", "base_sepolia": "ETH", "base": "ETH"}
PRODUCTION = {"bsc": True, "base": True}  # the devnet mirrors the real networks' roles


@dataclass
class Deployed:
    """One deployed contract (or precompile stand-in)."""

    name: str
    chain: str
    artifact: str
    address: str
    kind: str = ""          # ogwatch contract kind, empty for helpers (owners, implementations)
    label: str = ""
    owner: str = ""         # who controls it, for markets: an EOA or a contract
    owner_kind: str = ""    # eoa | timelock | multisig | batcher
    tags: list[str] = field(default_factory=list)
    start_block: int = 0


@dataclass
class Deployment:
    """Everything the simulator and the config need to know about a deployed devnet."""

    chains: dict[str, int]
    accounts: dict[str, str]
    contracts: list[Deployed]

    def get(self, name: str) -> Deployed:
        """A deployed contract by name."""
        for c in self.contracts:
            if c.name == name:
                return c
        raise KeyError(name)

    def save(self, path: Path | str) -> None:
        """Write as JSON."""
        Path(path).write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path | str) -> Deployment:
        """Read back what `save` wrote."""
        raw = json.loads(Path(path).read_text())
        return cls(raw["chains"], raw["accounts"], [Deployed(**c) for c in raw["contracts"]])


def roles(accounts: list[str]) -> dict[str, str]:
    """Who is who among anvil's unlocked accounts."""
    names = ["deployer", "market_owner", "signer_a", "signer_b", "signer_c", "relayer", "operator_a",
             "operator_b", "operator_c", "operator_d"]
    out = dict(zip(names, accounts, strict=False))
    for i, acct in enumerate(accounts[len(names):]):
        out[f"trader_{i}"] = acct
    return out


def _market_init(owner: str, admin: str, fee_dest: str) -> str:
    return calldata("DigitalTwinSharesV1", "initialize", owner, admin, fee_dest)


def deploy_bsc(ch: Chain, acct: dict[str, str]) -> list[Deployed]:
    """Twin.fun BSC markets behind UUPS proxies, one per kind of owner, and the uncapped implementation."""
    d, owner = acct["deployer"], acct["market_owner"]
    capped = ch.deploy(d, "DigitalTwinSharesV1")
    uncapped = ch.deploy(d, "DigitalTwinSharesV1Uncapped")
    timelock = ch.deploy(d, "DevTimelock", TIMELOCK_DELAY_S, [owner], [owner], "0x" + "00" * 20)
    multisig = ch.deploy(d, "SimpleMultisig", [acct["signer_a"], acct["signer_b"], acct["signer_c"]], 2)
    batcher = ch.deploy(d, "Batcher", owner)
    out = [Deployed("bsc_impl_capped", "bsc", "DigitalTwinSharesV1", capped, label="capped implementation"),
           Deployed("bsc_impl_uncapped", "bsc", "DigitalTwinSharesV1Uncapped", uncapped,
                    label="uncapped implementation"),
           Deployed("bsc_timelock", "bsc", "DevTimelock", timelock, "timelock", label="timelock (1 h)"),
           Deployed("bsc_multisig", "bsc", "SimpleMultisig", multisig, label="2-of-3 multisig"),
           Deployed("bsc_batcher", "bsc", "Batcher", batcher, label="batcher")]
    for name, ctl, kind in (("eoa", owner, "eoa"), ("timelock", timelock, "timelock"),
                            ("multisig", multisig, "multisig"), ("batcher", batcher, "batcher")):
        start = int(ch.head()["number"], 16) + 1
        proxy = ch.deploy(d, "DevProxy", capped, bytes.fromhex(_market_init(ctl, d, d)[2:]))
        out.append(Deployed(f"twin_{name}", "bsc", "DigitalTwinSharesV1", proxy, "twinfun_market",
                            f"Twin.fun market ({name}-owned)", ctl, kind, start_block=start))
    return out + _deploy_locked(ch, d, timelock)


def _deploy_locked(ch: Chain, d: str, timelock: str) -> list[Deployed]:
    """A capped market whose implementation refuses upgrades, owned by the timelock (deployed last on BSC)."""
    locked = ch.deploy(d, "DigitalTwinSharesV1Locked")
    start = int(ch.head()["number"], 16) + 1
    proxy = ch.deploy(d, "DevProxy", locked, bytes.fromhex(_market_init(timelock, d, d)[2:]))
    return [Deployed("bsc_impl_locked", "bsc", "DigitalTwinSharesV1Locked", locked,
                     label="capped implementation, upgrades disabled"),
            Deployed("twin_locked", "bsc", "DigitalTwinSharesV1", proxy, "twinfun_market",
                     "Twin.fun market (timelock-owned, capped, no upgrades)", timelock, "timelock", start_block=start)]


def deploy_markets_simple(ch: Chain, acct: dict[str, str]) -> list[Deployed]:
    """The documented Twin.fun variant (Base Sepolia) or friend.tech (Base), owned by an EOA."""
    owner = acct["market_owner"]
    if ch.key == "base_sepolia":
        addr = ch.deploy(owner, "TwinSharesDocs")
        return [Deployed("twin_docs", ch.key, "TwinSharesDocs", addr, "twinfun_docs_market",
                         "Twin.fun (documented variant)", owner, "eoa")]
    addr = ch.deploy(owner, "FriendtechSharesV1")
    return [Deployed("friendtech", ch.key, "FriendtechSharesV1", addr, "friendtech_market", "friend.tech",
                     owner, "eoa")]


def deploy_alpha(ch: Chain, acct: dict[str, str]) -> list[Deployed]:
    """Inference precompile stand-in at 0xF4, the hub, caller contracts and a workflow contract."""
    d = acct["deployer"]
    ch.rpc("anvil_setCode", INFERENCE_PRECOMPILE, load_artifact("InferencePrecompileStandIn")["deployedBytecode"])
    ch.rpc("evm_mine")
    hub = ch.deploy(d, "InferenceHub")
    out = [Deployed("precompile", "alpha", "InferencePrecompileStandIn", INFERENCE_PRECOMPILE,
                    "inference_precompile", "Inference precompile (stand-in)"),
           Deployed("hub", "alpha", "InferenceHub", hub, "inference_hub", "InferenceHub")]
    for name, tags in (("caller_prod", ["production"]), ("caller_exp", ["experiment"]), ("caller_untagged", [])):
        addr = ch.deploy(d, "InferenceCaller", hub)
        out.append(Deployed(name, "alpha", "InferenceCaller", addr, label=name.replace("_", " "), tags=tags))
    query = ("ETH", "USD", 10, 60, 0, [0, 1, 2, 3])
    wf = ch.deploy(d, "PriceHistoryInference", "QmVolatilityModel", "price_series", query)
    ch.transact(d, wf, "PriceHistoryInference", "setHub", hub)
    out.append(Deployed("workflow", "alpha", "PriceHistoryInference", wf, "workflow", "ETH/USD volatility workflow",
                        tags=["production"]))
    return out


def deploy_og_evm(ch: Chain, acct: dict[str, str]) -> list[Deployed]:
    """Settlement relays v1/v2 with the verifier, both TEE registry shapes, the staking stand-in at 0x800."""
    d = acct["deployer"]
    ch.rpc("anvil_setCode", STAKING_PRECOMPILE, load_artifact("StakingPrecompileStandIn")["deployedBytecode"])
    ch.rpc("evm_mine")
    reg1 = ch.deploy(d, "TEERegistryV1", d)
    reg2 = ch.deploy(d, "TEERegistryOHTTP", d)
    verifier = ch.deploy(d, "TEEInferenceVerifier", reg1)
    relay = ch.deploy(acct["relayer"], "InferenceSettlementRelay", verifier)
    relay_v1 = ch.deploy(acct["relayer"], "SettlementRelayV1")
    return [Deployed("tee_registry_v1", "og_evm", "TEERegistryV1", reg1, "tee_registry", "TEE registry (full views)"),
            Deployed("tee_registry_ohttp", "og_evm", "TEERegistryOHTTP", reg2, "tee_registry",
                     "TEE registry (OHTTP, fewer views)"),
            Deployed("tee_verifier", "og_evm", "TEEInferenceVerifier", verifier, "tee_verifier", "TEE verifier"),
            Deployed("relay", "og_evm", "InferenceSettlementRelay", relay, "settlement_relay", "Settlement relay v2"),
            Deployed("relay_v1", "og_evm", "SettlementRelayV1", relay_v1, "settlement_relay_v1", "Settlement relay v1"),
            Deployed("staking", "og_evm", "StakingPrecompileStandIn", STAKING_PRECOMPILE, "staking_precompile",
                     "Staking precompile (stand-in)")]


DEPLOYERS = {"bsc": deploy_bsc, "base_sepolia": deploy_markets_simple, "base": deploy_markets_simple,
             "alpha": deploy_alpha, "og_evm": deploy_og_evm}


def deploy_all(chains: dict[str, Chain], truth: Truth | None = None) -> Deployment:
    """Deploy onto every given chain (keys of nodes.CHAINS); each deployment tx goes to the truth if given."""
    accounts = roles(next(iter(chains.values())).accounts)
    contracts: list[Deployed] = []
    for key, ch in chains.items():
        if truth is not None:
            ch.recorder = lambda c, rec, intent: truth.record(c, "deploy", intent, rec)
        try:
            contracts += DEPLOYERS[key](ch, accounts)
        finally:
            ch.recorder = None
    return Deployment({k: c.chain_id for k, c in chains.items()}, accounts, contracts)


def config_toml(dep: Deployment, urls: dict[str, str], store_path: str, extra: str = "") -> str:
    """An ogwatch config for this deployment, its networks pointing at the local nodes."""
    lines = ["# Generated for the local devnet by ogwatch demo; do not edit.", "", "[store]",
             f'path = "{store_path}"', ""]
    for key, chain_id in dep.chains.items():
        lines += [f"[networks.{key}]", f'name = "{NETWORK_NAMES[key]}"', f"chain_id = {chain_id}",
                  f'rpc_urls = ["{urls[key]}"]', f"production = {str(PRODUCTION.get(key, False)).lower()}",
                  "confirmations = 0", f'native_symbol = "{NATIVE[key]}"', "poll_seconds = 2",
                  "reset_on_new_genesis = true", ""]
    for c in dep.contracts:
        if not c.kind:
            continue
        lines += ["[[contracts]]", f'network = "{c.chain}"', f'kind = "{c.kind}"', f'label = "{c.label}"',
                  f'address = "{c.address}"', f"start_block = {c.start_block}"]
        if c.kind.endswith("_precompile"):
            lines.append("precompile = true")
        if c.tags:
            lines.append("tags = [" + ", ".join(f'"{t}"' for t in c.tags) + "]")
        lines.append("")
    return "\n".join(lines) + extra


def chains_for(nodes_by_key: dict[str, Any]) -> dict[str, Chain]:
    """Chain handles for running nodes (AnvilNode objects keyed by chain key)."""
    return {k: Chain(k, n.chain_id, n.url) for k, n in nodes_by_key.items()}
