"""Known setter calls between two readings: from setter events (the store) or from traces (the node).

A `Step` is one successful setter call: the value it set, where (block, tx, order) and how it got there
(sender, immediate caller, the transaction's `to`, path). Replaying the steps of a field from the older
reading must end at the newer reading; then they explain the change completely, including values that
were set and undone between the readings (A->B->A). Steps that do not explain it are not trusted.

Traces: `trace_filter` with `toAddress` = the markets returns top-level and internal calls into them;
only plain calls whose input is a setter and that did not fail count, and a nested one only if no
enclosing call failed (checked with `trace_transaction`), so reverted setter calls are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from collectors.fee_state_read import FIELD_OF_SETTER, Value, setter_value
from collectors.pool import RangeTooLarge, RpcPool

TRACE_SPAN = 300  # blocks per trace_filter call (anvil's limit; others accept more, a refusal halves it)


@dataclass(frozen=True)
class Step:
    """One successful setter call: the value set, where, and who made it (when known)."""

    market: str
    field: str
    value: Value
    block: int
    order: tuple[int, ...]
    tx_hash: str
    tx_index: int | None = None
    sender: str | None = None
    caller: str | None = None
    tx_to: str | None = None
    path: str = "unknown"


def replay(old: Value, steps: Sequence[Step]) -> tuple[list[tuple[Step, Value, Value]], Value]:
    """The changes the steps make from `old` in order (setting the current value is none), and the end value."""
    changes, current = [], old
    for step in sorted(steps, key=lambda s: s.order):
        if step.value != current:
            changes.append((step, current, step.value))
            current = step.value
    return changes, current


def _int(value: Any) -> int:
    return value if isinstance(value, int) else int(str(value), 16 if str(value).startswith("0x") else 10)


def _trace_filter(pool: RpcPool, markets: Sequence[str], lo: int, hi: int) -> list[dict[str, Any]]:
    """Every trace of a call into the markets in blocks [lo, hi], in chunks the node accepts."""
    out: list[dict[str, Any]] = []
    pending = [(a, min(hi, a + TRACE_SPAN - 1)) for a in range(lo, hi + 1, TRACE_SPAN)][::-1]
    while pending:
        a, b = pending.pop()
        flt = {"fromBlock": hex(a), "toBlock": hex(b), "toAddress": [m.lower() for m in markets]}
        try:
            out += pool.call("trace_filter", [flt], range_call=True) or []
        except RangeTooLarge:
            if a == b:
                raise
            mid = (a + b) // 2
            pending += [(mid + 1, b), (a, mid)]
    return out


def _setter_call(trace: dict[str, Any], markets: set[str]) -> bool:
    """A successful plain call into a market whose input is a setter."""
    action = trace.get("action") or {}
    return (trace.get("type") == "call" and action.get("callType", "call") == "call" and "error" not in trace
            and str(action.get("to", "")).lower() in markets and str(action.get("input", ""))[:10] in FIELD_OF_SETTER)


def _enclosing_failed(trace: dict[str, Any], tx_traces: list[dict[str, Any]]) -> bool:
    """Whether a call enclosing this trace (a prefix of its trace address) failed."""
    path = list(trace["traceAddress"])
    return any("error" in t and list(t["traceAddress"]) == path[:len(t["traceAddress"])] for t in tx_traces
               if len(t["traceAddress"]) < len(path))


def _step(trace: dict[str, Any], tx_traces: list[dict[str, Any]] | None) -> Step | None:
    action, address = trace["action"], list(trace["traceAddress"])
    data = str(action["input"])
    field = FIELD_OF_SETTER[data[:10]]
    root = next((t for t in tx_traces or [] if not t["traceAddress"]), trace)
    if address and (tx_traces is None or _enclosing_failed(trace, tx_traces)):
        return None
    tx_index = _int(trace["transactionPosition"]) if trace.get("transactionPosition") is not None else None
    block = _int(trace["blockNumber"])
    return Step(to_checksum_address(action["to"]), field, setter_value(field, data), block,
                (block, tx_index or 0, *address), trace["transactionHash"], tx_index,
                to_checksum_address(root["action"]["from"]), to_checksum_address(action["from"]),
                to_checksum_address(root["action"]["to"]), "via-contract" if address else "direct")


def trace_steps(pool: RpcPool, markets: Sequence[str], lo: int, hi: int) -> list[Step]:
    """Every successful setter call into the markets in blocks [lo, hi], in execution order."""
    if lo > hi or not markets:
        return []
    wanted = {m.lower() for m in markets}
    calls = [t for t in _trace_filter(pool, markets, lo, hi) if _setter_call(t, wanted)]
    nested = sorted({t["transactionHash"] for t in calls if t["traceAddress"]})
    whole = dict(zip(nested, pool.batch([("trace_transaction", [h]) for h in nested]), strict=True)) if nested else {}
    steps = [s for t in calls if (s := _step(t, whole.get(t["transactionHash"]))) is not None]
    return sorted(steps, key=lambda s: s.order)


def describe_txs(pool: RpcPool, hashes: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """(from, to) of transactions by hash, in one batch."""
    unique = sorted(set(hashes))
    txs = pool.batch([("eth_getTransactionByHash", [h]) for h in unique]) if unique else []
    return {h: (_address(tx, "from"), _address(tx, "to")) for h, tx in zip(unique, txs, strict=True)}


def _address(tx: Any, key: str) -> str | None:
    value = tx.get(key) if isinstance(tx, dict) else None
    return to_checksum_address(value) if value else None
