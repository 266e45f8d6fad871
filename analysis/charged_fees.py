"""Fee actually charged: every Trade's protocol and subject fee against the rate in effect at its position.

Pure functions over DataFrames and Python ints (no store, no RPC). A position is (block, tx_index, log_index);
a Trade uses the rate of the last known step strictly before it, so a change and trades sharing a block (or one
transaction, by log index) are ordered exactly. Amounts are exact decimal text; fees are checked in integers:
expected = eth_amount * pct // 10**18, as Solidity floors.

Steps of a (chain_id, address, field) timeline come from:

- setter events (``market_events``): exact position, rate = the event's value;
- ``fee_changes`` with precision ``tx`` not matched by an event: the log index is unknown, so the rate is
  unknown for trades inside that transaction and the new rate holds after it;
- ``fee_changes`` with precision ``block`` / ``range``: the change lies in blocks [block_from, block_number],
  so the rate is unknown for trades in those blocks and the new rate holds after them;
- ``market_state`` readings: the rate at the end of a block (ignored inside an unknown range).

Before a market's first step the rate is the first step's ``old`` when known (fee changes carry it), else unknown;
`needs_history` finds such markets and `with_history` adds their rates read from historical state at the block
before their first trade (or the reason it could not be read).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import pandas as pd

FEE_FIELDS = ("protocolFeePercent", "subjectFeePercent")
FEE_PREFIX = {"protocolFeePercent": "protocol", "subjectFeePercent": "subject"}
WAD = 10**18
END = 1 << 62  # a position after every transaction / log of a block

Position = tuple[int, int, int]
Key = tuple[int, str, str]  # (chain_id, address, field)


@dataclass(frozen=True)
class Step:
    """From `position` on (strictly after it), the field's rate is `rate`; None means unknown."""

    position: Position
    rate: int | None
    exactness: str  # event | tx | block | range | state
    source: str
    old: int | None = None  # the rate before, when the evidence says so (fee_changes rows)


Timeline = dict[Key, list[Step]]


