"""Validator voting power: the staking precompile's `validators(...)`, and CometBFT `/validators` when configured.

Staking precompile (opengradient-onchain.md section 4): `validators("BOND_STATUS_BONDED", pageRequest)`
paged by `nextKey` when the chain returns one, else by offset (the devnet's stand-in never returns a
key), until a short or empty page or the reported total. Consensus power = tokens / 10^18 (the EVM
chains' power reduction). CometBFT: `GET {url}/validators?height=H&page=P&per_page=100`, every page at
the height of the first one. CometBFT lists consensus addresses; they are joined to operator addresses
through the consensus public key the staking precompile reports.

Each reading writes change rows (collectors/change_rows.py) and one `validator_reads` row; a validator
that left the set gets a row with present = false and power 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from eth_abi import decode, encode
from eth_utils import keccak

from collectors import change_rows
from collectors.pool import RpcPool
from ogwatch.secrets import redact
from store.db import Store

BONDED = "BOND_STATUS_BONDED"
POWER_REDUCTION = 10**18  # sdk.DefaultPowerReduction on Cosmos EVM chains: tokens (18 decimals) per unit of power
_VALIDATORS_SIG = "validators(string,(bytes,uint64,uint64,bool,bool))"
_VALIDATOR_T = ("(string,string,bool,uint8,uint256,uint256,(string,string,string,string,string),"
                "int64,int64,uint256,uint256)")
MAX_PAGES = 1000  # a chain that keeps returning keys is cut off rather than looping forever
KEY = ("source", "validator")
COMPARE = ("operator_address", "consensus_pubkey", "moniker", "jailed", "status", "tokens", "power", "present")


class ValidatorReadError(RuntimeError):
    """A validator source answered something unusable."""


@dataclass(frozen=True)
class ValidatorRow:
    """One validator as a source reports it."""

    validator: str
    operator_address: str | None
    consensus_pubkey: str | None
    moniker: str | None
    jailed: bool | None
    status: int | None
    tokens: int | None
    power: int


def staking_calldata(offset: int, limit: int, key: bytes = b"") -> str:
    """0x calldata of validators(BONDED, (key, offset, limit, countTotal=true, reverse=false))."""
    args = encode(["string", "(bytes,uint64,uint64,bool,bool)"], [BONDED, (key, offset, limit, True, False)])
    return "0x" + (keccak(text=_VALIDATORS_SIG)[:4] + args).hex()


def decode_page(raw: str) -> tuple[list[ValidatorRow], bytes, int]:
    """One page: (validators, next key, total)."""
    vals, (next_key, total) = decode([f"{_VALIDATOR_T}[]", "(bytes,uint64)"], bytes.fromhex(raw[2:]))
    rows = [ValidatorRow(str(v[0]), str(v[0]), str(v[1]), str(v[6][0]), bool(v[2]), int(v[3]), int(v[4]),
                         int(v[4]) // POWER_REDUCTION) for v in vals]
    return rows, bytes(next_key), int(total)


def read_staking(pool: RpcPool, address: str, block: int, page_size: int = 100) -> tuple[list[ValidatorRow], int]:
    """Every bonded validator at a block, paged; returns (validators, pages asked)."""
    out: list[ValidatorRow] = []
    key, pages = b"", 0
    while pages < MAX_PAGES:
        data = staking_calldata(0 if key else len(out), page_size, key)
        raw = pool.call("eth_call", [{"to": address, "data": data}, hex(block)])
        if not isinstance(raw, str) or len(raw) < 130:
            raise ValidatorReadError(f"staking precompile {address} answered nothing at block {block}")
        rows, key, total = decode_page(raw)
        out += rows
        pages += 1
        if not rows or (total and len(out) >= total) or (not key and len(rows) < page_size):
            break
    return out, pages


Getter = Callable[[str, dict[str, Any]], Any]


def _http_get(url: str, params: dict[str, Any]) -> Any:
    try:
        resp = requests.get(url, params=params, timeout=15)
    except requests.RequestException as exc:
        raise ValidatorReadError(f"CometBFT {redact(url)}: cannot connect ({type(exc).__name__})") from None
    try:
        body = resp.json()
    except ValueError:
        raise ValidatorReadError(f"CometBFT {redact(url)}: HTTP {resp.status_code}, not JSON") from None
    if resp.status_code != 200 or "error" in body:
        detail = body.get("error", {}) if isinstance(body, dict) else {}
        raise ValidatorReadError(f"CometBFT {redact(url)}: HTTP {resp.status_code}: {detail.get('data', detail)}")
    return body["result"]


def read_cometbft(base_url: str, per_page: int = 100, get: Getter = _http_get) -> tuple[int, list[ValidatorRow], int]:
    """Every validator at the latest height: (height, validators, pages asked)."""
    url = base_url.rstrip("/") + "/validators"
    first = get(url, {"page": 1, "per_page": per_page})
    height, total = int(first["block_height"]), int(first["total"])
    items, pages = list(first["validators"]), 1
    while len(items) < total and pages < MAX_PAGES:
        pages += 1
        more = get(url, {"height": height, "page": pages, "per_page": per_page})["validators"]
        if not more:
            break
        items += more
    rows = [ValidatorRow(str(v["address"]), None, str(v["pub_key"]["value"]), None, None, None, None,
                         int(v["voting_power"])) for v in items]
    return height, rows, pages


class ValidatorCollector:
    """Reads the validator set of one chain each tick (staking precompile, and CometBFT when configured)."""

    def __init__(self, store: Store, pool: RpcPool | None, chain_id: int, staking: str | None,
                 cometbft_url: str = "", confirmations: int = 2, page_size: int = 100):
        self.store, self.pool, self.chain_id, self.staking = store, pool, chain_id, staking
        self.cometbft_url, self.confirmations, self.page_size = cometbft_url, confirmations, page_size
        self.get: Getter = _http_get

    def tick(self, block: int | None = None) -> dict[str, int]:
        """One reading of each source; returns the change rows written per source."""
        out: dict[str, int] = {}
        operators: dict[str, str] = {}
        if self.staking and self.pool is not None:
            if block is None:
                block = max(int(self.pool.call("eth_blockNumber"), 16) - self.confirmations, 0)
            header = self.pool.call("eth_getBlockByNumber", [hex(block), False])
            rows, pages = read_staking(self.pool, self.staking, block, self.page_size)
            operators = {r.consensus_pubkey: r.validator for r in rows if r.consensus_pubkey}
            out["staking"] = self._store("staking", block, int(header["timestamp"], 16), rows, pages, None)
        if self.cometbft_url:
            height, rows, pages = read_cometbft(self.cometbft_url, get=self.get)
            if not operators:
                operators = self._stored_operators()
            joined = [_with_operator(r, operators.get(r.consensus_pubkey or "")) for r in rows]
            missing = sum(1 for r in joined if r.operator_address is None)
            note = f"{missing} validator(s) without a matching staking validator" if missing else None
            out["cometbft"] = self._store("cometbft", height, None, joined, pages, note)
        return out

    def _stored_operators(self) -> dict[str, str]:
        with self.store.transaction() as cur:
            last = change_rows.latest(cur, "validator_powers", KEY, self.chain_id, {"source": "staking"})
        return {str(r["consensus_pubkey"]): str(r["validator"]) for r in last.values()
                if r["present"] and r["consensus_pubkey"]}

    def _store(self, source: str, block: int, block_ts: int | None, rows: list[ValidatorRow], pages: int,
               note: str | None) -> int:
        now = [self._row(source, block, r) for r in rows]
        total = sum(r.power for r in rows)
        read = {"chain_id": self.chain_id, "block_number": block, "source": source, "block_ts": block_ts,
                "validators": len(rows), "total_power": str(total), "total_power_f": float(total), "pages": pages,
                "note": note, "read_at": datetime.now(UTC)}
        with self.store.transaction() as cur:
            last = change_rows.latest(cur, "validator_powers", KEY, self.chain_id, {"source": source})
            seen = {r["validator"] for r in now}
            gone = [{**row, "block_number": block, "power": "0", "power_f": 0.0, "present": False}
                    for (_s, v), row in last.items() if v not in seen and row["present"]]
            new = change_rows.changed(now + gone, last, KEY, COMPARE)
            change_rows.insert(cur, "validator_powers", new)
            change_rows.insert(cur, "validator_reads", [read])
        return len(new)

    def _row(self, source: str, block: int, r: ValidatorRow) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "block_number": block, "source": source, "validator": r.validator,
                "operator_address": r.operator_address, "consensus_pubkey": r.consensus_pubkey,
                "moniker": r.moniker, "jailed": r.jailed, "status": r.status,
                "tokens": None if r.tokens is None else str(r.tokens), "power": str(r.power),
                "power_f": float(r.power), "present": True}


def _with_operator(r: ValidatorRow, operator: str | None) -> ValidatorRow:
    return ValidatorRow(r.validator, operator, r.consensus_pubkey, r.moniker, r.jailed, r.status, r.tokens, r.power)
