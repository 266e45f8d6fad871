"""Decode speed: web3 `process_log`, `eth_abi.decode` and ogwatch's decoders on the same in-memory logs.

Builds N Twin.fun Trade logs (static: our word slicing) and M ModelInferenceEvent logs (nested tuples:
our eth_abi path), decodes each set three ways and prints logs/s and the ratios measured in this run; then
ogwatch's two ways to Arrow tables: rows (`decode_logs` + `to_arrow`) and the engine's `decode_span` from
JSON-RPC logs (static events column by column).

    .venv/bin/python -m bench.decode_speed [--trades 50000] [--inferences 10000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from eth_abi import decode, encode
from hexbytes import HexBytes
from web3 import Web3

from collectors import abis
from collectors.decode import RawLog, decode_logs, to_arrow
from collectors.decode_core import canonical_type
from collectors.decode_span import decode_span
from collectors.events import EVENTS, EventSpec

MARKET = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
PRECOMPILE = "0x00000000000000000000000000000000000000F4"


def _spec(name: str) -> EventSpec:
    return next(s for s in EVENTS if s.name == name and s.table in ("trades", "inferences"))


def _body_types(spec: EventSpec) -> list[str]:
    event = next(e for e in abis.load(spec.abi_file) if e.get("name") == spec.name)
    return [canonical_type(p) for p in event["inputs"] if not p["indexed"]]


def _log(i: int, address: str, topic0: str, data: bytes) -> RawLog:
    return RawLog(block_number=1000 + i // 10, block_hash="0x" + f"{i // 10:064x}", block_ts=1_700_000_000 + i,
                  tx_hash="0x" + f"{i:064x}", tx_index=i % 10, log_index=i % 10, address=address, topics=[topic0],
                  data="0x" + data.hex())


def trade_logs(n: int, rng: random.Random) -> list[RawLog]:
    """n Trade logs with random traders, twins and amounts (a few hundred distinct traders, as on chain)."""
    spec, traders = _spec("Trade"), [Web3.to_checksum_address(rng.randbytes(20)) for _ in range(300)]
    types = _body_types(spec)
    return [_log(i, MARKET, spec.topic0, encode(types, [
        rng.choice(traders), rng.randbytes(16), rng.random() < 0.6, rng.randint(1, 20), rng.randrange(10**21),
        rng.randrange(10**19), rng.randrange(10**19), rng.randint(1, 10**4)])) for i in range(n)]


def inference_logs(n: int, rng: random.Random) -> list[RawLog]:
    """n ModelInferenceEvent logs shaped like the simulator's (1-6 input numbers, one output tensor)."""
    spec = _spec("ModelInferenceEvent")
    types = _body_types(spec)

    def one() -> list[Any]:
        values = [(rng.randint(-10**6, 10**6), rng.randint(0, 4)) for _ in range(rng.randint(1, 6))]
        tensors: tuple[Any, ...] = ([("input", values, [len(values)])], [])
        request: tuple[Any, ...] = (rng.randint(0, 2), "QmVolatilityEthUsd1hXgb", tensors)
        response: tuple[Any, ...] = ([("output", [(rng.randint(0, 10**9), 6)], [1])], [], [], False)
        return [f"inf-{rng.randrange(10**12)}", request, response]
    return [_log(i, PRECOMPILE, spec.topic0, encode(types, one())) for i in range(n)]


def _web3_log(log: RawLog) -> dict[str, Any]:
    return {"address": log["address"], "topics": [HexBytes(t) for t in log["topics"]], "data": HexBytes(log["data"]),
            "blockNumber": log["block_number"], "blockHash": HexBytes(log["block_hash"]),
            "transactionHash": HexBytes(log["tx_hash"]), "transactionIndex": log["tx_index"],
            "logIndex": log["log_index"]}


def _json_log(log: RawLog) -> dict[str, Any]:
    """The log as eth_getLogs returns it (what the engine's decode_span takes)."""
    return {"address": log["address"].lower(), "topics": log["topics"], "data": log["data"],
            "blockNumber": hex(log["block_number"]), "blockHash": log["block_hash"], "transactionHash": log["tx_hash"],
            "transactionIndex": hex(log["tx_index"]), "logIndex": hex(log["log_index"])}


def _rate(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def measure(label: str, spec: EventSpec, logs: list[RawLog]) -> dict[str, float]:
    """logs/s of the three decoders on one set of logs."""
    event = getattr(Web3().eth.contract(abi=abis.load(spec.abi_file)).events, spec.name)()
    w3_logs, types, n = [_web3_log(lg) for lg in logs], _body_types(spec), len(logs)
    json_logs, stamps = [_json_log(lg) for lg in logs], {lg["block_number"]: lg["block_ts"] or 0 for lg in logs}
    rates = {
        "web3 process_log": _rate(lambda: [event.process_log(lg) for lg in w3_logs], n),
        "eth_abi.decode": _rate(lambda: [decode(types, bytes.fromhex(lg["data"][2:])) for lg in logs], n),
        "ogwatch decode_logs": _rate(lambda: decode_logs(logs), n),
        "ogwatch rows + Arrow": _rate(lambda: [to_arrow(t, rows, 1) for t, rows in decode_logs(logs)[0].items()], n),
        "ogwatch decode_span": _rate(lambda: decode_span(json_logs, stamps, 1), n),
    }
    tables, errors = decode_logs(logs)
    assert not errors and sum(map(len, tables.values())) == n
    print(f"\n{label}: {n:,} logs")
    for name, rate in rates.items():
        print(f"  {name:<20} {rate:>10,.0f} logs/s   x{rate / rates['web3 process_log']:.1f} vs web3")
    print(f"  ogwatch / eth_abi.decode: x{rates['ogwatch decode_logs'] / rates['eth_abi.decode']:.2f}")
    print(f"  decode_span (to Arrow) / decode_logs + to_arrow: "
          f"x{rates['ogwatch decode_span'] / rates['ogwatch rows + Arrow']:.2f}")
    return rates


def main() -> None:
    """Build the logs, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=50_000)
    parser.add_argument("--inferences", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(1)
    measure("Twin.fun Trade (static: word slicing)", _spec("Trade"), trade_logs(args.trades, rng))
    measure("ModelInferenceEvent (nested tuples: eth_abi)", _spec("ModelInferenceEvent"),
            inference_logs(args.inferences, rng))


if __name__ == "__main__":
    main()
