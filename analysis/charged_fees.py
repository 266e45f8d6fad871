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


def _columns(frame: pd.DataFrame | None, names: tuple[str, ...]) -> tuple[int, dict[str, list[Any]]]:
    """(rows, name -> the column as a list of plain values); a missing column reads as None in every row."""
    if frame is None or frame.empty:
        return 0, {c: [] for c in names}
    n = len(frame)
    return n, {c: frame[c].tolist() if c in frame else [None] * n for c in names}


TradePositions = tuple[int, list[tuple[int, str]], list[Position]]


def trade_positions(frame: pd.DataFrame | None) -> TradePositions:
    """(rows, (chain_id, address lowercased) per row, position per row) of a trades frame: read once and passed
    to `needs_history`, `check_trades` and `after_hike` (`at=`) when they check the same trades."""
    n, c = _columns(frame, ("chain_id", "address", "block_number", "tx_index", "log_index"))
    pos = [(int(b), int(t), int(lg)) for b, t, lg in zip(c["block_number"], c["tx_index"], c["log_index"],
                                                         strict=True)]
    cache: dict[tuple[Any, Any], tuple[int, str]] = {}
    markets = []
    for ch, ad in zip(c["chain_id"], c["address"], strict=True):
        market = cache.get((ch, ad))
        if market is None:
            market = cache[(ch, ad)] = (int(ch), str(ad).lower())
        markets.append(market)
    return n, markets, pos


def _rate_table(steps: list[Step]) -> list[tuple[int | None, str]]:
    """`rate_at`'s answer for a position with i steps strictly before it, for i = 0 .. len(steps)."""
    first: tuple[int | None, str] = ((steps[0].old, f"old of {steps[0].source}")
                                     if steps and steps[0].old is not None else (None, NO_RATE_BEFORE))
    after: list[tuple[int | None, str]] = [(s.rate, s.source) if s.rate is not None
                                           else (None, f"unknown: {s.source}") for s in steps]
    return [first, *after]


def _rates(timeline: Timeline, markets: list[tuple[int, str]], positions: list[Position],
           field: str) -> list[tuple[int | None, str]]:
    """`rate_at` of one fee for every trade: a bisect per trade on each market's step positions, computed once."""
    found = {m: timeline.get((m[0], m[1], field), []) for m in set(markets)}
    starts = {m: [s.position for s in steps] for m, steps in found.items()}
    tables = {m: _rate_table(steps) for m, steps in found.items()}
    if len(found) == 1:
        sp, table = next(iter(starts.values())), next(iter(tables.values()))
        return [table[bisect.bisect_left(sp, p)] for p in positions]
    return [tables[m][bisect.bisect_left(starts[m], p)] for m, p in zip(markets, positions, strict=True)]


def needs_history(trades: pd.DataFrame, timeline: Timeline,
                  at: TradePositions | None = None) -> dict[tuple[int, str], int]:
    """(chain_id, address lowercased) -> block of the first trade whose rate nothing before it gives."""
    n, markets, positions = at or trade_positions(trades)
    out: dict[tuple[int, str], int] = {}
    if not n:
        return out
    protocol, subject = (_rates(timeline, markets, positions, f) for f in FEE_FIELDS)
    for market, pos, a, b in zip(markets, positions, protocol, subject, strict=True):
        if market not in out and NO_RATE_BEFORE in (a[1], b[1]):
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


def _overall(verdicts: list[str]) -> str:
    for v in ("mismatch", "unknown-rate", "ok"):
        if v in verdicts:
            return v
    return "n/a"


CHECK_COLUMNS = ["chain_id", "block_number", "tx_index", "log_index", "tx_hash", "address", "event", "is_buy",
                 "eth_amount"] + [f"{p}_{c}" for p in FEE_PREFIX.values()
                                  for c in ("rate", "rate_source", "expected", "charged", "verdict")] + ["verdict"]
_PASSED = ("chain_id", "block_number", "tx_index", "log_index", "tx_hash", "address", "event", "is_buy")


_OVERALL = {(a, b): _overall([a, b]) for a in ("ok", "mismatch", "n/a", "unknown-rate")
            for b in ("ok", "mismatch", "n/a", "unknown-rate")}


