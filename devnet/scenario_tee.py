"""Who runs the OG EVM devnet in the AI scenario: TEE nodes in both registry shapes, and the validators.

`Membership` registers TEEs owned unevenly by operator_a..d in TEERegistryV1 and TEERegistryOHTTP,
approves and revokes PCRs, sends heartbeats (the OHTTP registry emits no event for them), disables
and re-enables nodes, and lets some miss their heartbeats after a jump of the chain clock past
heartbeatMaxAge. It keeps its own model of which TEE is active and checks it against `isTEEActive`
after every action: a disagreement is a simulator bug and raises. Validators go into the staking
precompile stand-in and the CometBFT stand-in as one set with uneven power.

Every OG EVM transaction gets a pinned block time (`next_block_time`), so intents carry exact times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from devnet import nodes
from devnet.chain import Chain, Receipt, calldata, decode_output
from devnet.deploy import Deployment
from devnet.standins import CometBFTStandIn, CometValidator
from devnet.truth import Truth

HEARTBEAT_MAX_AGE = 1800
TIME_JUMP_S = HEARTBEAT_MAX_AGE + 100
BONDED, POWER_REDUCTION = 3, 10**18
VALIDATOR_POWERS = (400, 250, 150, 120, 80)
REGISTRIES = {"tee_registry_v1": "TEERegistryV1", "tee_registry_ohttp": "TEERegistryOHTTP"}
TEE_TYPES = {0: "LLMProxy", 1: "Validator"}
#: (label, registry, owner role, TEE type, PCR name) of the TEEs registered by setup(): operator_a runs half.
INITIAL_TEES = (("a1", "tee_registry_v1", "operator_a", 0, "llm_v1"),
                ("a2", "tee_registry_v1", "operator_a", 0, "llm_v1"),
                ("a3", "tee_registry_v1", "operator_a", 1, "validator_v1"),
                ("b1", "tee_registry_v1", "operator_b", 0, "llm_v1"),
                ("c1", "tee_registry_v1", "operator_c", 0, "llm_v0"),
                ("a4", "tee_registry_ohttp", "operator_a", 0, "llm_v1"),
                ("b2", "tee_registry_ohttp", "operator_b", 0, "llm_v1"),
                ("d1", "tee_registry_ohttp", "operator_d", 0, "llm_v0"))
INITIAL_PCRS = (("llm_v0", 0), ("llm_v1", 0), ("validator_v1", 1))
SPKI_P256_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def next_block_time(chain: Chain) -> int:
    """Pin the next block's time to what the node would use anyway (at least head + 1) and return it."""
    head, pending = nodes.rpc_batch(chain.url, [("eth_getBlockByNumber", ["latest", False]),
                                                ("eth_getBlockByNumber", ["pending", False])])
    ts = max(int(head["timestamp"], 16) + 1, int(pending["timestamp"], 16))
    chain.set_next_timestamp(ts)
    return ts


def bech32(hrp: str, data: bytes) -> str:
    """Bech32-encode data (BIP-173), as Cosmos SDK addresses are."""
    acc, bits, five = 0, 0, []
    for byte in data:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + five + [0] * 6:
        top, chk = chk >> 25, ((chk & 0x1FFFFFF) << 5) ^ v
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    chk ^= 1
    return hrp + "1" + "".join(_BECH32[d] for d in five + [(chk >> 5 * (5 - i)) & 31 for i in range(6)])


@dataclass
class TEE:
    """The simulator's model of one registered TEE."""

    label: str
    tee_id: str
    registry: str
    owner_role: str
    owner: str
    tee_type: int
    pcr: str
    enabled: bool
    last_heartbeat: int
    keeper: bool = True  # keeps heartbeating in live mode; False once it is meant to go stale


@dataclass
class Validator:
    """One validator as both the staking stand-in and the CometBFT stand-in hold it."""

    moniker: str
    address: str
    operator_address: str
    comet: CometValidator

    @property
    def power(self) -> int:
        """Consensus power (tokens / 10^18)."""
        return self.comet.voting_power


