"""The engine's column-at-a-time decoding (collectors.decode_span / decode_columns) gives exactly the tables and
decode errors of the per-log decoders (`decode_logs` + `to_arrow`), on random logs of every static event
(values across the whole uint256 range) and on damaged ones; JSON-RPC logs are built with eth_abi."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest
from eth_abi import encode
from eth_utils import to_checksum_address

from collectors.decode import decode_logs, to_arrow
from collectors.decode_columns import decode_static
from collectors.decode_core import RawLog, canonical_type
from collectors.decode_span import decode_span
from collectors.events import EVENTS, EventSpec
from collectors.fetch import raw_log
from tests.test_decode import abi_event

CHAIN = 56
STATIC = [s for s in EVENTS if getattr(s.decoder, "words", None) is not None]


def _value(rng: random.Random, abi_type: str) -> Any:
    if abi_type == "address":
        return to_checksum_address("0x" + rng.choice(["ab" * 20, f"{rng.getrandbits(160):040x}"]))
    if abi_type == "bool":
        return rng.random() < 0.5
    if abi_type.startswith("uint"):
        bits = int(abi_type[4:])
        top = [2**63 + rng.getrandbits(63)] if bits >= 64 else []  # uint64 values the float cast must round right
        return rng.choice([0, 1, 2**bits - 1, rng.getrandbits(min(bits, 64)), rng.getrandbits(bits), *top,
                           rng.getrandbits(rng.randrange(1, bits + 1))])
    size = int(abi_type[5:])
    return bytes(rng.getrandbits(8) for _ in range(size))


def _json_log(s: EventSpec, rng: random.Random, block: int, index: int) -> dict[str, Any]:
    """A JSON-RPC log of event `s` with random values, encoded by eth_abi."""
    ev = abi_event(s)
    values = {p["name"]: _value(rng, p["type"]) for p in ev["inputs"]}
    topics = [s.topic0] + ["0x" + encode([p["type"]], [values[p["name"]]]).hex() for p in ev["inputs"] if p["indexed"]]
    body = [p for p in ev["inputs"] if not p["indexed"]]
    data = "0x" + encode([canonical_type(p) for p in body], [values[p["name"]] for p in body]).hex()
    return {"blockNumber": hex(block), "blockHash": f"0x{block:064x}",
            "transactionHash": f"0x{rng.getrandbits(256):064x}", "transactionIndex": hex(index % 7),
            "logIndex": hex(index), "address": f"0x{rng.getrandbits(160):040x}",
            "topics": topics, "data": data}


def _expected(raw: list[dict[str, Any]], ts: dict[int, int]) -> tuple[dict[str, pa.Table], list[tuple[int, str]]]:
    logs: list[RawLog] = [raw_log(lg, ts[int(lg["blockNumber"], 16)]) for lg in raw]
    tables, errors = decode_logs(logs)
    return ({t: to_arrow(t, rows, CHAIN) for t, rows in tables.items() if rows},
            sorted((e.log["log_index"], e.reason) for e in errors))


def _check(raw: list[dict[str, Any]]) -> None:
    ts = {int(lg["blockNumber"], 16): 1_700_000_000 + int(lg["blockNumber"], 16) for lg in raw}
    want, want_errors = _expected(raw, ts)
    got = decode_span(raw, ts, CHAIN)
    assert sorted(got.frames) == sorted(want)
    for table, expected in want.items():
        assert got.frames[table].schema == expected.schema, table
        assert got.frames[table].equals(expected), table
    assert sorted((e.log["log_index"], e.reason) for e in got.errors) == want_errors
    assert got.logs == len(raw)


def _random_span(rng: random.Random, n: int, specs: list[EventSpec]) -> list[dict[str, Any]]:
    return [_json_log(rng.choice(specs), rng, 100 + i // 9, i) for i in range(n)]


@pytest.mark.parametrize("s", STATIC, ids=lambda s: f"{s.name}-{s.topic_count}")
def test_every_static_event_column_by_column_equals_log_by_log(s: EventSpec) -> None:
    rng = random.Random(s.topic0)
    _check(_random_span(rng, 60, [s]))


def test_mixed_span_of_every_static_event_in_chain_order() -> None:
    rng = random.Random(7)
    raw = _random_span(rng, 900, STATIC)
    _check(raw)
    got = decode_span(raw, {int(lg["blockNumber"], 16): 0 for lg in raw}, CHAIN)
    assert got.distinct
    assert sorted(got.blocks) == sorted({int(lg["blockNumber"], 16) for lg in raw})


def _damage(lg: dict[str, Any], how: str) -> dict[str, Any]:
    lg, data = dict(lg), lg["data"]
    if how == "high_address_bytes":  # the first word of a Trade is the trader
        lg["data"] = "0x" + "01" + data[4:]
    elif how == "bool_two":  # is_buy is the third word
        lg["data"] = data[:2 + 128] + "0" * 63 + "2" + data[2 + 192:]
    elif how == "bytes16_padding":
        lg["data"] = data[:2 + 64 + 32] + "1" + data[2 + 64 + 33:]
    elif how == "not_hex":
        lg["data"] = data[:10] + "zz" + data[12:]
    elif how == "short":
        lg["data"] = data[:-2]
    elif how == "space":
        lg["data"] = data[:10] + " " + data[11:]
    elif how == "upper_hex":
        lg["data"] = "0x" + data[2:].upper()
    elif how == "upper_prefix":
        lg["data"] = "0X" + data[2:]
    elif how == "topic0_upper":
        lg["topics"] = ["0X" + lg["topics"][0][2:].upper()]
    elif how == "extra_topic":
        lg["topics"] = [*lg["topics"], "0x" + "00" * 32]
    elif how == "unknown":
        lg["topics"] = ["0x" + "12" * 32]
    return lg


@pytest.mark.parametrize("how", ["high_address_bytes", "bool_two", "bytes16_padding", "not_hex", "short", "space",
                                 "upper_hex", "upper_prefix", "topic0_upper", "extra_topic", "unknown"])
def test_damaged_trades_fall_back_to_the_per_log_decoder(how: str) -> None:
    rng = random.Random(how)
    trade = next(s for s in STATIC if s.name == "Trade" and "bytes16" in s.signature)
    raw = _random_span(rng, 40, [trade, *STATIC[:3]])
    raw[5] = _damage(raw[5], how)
    raw[17] = _damage(raw[17], how)
    _check(raw)


def test_trade_amounts_are_exact_across_the_uint256_range() -> None:
    trade = next(s for s in STATIC if s.name == "Trade" and "address,address" in s.signature)
    rng = random.Random(3)
    raw = _random_span(rng, 300, [trade])
    _check(raw)
    got = decode_span(raw, {int(lg["blockNumber"], 16): 0 for lg in raw}, CHAIN).frames["trades"]
    texts = got["eth_amount"].to_pylist()
    words = [int(lg["data"][2 + 64 * 4:2 + 64 * 5], 16) for lg in raw]
    assert texts == [str(w) for w in words] and got["eth_amount_f"].to_pylist() == [float(w) for w in words]
    assert any(w >= 2**64 for w in words) and any(2**63 <= w < 2**64 for w in words)
    plan = trade.decoder.words  # type: ignore[attr-defined]
    fast = decode_static(plan, "trades", raw, {int(lg["blockNumber"], 16): 0 for lg in raw}, CHAIN)
    assert fast is not None and fast.equals(got)  # the column path took these logs (no per-log fallback)
