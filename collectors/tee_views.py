"""The TEE registry's views: which ones a registry has (probe), their calldata, and decoding their answers.

Two registry shapes are known (opengradient-onchain.md section 3): the older one with every view
(`TEERegistry.views-v1.json`) and the newer OHTTP one (`TEERegistry.views-ohttp.json`), whose TEE info
appends an OHTTP key-config tuple and which lacks `getTEETypes`, `getApprovedPCRs`, `heartbeatMaxAge` and
`isPCRApproved`. The newest registry's source is not public, so nothing is assumed: each view is probed
with `eth_call` and a view that reverts or answers nothing is treated as missing.

The shape of a `getTEE` answer is told by the offset of its first dynamic member (the endpoint string):
10 head words in the older tuple, 11 in the OHTTP one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from collectors.pool import RpcPool
from collectors.rpc import RpcError

SIGNATURES = {
    "getTEETypes": "getTEETypes()",
    "getTEEsByType": "getTEEsByType(uint8)",
    "getEnabledTEEs": "getEnabledTEEs(uint8)",
    "getActiveTEEs": "getActiveTEEs(uint8)",
    "getTEE": "getTEE(bytes32)",
    "isTEEActive": "isTEEActive(bytes32)",
    "isTEEEnabled": "isTEEEnabled(bytes32)",
    "getApprovedPCRs": "getApprovedPCRs()",
    "heartbeatMaxAge": "heartbeatMaxAge()",
    "isPCRApproved": "isPCRApproved(uint8,bytes32)",
}
ARGS = {"getTEEsByType": ["uint8"], "getEnabledTEEs": ["uint8"], "getActiveTEEs": ["uint8"], "getTEE": ["bytes32"],
        "isTEEActive": ["bytes32"], "isTEEEnabled": ["bytes32"], "isPCRApproved": ["uint8", "bytes32"]}
PER_TEE = ("getTEE", "isTEEActive", "isTEEEnabled")
_INFO_V1 = "(address,address,string,bytes,bytes,bytes32,uint8,bool,uint256,uint256)"
_INFO_OHTTP = ("(address,address,string,bytes,bytes,bytes32,uint8,bool,uint256,uint256,"
               "(uint8,uint16,uint16,uint16,bytes,bytes,uint256))")  # + the OHTTP key config
_ENDPOINT_OFFSET = {10 * 32: "v1", 11 * 32: "ohttp"}
DEFAULT_TYPES = (0, 1)  # LLMProxy, Validator: when the registry cannot list its types and no event named them
ZERO_ID = b"\x00" * 32


def selector(name: str) -> bytes:
    """The 4-byte selector of a view by name."""
    return keccak(text=SIGNATURES[name])[:4]


def calldata(name: str, *args: Any) -> str:
    """0x calldata of a view with its arguments."""
    return "0x" + (selector(name) + encode(ARGS.get(name, []), list(args))).hex()


def call(address: str, name: str, block: int, *args: Any) -> tuple[str, list[Any]]:
    """The JSON-RPC eth_call of a view at a block."""
    return "eth_call", [{"to": address, "data": calldata(name, *args)}, hex(block)]


def answered(raw: Any) -> bytes | None:
    """The bytes of an eth_call answer; None when it is empty (no such view, no code)."""
    if not isinstance(raw, str) or len(raw) < 66:
        return None
    return bytes.fromhex(raw[2:])


@dataclass(frozen=True)
class TEEInfo:
    """One TEE as the registry's getTEE returns it (either shape)."""

    owner: str
    payment_address: str
    endpoint: str
    pcr_hash: str
    tee_type: int
    enabled: bool
    registered_at: int
    last_heartbeat_at: int
    shape: str


def info_shape(data: bytes) -> str | None:
    """'v1' or 'ohttp' from the endpoint offset inside the returned tuple; None when neither."""
    if len(data) < 128 or int.from_bytes(data[:32], "big") != 32:
        return None
    return _ENDPOINT_OFFSET.get(int.from_bytes(data[96:128], "big"))  # tuple head word 3, after the tuple offset


def decode_info(data: bytes) -> TEEInfo | None:
    """A getTEE answer in either shape; None when it is not one."""
    shape = info_shape(data)
    if shape is None:
        return None
    try:
        (t,) = decode([_INFO_OHTTP if shape == "ohttp" else _INFO_V1], data)
    except (DecodingError, ValueError, OverflowError):
        return None
    return TEEInfo(to_checksum_address(t[0]), to_checksum_address(t[1]), str(t[2]), "0x" + bytes(t[5]).hex(),
                   int(t[6]), bool(t[7]), int(t[8]), int(t[9]), shape)


def decode_ids(data: bytes) -> list[str]:
    """A bytes32[] answer as 0x-hex ids."""
    (ids,) = decode(["bytes32[]"], data)
    return ["0x" + bytes(i).hex() for i in ids]


def decode_types(data: bytes) -> list[int]:
    """getTEETypes: the type ids."""
    ids, _infos = decode(["uint8[]", "(string,uint256)[]"], data)
    return [int(i) for i in ids]


def decode_pcrs(data: bytes) -> list[tuple[str, int]]:
    """getApprovedPCRs: (pcr hash, TEE type) pairs."""
    (rows,) = decode(["(bytes32,uint8)[]"], data)
    return [("0x" + bytes(h).hex(), int(t)) for h, t in rows]


def decode_word(data: bytes) -> int:
    """A single uint256 / bool word."""
    return int.from_bytes(data[:32], "big")


def _try(pool: RpcPool, address: str, name: str, block: int, *args: Any) -> bytes | None:
    try:
        return answered(pool.call(*call(address, name, block, *args)))
    except RpcError as exc:
        if exc.kind == "rpc":
            return None  # reverted: the registry has no such view (or refuses it)
        raise


def probe(pool: RpcPool, address: str, block: int, sample_id: str | None) -> dict[str, bool]:
    """Which views answer at a block; per-TEE views are asked about a known TEE when there is one."""
    tee = bytes.fromhex(sample_id[2:]) if sample_id else ZERO_ID
    sample: dict[str, tuple[Any, ...]] = {"getTEEsByType": (0,), "getEnabledTEEs": (0,), "getActiveTEEs": (0,),
                                          "isPCRApproved": (0, ZERO_ID), **{n: (tee,) for n in PER_TEE}}
    return {name: _try(pool, address, name, block, *sample.get(name, ())) is not None for name in SIGNATURES}


def read_one(pool: RpcPool, address: str, name: str, block: int, *args: Any) -> bytes | None:
    """One view's answer, or None when it reverts or is empty."""
    return _try(pool, address, name, block, *args)


def read_many(pool: RpcPool, calls: Sequence[tuple[str, list[Any]]], max_batch: int) -> list[bytes | None]:
    """Several eth_calls in batches; a batch that fails is asked again call by call, reverts giving None."""
    out: list[bytes | None] = []
    step = max(1, max_batch)
    for i in range(0, len(calls), step):
        part = list(calls[i:i + step])
        try:
            out += [answered(r) for r in pool.batch(part)]
        except RpcError as exc:
            if exc.kind != "rpc":
                raise
            out += [_one(pool, c) for c in part]
    return out


def _one(pool: RpcPool, c: tuple[str, list[Any]]) -> bytes | None:
    try:
        return answered(pool.call(*c))
    except RpcError as exc:
        if exc.kind == "rpc":
            return None
        raise