class Membership:
    """TEE registries and validator set of the OG EVM devnet, with a model checked against the chain."""

    def __init__(self, og: Chain, dep: Deployment, truth: Truth, rng: random.Random, comet: CometBFTStandIn):
        self.og, self.dep, self.truth, self.rng, self.comet = og, dep, truth, rng, comet
        self.acct = dep.accounts
        self.registry_address = {name: dep.get(name).address for name in REGISTRIES}
        self.staking = dep.get("staking").address
        self.pcrs = {name: "0x" + keccak(rng.randbytes(144)).hex()  # keccak256(pcr0 || pcr1 || pcr2), SHA-384 each
                     for name in ("llm_v0", "llm_v1", "llm_v2", "validator_v1")}
        self.approved: set[tuple[str, str, int]] = set()  # (registry, pcr hash, TEE type)
        self.tees: dict[str, TEE] = {}  # by tee id, in registration order
        self.validators: list[Validator] = []
        self.max_age = HEARTBEAT_MAX_AGE

    # ----- model -----

    def by_label(self, label: str) -> TEE:
        """A TEE by its label (a1, b2, ...)."""
        return next(t for t in self.tees.values() if t.label == label)

    def is_active(self, tee: TEE, now: int) -> bool:
        """Active as the registry defines it: enabled, heartbeat fresh, PCR approved for its type."""
        fresh = now - tee.last_heartbeat <= self.max_age
        return tee.enabled and fresh and (tee.registry, tee.pcr, tee.tee_type) in self.approved

    def expected_inactive(self, now: int) -> list[str]:
        """Ids of the TEEs the model says are inactive at time now (registration order)."""
        return [t.tee_id for t in self.tees.values() if not self.is_active(t, now)]

    def llm_tees(self, now: int | None = None) -> list[TEE]:
        """LLMProxy TEEs, only the active ones when now is given."""
        return [t for t in self.tees.values() if t.tee_type == 0 and (now is None or self.is_active(t, now))]

    def check(self, block: int, block_time: int) -> None:
        """Compare the model with isTEEActive of every TEE at block; raise on any disagreement."""
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", [hex(block), False])]
        for t in self.tees.values():
            tx = {"to": self.registry_address[t.registry],
                  "data": calldata(REGISTRIES[t.registry], "isTEEActive", bytes.fromhex(t.tee_id[2:]))}
            calls.append(("eth_call", [tx, hex(block)]))
        header, *answers = nodes.rpc_batch(self.og.url, calls)
        if int(header["timestamp"], 16) != block_time:
            raise RuntimeError(f"simulator bug: block {block} has time {int(header['timestamp'], 16)}, "
                               f"pinned {block_time}")
        for t, raw in zip(self.tees.values(), answers, strict=True):
            on_chain = bool(decode_output(REGISTRIES[t.registry], "isTEEActive", raw))
            if on_chain != self.is_active(t, block_time):
                raise RuntimeError(f"simulator bug: TEE {t.label} ({t.tee_id}) active={on_chain} on chain at block "
                                   f"{block}, model says {not on_chain}")

    # ----- actions -----

    def _send(self, sender: str, registry: str, fn: str, *args: Any) -> tuple[Receipt, int]:
        block_time = next_block_time(self.og)
        rec = self.og.transact(sender, self.registry_address[registry], REGISTRIES[registry], fn, *args)
        return rec, block_time

    def _record(self, kind: str, intent: dict[str, Any], rec: Receipt, block_time: int) -> Receipt:
        intent = {**intent, "block_time": block_time, "expected_inactive": self.expected_inactive(block_time)}
        self.truth.record(self.og, kind, intent, rec)
        self.check(rec.block_number, block_time)
        return rec

    def approve_pcr(self, registry: str, pcr_name: str, tee_type: int) -> Receipt:
        """Approve a PCR hash for a TEE type (admin)."""
        pcr = self.pcrs[pcr_name]
        rec, t = self._send(self.acct["deployer"], registry, "approvePCR", bytes.fromhex(pcr[2:]), tee_type, pcr_name)
        if rec.status == 1:
            self.approved.add((registry, pcr, tee_type))
        intent = {"registry": registry, "registry_address": self.registry_address[registry], "pcr_hash": pcr,
                  "tee_type": tee_type, "version": pcr_name}
        return self._record("pcr_approved", intent, rec, t)

    def revoke_pcr(self, registry: str, pcr_name: str, tee_type: int) -> Receipt:
        """Revoke a PCR hash (admin): every TEE built from it becomes inactive."""
        pcr = self.pcrs[pcr_name]
        rec, t = self._send(self.acct["deployer"], registry, "revokePCR", bytes.fromhex(pcr[2:]), tee_type)
        if rec.status == 1:
            self.approved.discard((registry, pcr, tee_type))
        affected = [x.tee_id for x in self.tees.values()
                    if (x.registry, x.pcr, x.tee_type) == (registry, pcr, tee_type)]
        intent = {"registry": registry, "registry_address": self.registry_address[registry], "pcr_hash": pcr,
                  "tee_type": tee_type, "version": pcr_name, "affected": affected}
        return self._record("pcr_revoked", intent, rec, t)

    def register(self, label: str, registry: str, owner_role: str, tee_type: int, pcr_name: str) -> TEE:
        """Register a TEE (admin) for an operator; teeId = keccak256(public key)."""
        public_key = SPKI_P256_PREFIX + b"\x04" + self.rng.randbytes(64)
        tee_id = "0x" + keccak(public_key).hex()
        owner = self.acct[owner_role]
        endpoint = f"https://{label}.{owner_role.replace('_', '-')}.tee.devnet:443"
        rec, t = self._send(self.acct["deployer"], registry, "registerTEE", owner, owner, endpoint, public_key,
                            self.rng.randbytes(64), bytes.fromhex(self.pcrs[pcr_name][2:]), tee_type)
        tee = TEE(label, tee_id, registry, owner_role, owner, tee_type, self.pcrs[pcr_name], True, t)
        self.tees[tee_id] = tee
        intent = {"registry": registry, "registry_address": self.registry_address[registry], "tee_id": tee_id,
                  "label": label, "owner": owner, "owner_role": owner_role, "tee_type": tee_type,
                  "pcr_hash": tee.pcr, "endpoint": endpoint}
        self._record("tee_registered", intent, rec, t)
        info = self.og.call(self.registry_address[registry], REGISTRIES[registry], "getTEE", bytes.fromhex(tee_id[2:]))
        if to_checksum_address(info[0]) != owner:
            raise RuntimeError(f"simulator bug: TEE {label} not registered under {tee_id}")
        return tee

    def heartbeat(self, tee: TEE, delay: int = 0, **extra: Any) -> Receipt:
        """The TEE's owner posts a heartbeat signed `delay` seconds before the block."""
        block_time = next_block_time(self.og)
        signed_at = block_time - delay
        rec = self.og.transact(tee.owner, self.registry_address[tee.registry], REGISTRIES[tee.registry],
                               "heartbeat", bytes.fromhex(tee.tee_id[2:]), signed_at)
        if rec.status == 1:
            tee.last_heartbeat = signed_at
        intent = {"registry": tee.registry, "registry_address": self.registry_address[tee.registry],
                  "tee_id": tee.tee_id, "label": tee.label, "sender": tee.owner, "timestamp": signed_at,
                  "emits_event": tee.registry == "tee_registry_v1", **extra}
        return self._record("heartbeat", intent, rec, block_time)

    def set_enabled(self, tee: TEE, enabled: bool, sender_role: str) -> Receipt:
        """Disable or re-enable a TEE (its owner, an admin or an operator may)."""
        rec, t = self._send(self.acct[sender_role], tee.registry, "enableTEE" if enabled else "disableTEE",
                            bytes.fromhex(tee.tee_id[2:]))
        if rec.status == 1:
            tee.enabled = enabled
        intent = {"registry": tee.registry, "registry_address": self.registry_address[tee.registry],
                  "tee_id": tee.tee_id, "label": tee.label, "sender": self.acct[sender_role]}
        return self._record("tee_enabled" if enabled else "tee_disabled", intent, rec, t)

    def jump_clock(self, seconds: int = TIME_JUMP_S) -> None:
        """Move the OG EVM clock forward (past heartbeatMaxAge by default) and mine a block there."""
        self.og.advance_time(seconds)

    def set_validator(self, v: Validator, power: int, change: str) -> Receipt:
        """Add a validator or change its power in the staking stand-in, then mirror the set into CometBFT."""
        v.comet = CometValidator(v.comet.address, v.comet.pub_key, power)
        if v not in self.validators:
            self.validators.append(v)
        rec = self.og.transact(self.acct["deployer"], self.staking, "StakingPrecompileStandIn", "setValidator",
                               v.address, v.operator_address, v.comet.pub_key, False, BONDED,
                               power * POWER_REDUCTION, v.moniker)
        self.comet.set_validators([x.comet for x in self.validators])
        self.comet.set_height(rec.block_number)
        intent = {"address": v.address, "operator_address": v.operator_address, "consensus_pubkey": v.comet.pub_key,
                  "comet_address": v.comet.address, "moniker": v.moniker, "power": power,
                  "tokens": power * POWER_REDUCTION, "change": change,
                  "powers": {x.operator_address: x.power for x in self.validators}}
        return self.truth.record(self.og, "validator_set", intent, rec)

    def new_validator(self, index: int) -> Validator:
        """A deterministic validator (keys from its index), not yet in any set."""
        seed = f"og-devnet-validator-{index}"
        addr = keccak(seed.encode())[12:]
        return Validator(f"og-val-{index}", to_checksum_address(addr), bech32("ogvaloper", addr),
                         CometValidator.from_seed(seed, 0))

    # ----- scenario pieces -----

    def setup(self) -> None:
        """PCR approvals, eight TEEs across both registries (operator_a runs half), heartbeats, validators."""
        tx = {"to": self.registry_address["tee_registry_v1"], "data": calldata("TEERegistryV1", "getTEETypes")}
        ids, infos = decode(["uint8[]", "(string,uint256)[]"], bytes.fromhex(self.og.rpc("eth_call", tx, "latest")[2:]))
        if {int(i): info[0] for i, info in zip(ids, infos, strict=True)} != TEE_TYPES:
            raise RuntimeError(f"simulator bug: unexpected TEE types {ids} {infos}")  # the constructors add 0 and 1
        for registry in REGISTRIES:
            for pcr_name, tee_type in INITIAL_PCRS:
                self.approve_pcr(registry, pcr_name, tee_type)
        for spec in INITIAL_TEES:
            self.register(*spec)
        for tee in list(self.tees.values()):
            self.heartbeat(tee, self.rng.randint(0, 5))
        for i, power in enumerate(VALIDATOR_POWERS):
            self.set_validator(self.new_validator(i), power, "added")

    def churn(self) -> None:
        """Registrations, heartbeats on both registries, missed heartbeats, disable/enable, PCR churn, power."""
        self.approve_pcr("tee_registry_v1", "llm_v2", 0)
        self.register("a5", "tee_registry_v1", "operator_a", 0, "llm_v2")
        self.register("c2", "tee_registry_ohttp", "operator_c", 0, "llm_v1")
        for tee in list(self.tees.values()):
            self.heartbeat(tee, self.rng.randint(0, 30))
        missed = [self.by_label("b1"), self.by_label("d1")]
        for tee in missed:
            tee.keeper = False
        self.jump_clock()
        missed_ids = [t.tee_id for t in missed]
        for tee in [t for t in self.tees.values() if t.keeper]:
            self.heartbeat(tee, self.rng.randint(0, 10), after_time_jump=True, missed=missed_ids)
        b2 = self.by_label("b2")
        self.set_enabled(b2, False, b2.owner_role)
        self.heartbeat(b2, 1)  # a disabled TEE may still heartbeat: it stays inactive
        self.set_enabled(b2, True, "deployer")
        self.revoke_pcr("tee_registry_v1", "llm_v0", 0)  # c1 runs the old build: inactive from here on
        self.set_validator(self.validators[3], 320, "power")
        self.set_validator(self.new_validator(len(self.validators)), 60, "added")

    def random_heartbeat(self) -> Receipt:
        """A heartbeat from one of the TEEs that keep heartbeating."""
        keepers = [t for t in self.tees.values() if t.keeper]
        return self.heartbeat(self.rng.choice(keepers), self.rng.randint(0, 20))