def _fee_columns(eths: list[int], charged: list[int], rates: list[tuple[int | None, str]]) -> list[list[Any]]:
    """Rate text, source, expected text, charged text and verdict of one fee, as five columns."""
    pcts = [r[0] for r in rates]
    want = [None if e == 0 or p is None else e * p // WAD for e, p in zip(eths, pcts, strict=True)]
    verdicts = ["n/a" if e == 0 else "unknown-rate" if p is None else "ok" if w == c else "mismatch"
                for e, p, w, c in zip(eths, pcts, want, charged, strict=True)]
    return [[None if p is None else str(p) for p in pcts], [r[1] for r in rates],
            [None if w is None else str(w) for w in want], list(map(str, charged)), verdicts]


def check_trades(trades: pd.DataFrame, timeline: Timeline, at: TradePositions | None = None) -> pd.DataFrame:
    """One row per trade: each fee's rate (and source), expected and charged (exact text), and verdict.

    Column-wise: the frame's columns are read once as plain values, each fee's rates are bisected on step
    positions computed once per market, and the checks run over whole columns of Python ints (uint256 products
    need them; expected = eth_amount * rate // 10**18 exactly, as before). `at`: `trade_positions(trades)`.
    """
    n, markets, positions = at or trade_positions(trades)
    _, c = _columns(trades, (*_PASSED, "eth_amount", "protocol_eth_amount", "subject_eth_amount"))
    eths = [int(str(v)) for v in c["eth_amount"]]
    cols: list[list[Any]] = [c[k] for k in _PASSED] + [list(map(str, eths))]
    for field, prefix in FEE_PREFIX.items():
        charged = [int(str(v)) for v in c[f"{prefix}_eth_amount"]]
        cols += _fee_columns(eths, charged, _rates(timeline, markets, positions, field) if n else [])
    protocol_verdict, subject_verdict = cols[len(_PASSED) + 5], cols[len(_PASSED) + 10]
    cols.append([_OVERALL[(a, b)] for a, b in zip(protocol_verdict, subject_verdict, strict=True)])
    return pd.DataFrame(dict(zip(CHECK_COLUMNS, cols, strict=True)), columns=CHECK_COLUMNS)


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


HIKE_COLUMNS = ["chain_id", "block_number", "tx_index", "log_index", "tx_hash", "address", "field", "hike_block",
                "hike_source", "old", "new", "hike", "blocks_since"]


def _market_rows(markets: list[tuple[int, str]], positions: list[Position]) -> dict[tuple[int, str], list[int]]:
    """Row numbers of each market's trades, in position order."""
    out: dict[tuple[int, str], list[int]] = {}
    for i, m in enumerate(markets):
        out.setdefault(m, []).append(i)
    return {m: sorted(rows, key=positions.__getitem__) for m, rows in out.items()}


def after_hike(trades: pd.DataFrame, timeline: Timeline, n_blocks: int,
               at: TradePositions | None = None) -> pd.DataFrame:
    """Trades executed within n_blocks after a fee increase on their market, one row per (trade, hike), in trade
    order (then fee, then hike). Each hike's trades are found by bisecting the market's trades in position order:
    after the hike's position and at most n_blocks blocks later."""
    found = {k: h for k, h in ((k, hikes(v)) for k, v in timeline.items()) if h}
    n, markets, positions = at or trade_positions(trades)
    _, c = _columns(trades, ("tx_hash", "address"))
    hits: list[tuple[int, int, int, tuple[Any, ...]]] = []
    for m, rows in (_market_rows(markets, positions).items() if found and n else []):
        ordered = [positions[i] for i in rows]
        for fi, field in enumerate(FEE_FIELDS):
            key = (m[0], m[1], field)
            for hi, (s, old) in enumerate(found.get(key, [])):
                first = bisect.bisect_right(ordered, s.position)
                last = bisect.bisect_left(ordered, (s.position[0] + n_blocks + 1,))
                for i in rows[first:last]:
                    pos = positions[i]
                    hits.append((i, fi, hi, (key[0], pos[0], pos[1], pos[2], c["tx_hash"][i], c["address"][i], key[2],
                                             s.position[0], s.source, str(old), str(s.rate),
                                             str(int(s.rate or 0) - old), pos[0] - s.position[0])))
    hits.sort(key=lambda h: h[:3])
    return pd.DataFrame([h[3] for h in hits], columns=HIKE_COLUMNS)


__all__ = ["END", "NO_RATE_BEFORE", "Step", "Timeline", "after_hike", "check_trades", "expected_fee", "hikes",
           "needs_history", "rate_at", "rate_timeline", "trade_positions", "with_history"]
