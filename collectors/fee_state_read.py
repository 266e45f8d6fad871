"""Reading a fee market's state at a block: the views and slots of the three market variants, batched.

Every variant answers `protocolFeePercent()`, `subjectFeePercent()`, `protocolFeeDestination()` and
`owner()`; only the Twin.fun BSC market (`twinfun_market`) has `minSharesToCreate()`. The implementation
is the ERC-1967 slot read with `eth_getStorageAt` (empty on the non-proxy variants: None). Uint values come
back as int, addresses as EIP-55 text, an empty answer (no code at that block) as None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_utils import keccak, to_checksum_address

from collectors.pool import RpcPool

Value = int | str | None
State = dict[str, Value]
Call = tuple[str, list[Any]]

FEE_FIELDS = ("protocolFeePercent", "subjectFeePercent", "protocolFeeDestination", "minSharesToCreate")
INFO_FIELDS = ("owner", "implementation")
ADDRESS_FIELDS = frozenset({"protocolFeeDestination", "owner", "implementation"})
IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
KIND_FEE_FIELDS: dict[str, tuple[str, ...]] = {
    "twinfun_market": FEE_FIELDS,
    "twinfun_docs_market": FEE_FIELDS[:3],
    "friendtech_market": FEE_FIELDS[:3],
}
SETTER_SIGNATURES = {"protocolFeePercent": "setProtocolFeePercent(uint256)",
                     "subjectFeePercent": "setSubjectFeePercent(uint256)",
                     "protocolFeeDestination": "setFeeDestination(address)",
                     "minSharesToCreate": "setMinSharesToCreate(uint256)"}


def selector(signature: str) -> str:
    """The 4-byte function selector of a canonical signature, 0x-hex."""
    return "0x" + keccak(text=signature)[:4].hex()


VIEWS = {f: selector(f + "()") for f in (*FEE_FIELDS, "owner")}
SETTERS = {f: selector(sig) for f, sig in SETTER_SIGNATURES.items()}
FIELD_OF_SETTER = {sel: f for f, sel in SETTERS.items()}
# The fact sheet's selectors (opengradient-onchain.md section 5): a wrong signature above fails at import.
_DOCUMENTED = {"protocolFeePercent": "0xd6e6eb9f", "subjectFeePercent": "0x24dc441d", "owner": "0x8da5cb5b"}
_DOCUMENTED_SETTERS = {"protocolFeePercent": "0xa4983421", "subjectFeePercent": "0x5a8a764e",
                       "protocolFeeDestination": "0xfbe53234"}
if any(VIEWS[f] != s for f, s in _DOCUMENTED.items()) or any(SETTERS[f] != s for f, s in _DOCUMENTED_SETTERS.items()):
    raise RuntimeError("fee market selectors disagree with the documented ones")


def fee_fields(kind: str) -> tuple[str, ...]:
    """The fee fields a market kind has (KeyError for a kind that is not a fee market)."""
    return KIND_FEE_FIELDS[kind]


def state_fields(kind: str) -> tuple[str, ...]:
    """Every field read for a market kind: its fee fields, then owner and implementation."""
    return (*fee_fields(kind), *INFO_FIELDS)


def state_calls(kind: str, address: str, block: int) -> list[tuple[str, Call]]:
    """(field, JSON-RPC call) for every field of a market at a block."""
    tag = hex(block)
    out: list[tuple[str, Call]] = [(f, ("eth_call", [{"to": address, "data": VIEWS[f]}, tag]))
                                   for f in (*fee_fields(kind), "owner")]
    out.append(("implementation", ("eth_getStorageAt", [address, IMPLEMENTATION_SLOT, tag])))
    return out


def decode(field: str, word: Any) -> Value:
    """A view's or slot's 32-byte answer as the field's value."""
    if not isinstance(word, str) or len(word) < 66:
        return None  # "0x": no code at that block
    if field not in ADDRESS_FIELDS:
        return int(word[2:66], 16)
    raw = int(word[2:66], 16)
    if field == "implementation" and raw == 0:
        return None
    return to_checksum_address("0x" + word[2:66][-40:])


def setter_value(field: str, data: str) -> Value:
    """The argument of a setter call's input data (selector + one word)."""
    return decode(field, "0x" + data[10:74]) if len(data) >= 74 else None


def read_states(pool: RpcPool, markets: Sequence[tuple[str, str]], block: int,
                max_batch: int = 100) -> dict[str, State]:
    """Every field of several (address, kind) markets at one block, in as few batches as the node takes."""
    plan = [(address, f, call) for address, kind in markets for f, call in state_calls(kind, address, block)]
    answers: list[Any] = []
    step = max(1, max_batch)
    for i in range(0, len(plan), step):
        answers += pool.batch([call for _a, _f, call in plan[i:i + step]])
    out: dict[str, State] = {address: {} for address, _kind in markets}
    for (address, f, _call), word in zip(plan, answers, strict=True):
        out[address][f] = decode(f, word)
    return out


def read_state(pool: RpcPool, market_kind: str, address: str, block: int) -> State:
    """Every field of one market at a block: fee fields, owner, implementation (one batch)."""
    return read_states(pool, [(address, market_kind)], block)[address]


def to_text(field: str, value: Value) -> tuple[str | None, float | None]:
    """(value text, value_f) as stored: exact decimal + float for uints, the address and NULL for addresses."""
    if value is None:
        return None, None
    if isinstance(value, str) or field in ADDRESS_FIELDS:
        return str(value), None
    return str(value), float(value)


def from_text(field: str, text: str | None) -> Value:
    """A stored value back as read_state returns it."""
    if text is None:
        return None
    return text if field in ADDRESS_FIELDS else int(text)
