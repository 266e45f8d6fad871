"""Fetching from a node: logs over a block range (split when refused), block headers in batches."""

from __future__ import annotations

from typing import Any

from collectors.decode import RawLog
from collectors.decode_core import checksum
from collectors.pool import RangeTooLarge, RpcPool


def get_logs(pool: RpcPool, addresses: list[str], topics: list[str], lo: int,
             hi: int) -> tuple[list[dict[str, Any]], int]:
    """All logs of `addresses` with any of `topics` in [lo, hi]; returns (logs, number of splits).

    A range the node refuses (too many results, too large, timed out) is halved and both halves are
    fetched in order. A single block that is still refused is asked for address by address, then
    topic by topic; only a single (block, address, topic) that is refused is an error, since
    nothing may be skipped.
    """
    pending: list[tuple[int, int, list[str], list[str]]] = [(lo, hi, addresses, topics)]
    out: list[dict[str, Any]] = []
    splits, by_filter = 0, False
    while pending:
        a, b, addrs, tops = pending.pop()
        flt = {"address": addrs, "topics": [tops], "fromBlock": hex(a), "toBlock": hex(b)}
        try:
            got = pool.call("eth_getLogs", [flt], range_call=True)
        except RangeTooLarge:
            halves = _halves(a, b, addrs, tops)
            pending += list(reversed(halves))  # first half popped first
            splits, by_filter = splits + 1, by_filter or halves[0][0] == halves[1][0]
            continue
        if out and got and _key(got[0]) < _key(out[-1]):
            by_filter = True  # a node that does not answer in chain order
        out.extend(got)
    if by_filter:  # pieces by address or topic come back out of order
        out.sort(key=_key)
    return out, splits


def _key(lg: dict[str, Any]) -> tuple[int, int]:
    return int(lg["blockNumber"], 16), int(lg["logIndex"], 16)


def _halves(a: int, b: int, addrs: list[str], tops: list[str]) -> list[tuple[int, int, list[str], list[str]]]:
    if a < b:
        mid = (a + b) // 2
        return [(a, mid, addrs, tops), (mid + 1, b, addrs, tops)]
    if len(addrs) > 1:
        m = len(addrs) // 2
        return [(a, b, addrs[:m], tops), (a, b, addrs[m:], tops)]
    if len(tops) > 1:
        m = len(tops) // 2
        return [(a, b, addrs, tops[:m]), (a, b, addrs, tops[m:])]
    raise RangeTooLarge(f"block {a}: the node refuses even one address and one event's logs")


def headers(pool: RpcPool, numbers: list[int]) -> dict[int, dict[str, Any]]:
    """Block headers (no transactions) by number, batched."""
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(numbers), 100):
        chunk = numbers[i:i + 100]
        for n, h in zip(chunk, pool.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk]), strict=True):
            if h is None:
                raise ValueError(f"the node has no block {n}")
            out[n] = h
    return out


def raw_log(lg: dict[str, Any], ts: int | None) -> RawLog:
    """A JSON-RPC log as the decoders take it (numbers as int, address checksummed)."""
    return {"block_number": int(lg["blockNumber"], 16), "block_hash": lg["blockHash"],
            "block_ts": ts, "tx_hash": lg["transactionHash"], "tx_index": int(lg["transactionIndex"], 16),
            "log_index": int(lg["logIndex"], 16), "address": checksum(lg["address"][2:].lower()),
            "topics": lg["topics"], "data": lg["data"]}
