"""Read-only probes of who controls a fee market and how far its fees can go, all by eth_call at one block.

- `resolve_owner`: owner(), then what the owner is: no code -> eoa; getMinDelay() answers -> timelock
  (OpenZeppelin TimelockController); getThreshold() and getOwners() answer -> multisig (Safe-style);
  other code -> contract; zero or no owner() -> none.
- `implementation` / `is_upgradeable`: the ERC-1967 slot, and whether the owner could replace it (the
  implementation answers proxiableUUID() with that slot and a simulated upgradeToAndCall from the owner passes).
- `probe_ceiling`: simulate the owner calling a fee setter (`from` = owner, even a contract: eth_call allows it)
  with 1e18 (100 %) and 2^256-1, then bisect between the largest accepted and the smallest rejected value to
  1e12 precision, and finish exactly when the cap is a round number. Nothing is ever sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from collectors.pool import RpcPool
from collectors.rpc import RpcError
from store.u256 import MAX_U256

IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
E18 = 10**18
PRECISION = 10**12  # bisection stops when the gap between accepted and rejected is at most this
LADDER = (E18, MAX_U256)  # the large values tried first, in order
MARKET_KINDS = frozenset({"twinfun_market", "twinfun_docs_market", "friendtech_market"})
PERCENT_FIELDS = ("protocolFeePercent", "subjectFeePercent")


def selector(signature: str) -> str:
    """The 4-byte selector of a function signature, as 0x hex."""
    return "0x" + function_signature_to_4byte_selector(signature).hex()


OWNER, MIN_DELAY, THRESHOLD, OWNERS = (selector(s) for s in ("owner()", "getMinDelay()", "getThreshold()",
                                                               "getOwners()"))
PROXIABLE_UUID, UPGRADE = selector("proxiableUUID()"), selector("upgradeToAndCall(address,bytes)")
#: field -> setter selector; the same in every market variant (Twin.fun BSC, documented Twin.fun, friend.tech)
SETTERS = {"protocolFeePercent": selector("setProtocolFeePercent(uint256)"),
           "subjectFeePercent": selector("setSubjectFeePercent(uint256)")}


class Reverted(Exception):
    """An eth_call that reverted (the node's answer, kept for the message)."""


@dataclass(frozen=True)
class Evidence:
    """One simulated setter call: the owner (`caller`) setting `field` to `value` at `block`."""

    field: str
    block: int
    caller: str
    value: int
    reverted: bool


class Ceiling(NamedTuple):
    """A setter's verdict: label, the largest value proven accepted (None: not even 0), the probes made."""

    label: str
    max_accepted: int | None
    evidence: list[Evidence]

    @property
    def min_rejected(self) -> int | None:
        """The smallest value proven rejected (max_accepted + 1 when the ceiling is exact); None when uncapped."""
        return min((e.value for e in self.evidence if e.reverted), default=None)


# ---- eth_call -------------------------------------------------------------------------------------------

def is_revert(err: RpcError) -> bool:
    """Whether a JSON-RPC error is the call reverting (code 3, or a revert message), not a node failure."""
    return err.kind == "rpc" and (err.code == 3 or "revert" in str(err).lower())


def eth_call(pool: RpcPool, to: str, data: str, block: int, sender: str | None = None) -> str:
    """eth_call at a block; raises Reverted when the call reverts, RpcError on anything else."""
    tx: dict[str, Any] = {"to": to, "data": data} | ({"from": sender} if sender else {})
    try:
        return str(pool.call("eth_call", [tx, hex(block)]))
    except RpcError as err:
        if is_revert(err):
            raise Reverted(str(err)) from err
        raise


def try_call(pool: RpcPool, to: str, data: str, block: int, sender: str | None = None) -> bytes | None:
    """The return data of an eth_call, or None when it reverted."""
    try:
        return bytes.fromhex(eth_call(pool, to, data, block, sender)[2:])
    except Reverted:
        return None


def word(value: int) -> str:
    """A uint256 as one ABI word (64 hex digits, no 0x)."""
    return f"{value:064x}"


def _uint(raw: bytes | None) -> int | None:
    return int.from_bytes(raw, "big") if raw is not None and len(raw) == 32 else None


def _address(raw: bytes | None) -> str | None:
    if raw is None or len(raw) != 32 or raw[:12] != b"\x00" * 12:
        return None
    return to_checksum_address(raw[12:])


# ---- who owns it ----------------------------------------------------------------------------------------

def resolve_owner(pool: RpcPool, address: str, block: int) -> tuple[str | None, str, dict[str, Any]]:
    """(owner, owner_kind, rule) of a market at a block; owner_kind eoa | timelock | multisig | contract | none."""
    owner = _address(try_call(pool, address, OWNER, block))
    if owner is None or int(owner, 16) == 0:
        return None, "none", {}
    kind, rule = classify(pool, owner, block)
    return owner, kind, rule


def classify(pool: RpcPool, account: str, block: int) -> tuple[str, dict[str, Any]]:
    """What an account is: eoa (no code, or an EIP-7702 delegation), timelock, multisig or contract."""
    code = str(pool.call("eth_getCode", [account, hex(block)]))
    if code in ("0x", "") or (code.startswith("0xef0100") and len(code) == 48):
        return "eoa", {}
    delay = _uint(try_call(pool, account, MIN_DELAY, block))
    if delay is not None:
        return "timelock", {"min_delay": delay}
    threshold = _uint(try_call(pool, account, THRESHOLD, block))
    signers = _signers(try_call(pool, account, OWNERS, block)) if threshold is not None else None
    if threshold is not None and signers is not None:
        return "multisig", {"threshold": threshold, "signers": signers}
    return "contract", {}


def _signers(raw: bytes | None) -> list[str] | None:
    if not raw:
        return None
    try:
        (owners,) = abi_decode(["address[]"], raw)
    except Exception:  # not an address[]: not a Safe-style multisig
        return None
    return [to_checksum_address(o) for o in owners]


# ---- can it be replaced ---------------------------------------------------------------------------------

def implementation(pool: RpcPool, address: str, block: int) -> str | None:
    """The implementation in the ERC-1967 slot at a block, or None when the slot is empty."""
    raw = str(pool.call("eth_getStorageAt", [address, IMPLEMENTATION_SLOT, hex(block)]))
    value = int(raw, 16) if raw not in ("0x", "") else 0
    return to_checksum_address(f"0x{value:040x}"[-40:]) if value else None


def is_upgradeable(pool: RpcPool, address: str, impl: str | None, owner: str | None, block: int) -> bool:
    """The owner can replace the implementation: UUPS proxiableUUID() answers, upgradeToAndCall passes."""
    if impl is None or owner is None:
        return False
    if try_call(pool, impl, PROXIABLE_UUID, block) != bytes.fromhex(IMPLEMENTATION_SLOT[2:]):
        return False
    data = UPGRADE + word(int(impl, 16)) + word(64) + word(0)  # upgradeToAndCall(impl, "") to the same code
    return try_call(pool, address, data, block, sender=owner) is not None


# ---- how far can a fee go -------------------------------------------------------------------------------

def probe_ceiling(pool: RpcPool, market: str, kind: str, field: str, owner: str, block: int, *,
                  upgradeable: bool | None = None) -> Ceiling:
    """Simulate the owner calling `field`'s setter with large values and bisect for the largest accepted."""
    if kind not in MARKET_KINDS or field not in SETTERS:
        raise ValueError(f"no fee setter {field!r} on a {kind!r}")
    evidence: list[Evidence] = []
    tried: dict[int, bool] = {}

    def accepts(value: int) -> bool:
        if value not in tried:
            out = try_call(pool, market, SETTERS[field] + word(value), block, sender=owner)
            tried[value] = out is not None
            evidence.append(Evidence(field, block, owner, value, out is None))
        return tried[value]

    if all(accepts(v) for v in LADDER):
        return Ceiling("uncapped", MAX_U256, evidence)
    if upgradeable is None:
        upgradeable = is_upgradeable(pool, market, implementation(pool, market, block), owner, block)
    lo, _hi = bounds(accepts, tried)
    return Ceiling("capped-but-upgradeable" if upgradeable else "capped", lo, evidence)


def bounds(accepts: Callable[[int], bool], tried: dict[int, bool]) -> tuple[int | None, int]:
    """(largest accepted, smallest rejected) after bisection; the first is None when even 0 is rejected."""
    hi = min(v for v, ok in tried.items() if not ok)
    lo = max((v for v, ok in tried.items() if ok and v < hi), default=None)
    if lo is None:
        if not accepts(0):
            return None, 0
        lo = 0
    while hi - lo > PRECISION:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if accepts(mid) else (lo, mid)
    return exact(accepts, lo, hi)


def exact(accepts: Callable[[int], bool], lo: int, hi: int) -> tuple[int, int]:
    """Narrow (accepted lo, rejected hi) to adjacent values when the cap is the roundest number between them."""
    cap = roundest(lo, hi - 1)
    if cap > lo:
        if not accepts(cap):
            return lo, cap
        lo = cap
    if hi - lo > 1 and not accepts(lo + 1):
        hi = lo + 1
    return lo, hi


def roundest(a: int, b: int) -> int:
    """The number in [a, b] with the most trailing decimal zeros (the smallest such)."""
    for k in range(len(str(b)), -1, -1):
        step = 10**k
        m = -(-a // step) * step
        if m <= b:
            return m
    return a