def _int(value: Any) -> int | None:
    """An exact decimal (text or int) as int; None for missing values."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return int(str(value))


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """A frame's rows as dicts (none for a missing frame)."""
    return [] if frame is None else [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The fee-percent rows of a frame as dicts (none for a missing or empty frame)."""
    return [r for r in _records(frame) if r["field"] in FEE_FIELDS]


def _key(r: dict[str, Any]) -> Key:
    return int(r["chain_id"]), str(r["address"]).lower(), str(r["field"])


def _event_steps(events: pd.DataFrame | None) -> dict[Key, list[Step]]:
    out: dict[Key, list[Step]] = {}
    for r in _rows(events):
        pos = (int(r["block_number"]), int(r["tx_index"]), int(r["log_index"]))
        source = f"event@{pos[0]}:{pos[1]}:{pos[2]}"
        out.setdefault(_key(r), []).append(Step(pos, _int(r["value"]), "event", source))
    return out


def _matching_event(steps: list[Step], block: int, tx_index: int | None, new: int | None) -> int | None:
    """Index of the event step of the same transaction and value, if any."""
    for i, s in enumerate(steps):
        if s.exactness == "event" and s.position[:2] == (block, tx_index) and s.rate == new:
            return i
    return None


def _change_steps(r: dict[str, Any]) -> list[Step]:
    """A fee_changes row without an event: an unknown span, then the new rate after it."""
    block, old, new = int(r["block_number"]), _int(r["old"]), _int(r["new"])
    tx_index = _int(r.get("tx_index"))
    if r["precision"] == "tx" and tx_index is not None:
        return [Step((block, tx_index, -1), None, "tx", f"fee_changes tx {block}:{tx_index}", old),
                Step((block, tx_index, END), new, "tx", f"fee_changes tx {block}:{tx_index}", old)]
    lo, precision = int(r["block_from"]), str(r["precision"])
    source = f"fee_changes {precision} {lo}..{block}"
    return [Step((lo, -1, -1), None, precision, source, old), Step((block, END, END), new, precision, source, old)]


def _unknown_spans(steps: list[Step]) -> list[tuple[Position, Position]]:
    """(start, end) of every span whose rate is unknown (an unknown step up to the next step)."""
    ordered = sorted(steps, key=lambda s: s.position)
    return [(s.position, ordered[i + 1].position) for i, s in enumerate(ordered[:-1]) if s.rate is None]


def rate_timeline(events: pd.DataFrame | None, changes: pd.DataFrame | None = None,
                  readings: pd.DataFrame | None = None) -> Timeline:
    """Per (chain_id, address lowercased, field): the ordered rate steps from events, fee_changes and readings."""
    out = _event_steps(events)
    for r in _rows(changes):
        steps = out.setdefault(_key(r), [])
        i = _matching_event(steps, int(r["block_number"]), _int(r.get("tx_index")), _int(r["new"]))
        if i is not None:
            s = steps[i]
            steps[i] = Step(s.position, s.rate, s.exactness, s.source, _int(r["old"]))
        else:
            steps += _change_steps(r)
    spans = {k: _unknown_spans(v) for k, v in out.items()}
    for r in _rows(readings):
        pos, key = (int(r["block_number"]), END, END), _key(r)
        if any(a < pos < b for a, b in spans.get(key, [])) or _int(r["value"]) is None:
            continue
        out.setdefault(key, []).append(Step(pos, _int(r["value"]), "state", f"state@{pos[0]}"))
    order = {"state": 1}
    return {k: sorted(v, key=lambda s: (s.position, order.get(s.exactness, 0))) for k, v in out.items()}


def rate_at(steps: list[Step], position: Position) -> tuple[int | None, str]:
    """The rate in effect at a position and where it came from; (None, why) when unknown."""
    i = bisect.bisect_left([s.position for s in steps], position)
    if i > 0:
        s = steps[i - 1]
        return (s.rate, s.source) if s.rate is not None else (None, f"unknown: {s.source}")
    if steps and steps[0].old is not None:
        return steps[0].old, f"old of {steps[0].source}"
    return None, NO_RATE_BEFORE


NO_RATE_BEFORE = "unknown: no rate known before the first step"


def needs_history(trades: pd.DataFrame, timeline: Timeline) -> dict[tuple[int, str], int]:
    """(chain_id, address lowercased) -> block of the first trade whose rate nothing before it gives."""
    out: dict[tuple[int, str], int] = {}
    for t in _records(trades):
        market = (int(t["chain_id"]), str(t["address"]).lower())
        if market in out:
            continue
        pos = (int(t["block_number"]), int(t["tx_index"]), int(t["log_index"]))
        if any(rate_at(timeline.get((*market, f), []), pos)[1] == NO_RATE_BEFORE for f in FEE_FIELDS):
            out[market] = pos[0]
    return out


def _history_step(steps: list[Step], block: int, rate: int, events_complete: bool) -> Step:
    """The step a historical reading at the end of `block` adds: its rate, or unknown when nothing vouches for it.

    The rate holds up to the next step when the market's setter events are complete (each change emits one) and
    the next step does not contradict it. Without setter events the next step must confirm it: a next reading,
    or a change whose old value is known, equal to it; otherwise a change in between went unseen.
    """
    pos = (block, END, END)
    nxt = next((s for s in steps if s.position > pos), None)
    before_next = None if nxt is None else (nxt.rate if nxt.exactness == "state" else nxt.old)
    if before_next is not None and before_next != rate:
        return Step(pos, None, "range", f"state {rate} at block {block} but {before_next} before "
                                        f"{nxt.source if nxt else ''}: a change in between was not located")
    if not events_complete and before_next is None:
        return Step(pos, None, "range", f"state {rate} at block {block}, but the market emits no setter events "
                                        "and no later reading confirms it")
    return Step(pos, rate, "state", f"history@{block}")


def with_history(timeline: Timeline, market: tuple[int, str], block: int, rates: dict[str, int] | None,
                 reason: str = "", *, events_complete: bool = True) -> Timeline:
    """The timeline plus one market's fee rates read at the end of `block` (before its first trade).

    `events_complete`: the market emits an event for every fee change (the Twin.fun BSC market). Without rates,
    every fee of the market keeps "unknown" before its first step, with the reason appended.
    """
    out = {k: list(v) for k, v in timeline.items()}
    for f in FEE_FIELDS:
        steps = out.setdefault((*market, f), [])
        if rates is not None and f in rates:
            steps.append(_history_step(steps, block, rates[f], events_complete))
        else:
            steps.append(Step((-1, -1, -1), None, "range", NO_RATE_BEFORE.removeprefix("unknown: ")
                              + (f" ({reason})" if reason else "")))
        steps.sort(key=lambda s: s.position)
    return out


def expected_fee(eth_amount: int, pct: int) -> int:
    """The fee Solidity charges: eth_amount * pct / 1e18, floored."""
    return eth_amount * pct // WAD


def _verdict(eth: int, pct: int | None, charged: int) -> tuple[str, int | None]:
    if eth == 0:
        return "n/a", None
    if pct is None:
        return "unknown-rate", None
    want = expected_fee(eth, pct)
    return ("ok" if want == charged else "mismatch"), want


def _overall(verdicts: list[str]) -> str:
    for v in ("mismatch", "unknown-rate", "ok"):
        if v in verdicts:
            return v
    return "n/a"


def _check_one(t: dict[str, Any], timeline: Timeline) -> dict[str, Any]:
    pos = (int(t["block_number"]), int(t["tx_index"]), int(t["log_index"]))
    eth = int(str(t["eth_amount"]))
    row: dict[str, Any] = {k: t.get(k) for k in ("chain_id", "block_number", "tx_index", "log_index", "tx_hash",
                                                 "address", "event", "is_buy")}
    row["eth_amount"] = str(eth)
    for field, prefix in FEE_PREFIX.items():
        pct, source = rate_at(timeline.get((int(t["chain_id"]), str(t["address"]).lower(), field), []), pos)
        charged = int(str(t[f"{prefix}_eth_amount"]))
        verdict, want = _verdict(eth, pct, charged)
        row |= {f"{prefix}_rate": None if pct is None else str(pct), f"{prefix}_rate_source": source,
                f"{prefix}_expected": None if want is None else str(want), f"{prefix}_charged": str(charged),
                f"{prefix}_verdict": verdict}
    row["verdict"] = _overall([row["protocol_verdict"], row["subject_verdict"]])
    return row


def check_trades(trades: pd.DataFrame, timeline: Timeline) -> pd.DataFrame:
    """One row per trade: each fee's rate (and source), expected and charged (exact text), and verdict."""
    rows = [_check_one(t, timeline) for t in _records(trades)]
    columns = ["chain_id", "block_number", "tx_index", "log_index", "tx_hash", "address", "event", "is_buy",
               "eth_amount"] + [f"{p}_{c}" for p in FEE_PREFIX.values()
                                for c in ("rate", "rate_source", "expected", "charged", "verdict")] + ["verdict"]
    return pd.DataFrame(rows, columns=columns)


def hikes(steps: list[Step]) -> list[tuple[Step, int]]:
    """Every change step that raised the rate, with the rate before it (readings are not changes)."""
    out, before = [], None
    for s in steps:
        old = s.old if s.old is not None else before
        if s.exactness != "state" and s.rate is not None and old is not None and s.rate > old:
            out.append((s, old))
        if s.rate is not None:
            before = s.rate
    return out


def _hike_rows(t: dict[str, Any], key: Key, found: list[tuple[Step, int]], n_blocks: int) -> list[dict[str, Any]]:
    pos = (int(t["block_number"]), int(t["tx_index"]), int(t["log_index"]))
    rows = []
    for s, old in found:
        since = pos[0] - s.position[0]
        if s.position < pos and since <= n_blocks:
            rows.append({"chain_id": key[0], "block_number": pos[0], "tx_index": pos[1], "log_index": pos[2],
                         "tx_hash": t.get("tx_hash"), "address": t["address"], "field": key[2],
                         "hike_block": s.position[0], "hike_source": s.source, "old": str(old), "new": str(s.rate),
                         "hike": str(int(s.rate or 0) - old), "blocks_since": since})
    return rows


def after_hike(trades: pd.DataFrame, timeline: Timeline, n_blocks: int) -> pd.DataFrame:
    """Trades executed within n_blocks after a fee increase on their market, one row per (trade, hike)."""
    found = {k: hikes(v) for k, v in timeline.items()}
    rows = []
    for t in _records(trades):
        for field in FEE_FIELDS:
            key = (int(t["chain_id"]), str(t["address"]).lower(), field)
            rows += _hike_rows(t, key, found.get(key, []), n_blocks)
    columns = ["chain_id", "block_number", "tx_index", "log_index", "tx_hash", "address", "field", "hike_block",
               "hike_source", "old", "new", "hike", "blocks_since"]
    return pd.DataFrame(rows, columns=columns)


__all__ = ["END", "NO_RATE_BEFORE", "Step", "Timeline", "after_hike", "check_trades", "expected_fee", "hikes",
           "needs_history", "rate_at", "rate_timeline", "with_history"]
