"""Fee actually charged: hand-built frames for the rules, then the shared devnet against its ground truth."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from analysis.charged_fees import (
    after_hike,
    check_trades,
    expected_fee,
    needs_history,
    rate_at,
    rate_timeline,
    with_history,
)

M = "0xAbC0000000000000000000000000000000000001"
PCT = 10**16
P, S = "protocolFeePercent", "subjectFeePercent"


def trade(block: int, tx: int, log: int, eth: int, pct: int = 3 * PCT, spct: int = 3 * PCT,
          protocol: int | None = None) -> dict[str, Any]:
    prot = expected_fee(eth, pct) if protocol is None else protocol
    return {"chain_id": 56, "block_number": block, "tx_index": tx, "log_index": log, "tx_hash": f"0x{block}{tx}",
            "address": M, "event": "Trade", "is_buy": True, "eth_amount": str(eth), "protocol_eth_amount": str(prot),
            "subject_eth_amount": str(expected_fee(eth, spct))}


def event(block: int, tx: int, log: int, field: str, value: int) -> dict[str, Any]:
    return {"chain_id": 56, "block_number": block, "tx_index": tx, "log_index": log, "address": M,
            "field": field, "value": str(value)}


def reading(block: int, field: str, value: int) -> dict[str, Any]:
    return {"chain_id": 56, "address": M, "field": field, "block_number": block, "value": str(value)}


def change(block_from: int, block: int, field: str, old: int, new: int, precision: str,
           tx_index: int | None = None) -> dict[str, Any]:
    return {"chain_id": 56, "address": M, "field": field, "old": str(old), "new": str(new), "block_number": block,
            "block_from": block_from, "tx_index": tx_index, "precision": precision}


BASE = pd.DataFrame([reading(1, P, 3 * PCT), reading(1, S, 3 * PCT)])


def test_same_block_change_orders_trades_by_tx_index() -> None:
    events = pd.DataFrame([event(10, 2, 5, P, 4 * PCT)])
    trades = pd.DataFrame([trade(10, 1, 3, 10**18), trade(10, 3, 7, 10**18, pct=4 * PCT)])
    out = check_trades(trades, rate_timeline(events, None, BASE))
    assert list(out["protocol_rate"]) == [str(3 * PCT), str(4 * PCT)]
    assert list(out["verdict"]) == ["ok", "ok"]
    assert out["protocol_rate_source"][1] == "event@10:2:5"


def test_same_transaction_orders_by_log_index() -> None:
    events = pd.DataFrame([event(10, 2, 5, P, 5 * PCT)])
    trades = pd.DataFrame([trade(10, 2, 4, 10**18), trade(10, 2, 6, 10**18, pct=5 * PCT)])
    assert list(check_trades(trades, rate_timeline(events, None, BASE))["verdict"]) == ["ok", "ok"]


def test_zero_price_is_not_applicable() -> None:
    out = check_trades(pd.DataFrame([trade(5, 0, 0, 0)]), rate_timeline(None, None, BASE))
    assert (out["protocol_verdict"][0], out["subject_verdict"][0], out["verdict"][0]) == ("n/a", "n/a", "n/a")


def test_huge_amounts_are_exact() -> None:
    eth, pct = 2**256 - 1, 10**18 - 7
    out = check_trades(pd.DataFrame([trade(5, 0, 0, eth, pct=pct, spct=pct)]),
                       rate_timeline(None, None, pd.DataFrame([reading(1, P, pct), reading(1, S, pct)])))
    assert out["protocol_expected"][0] == str(eth * pct // 10**18) and out["verdict"][0] == "ok"
    off = check_trades(pd.DataFrame([trade(5, 0, 0, eth, protocol=eth * pct // 10**18 + 1)]),
                       rate_timeline(None, None, pd.DataFrame([reading(1, P, pct), reading(1, S, 3 * PCT)])))
    assert off["protocol_verdict"][0] == "mismatch"  # off by one wei at ~1e77: a float would miss it


def test_injected_mismatch_is_flagged() -> None:
    trades = pd.DataFrame([trade(5, 0, 0, 10**18), trade(6, 0, 0, 10**18, protocol=4 * PCT)])
    out = check_trades(trades, rate_timeline(None, None, BASE))
    assert list(out["protocol_verdict"]) == ["ok", "mismatch"]
    assert list(out["subject_verdict"]) == ["ok", "ok"] and out["verdict"][1] == "mismatch"


def test_block_precision_change_makes_its_range_unknown() -> None:
    changes = pd.DataFrame([change(20, 22, P, 3 * PCT, 6 * PCT, "range")])
    readings = pd.concat([BASE, pd.DataFrame([reading(21, P, 3 * PCT)])])  # inside the range: not trusted
    trades = pd.DataFrame([trade(19, 0, 0, 10**18), trade(20, 0, 0, 10**18), trade(22, 4, 1, 10**18, pct=6 * PCT),
                           trade(23, 0, 0, 10**18, pct=6 * PCT)])
    out = check_trades(trades, rate_timeline(None, changes, readings))
    assert list(out["protocol_verdict"]) == ["ok", "unknown-rate", "unknown-rate", "ok"]
    assert list(out["subject_verdict"]) == ["ok"] * 4


def test_tx_change_without_event_is_unknown_only_inside_its_tx() -> None:
    changes = pd.DataFrame([change(10, 10, P, 3 * PCT, 4 * PCT, "tx", tx_index=2)])
    trades = pd.DataFrame([trade(10, 1, 0, 10**18), trade(10, 2, 9, 10**18, pct=4 * PCT),
                           trade(10, 3, 0, 10**18, pct=4 * PCT)])
    out = check_trades(trades, rate_timeline(None, changes, None))  # before: the change's old value
    assert list(out["protocol_verdict"]) == ["ok", "unknown-rate", "ok"]
    assert out["protocol_rate_source"][0].startswith("old of")


def test_event_takes_precedence_over_its_fee_change_row() -> None:
    events = pd.DataFrame([event(10, 2, 5, P, 4 * PCT)])
    changes = pd.DataFrame([change(10, 10, P, 3 * PCT, 4 * PCT, "tx", tx_index=2)])
    steps = rate_timeline(events, changes, None)[(56, M.lower(), P)]
    assert len(steps) == 1 and steps[0].old == 3 * PCT
    assert rate_at(steps, (10, 2, 4)) == (3 * PCT, "old of event@10:2:5")


def test_no_rate_known_is_unknown() -> None:
    out = check_trades(pd.DataFrame([trade(5, 0, 0, 10**18)]), rate_timeline(None, None, None))
    assert out["verdict"][0] == "unknown-rate" and out["protocol_expected"][0] is None


def test_after_hike_lists_trades_within_n_blocks() -> None:
    events = pd.DataFrame([event(10, 0, 0, P, 5 * PCT), event(30, 0, 0, P, 2 * PCT)])
    trades = pd.DataFrame([trade(9, 0, 0, 1), trade(10, 1, 0, 1), trade(13, 0, 0, 1), trade(14, 0, 0, 1),
                           trade(31, 0, 0, 1)])
    out = after_hike(trades, rate_timeline(events, None, BASE), n_blocks=3)
    assert list(out["block_number"]) == [10, 13] and list(out["blocks_since"]) == [0, 3]
    assert set(out["hike"]) == {str(2 * PCT)} and set(out["field"]) == {P}


def test_history_gives_the_rate_before_the_first_event() -> None:
    events = pd.DataFrame([event(20, 0, 0, P, 4 * PCT)])
    trades = pd.DataFrame([trade(10, 0, 0, 10**18), trade(21, 0, 0, 10**18, pct=4 * PCT)])
    timeline = rate_timeline(events, None, None)
    assert needs_history(trades, timeline) == {(56, M.lower()): 10}
    out = check_trades(trades, with_history(timeline, (56, M.lower()), 9, {P: 3 * PCT, S: 3 * PCT}))
    assert list(out["verdict"]) == ["ok", "ok"] and out["protocol_rate_source"][0] == "history@9"
    assert out["subject_rate_source"][1] == "history@9"  # no subject step at all: the history rate holds
    assert needs_history(trades, with_history(timeline, (56, M.lower()), 9, {P: 3 * PCT, S: 3 * PCT})) == {}


def test_history_contradicted_or_unconfirmed_stays_unknown() -> None:
    trades = pd.DataFrame([trade(10, 0, 0, 10**18)])
    later = pd.DataFrame([reading(30, P, 5 * PCT), reading(30, S, 3 * PCT)])
    timeline = with_history(rate_timeline(None, None, later), (56, M.lower()), 9, {P: 3 * PCT, S: 3 * PCT},
                            events_complete=False)
    out = check_trades(trades, timeline)
    assert (out["protocol_verdict"][0], out["subject_verdict"][0]) == ("unknown-rate", "ok")
    assert "not located" in out["protocol_rate_source"][0]
    bare = with_history(rate_timeline(None, None, None), (56, M.lower()), 9, {P: 3 * PCT, S: 3 * PCT},
                        events_complete=False)
    assert "no later reading confirms it" in check_trades(trades, bare)["protocol_rate_source"][0]


def test_history_unavailable_says_why() -> None:
    trades = pd.DataFrame([trade(10, 0, 0, 10**18)])
    timeline = with_history({}, (56, M.lower()), 9, None, "the node keeps state only for the last 128 blocks")
    out = check_trades(trades, timeline)
    assert out["verdict"][0] == "unknown-rate"
    assert out["protocol_rate_source"][0] == ("unknown: no rate known before the first step "
                                              "(the node keeps state only for the last 128 blocks)")


# ---- the shared devnet ----

def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _with_history(cfg: Any, trades: pd.DataFrame, timeline: dict[Any, Any]) -> dict[Any, Any]:
    """The product's path: each market's rates read from the node's state before its first trade (anvil keeps it)."""
    from collectors.fee_history import rates_at

    markets = {(cfg.networks[c.network].chain_id, c.address.lower()): c for c in cfg.contracts
               if c.kind.endswith("market")}
    for (chain_id, address), first in needs_history(trades, timeline).items():
        c = markets[(chain_id, address)]
        past = rates_at(cfg, c.network, c.address, c.kind, first - 1)
        assert past.rates is not None, past.reason
        timeline = with_history(timeline, (chain_id, address), past.block, past.rates,
                                events_complete=c.kind == "twinfun_market")
    return timeline


def _truth_changes(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The eventless markets' fee changes from the ground truth, at block precision (what state bisection finds)."""
    rows = [{"chain_id": r["chain_id"], "address": r["intent"]["market"], "field": r["intent"]["field"],
             "old": str(r["intent"]["old"]), "new": str(r["intent"]["new"]), "block_number": r["block"],
             "block_from": r["block"], "tx_index": None, "precision": "block"}
            for r in records if r["kind"] == "fee_set" and not r["intent"]["emits_event"]]
    return pd.DataFrame(rows)


def _truth_rates(records: list[dict[str, Any]], trades: pd.DataFrame) -> dict[tuple[int, str, int], dict[str, Any]]:
    """(chain_id, tx_hash, log_index) of each intended trade -> its intent (k-th Trade log of its tx by trade_index)."""
    logs: dict[tuple[int, str], list[int]] = {}
    for t in trades.itertuples():
        logs.setdefault((int(str(t.chain_id)), str(t.tx_hash)), []).append(int(str(t.log_index)))
    out = {}
    for r in records:
        if r["kind"] in ("trade", "batch_trade", "twin_create"):
            ordered = sorted(logs.get((r["chain_id"], r["tx"]), []))
            k = int(r["intent"].get("trade_index", 0))
            if k < len(ordered):
                out[(r["chain_id"], r["tx"], ordered[k])] = r["intent"]
    return out


@pytest.mark.devnet
def test_devnet_charged_fees_match_the_ground_truth(devnet_world, devnet_snapshot: Path, tmp_path: Path) -> None:
    from devnet import truth
    from tests.engine_helpers import backfill, world_config

    path = tmp_path / "c.duckdb"
    cfg = world_config(devnet_world, path)
    backfill(cfg, path)
    con = duckdb.connect(str(path), read_only=True)
    trades = _frame(con, "SELECT * FROM trades")
    events = _frame(con, "SELECT * FROM market_events")
    con.close()
    records = list(truth.read(devnet_snapshot / "truth.jsonl"))
    timeline = _with_history(cfg, trades, rate_timeline(events, _truth_changes(records), None))
    out = check_trades(trades, timeline)
    counts = Counter(out["verdict"])
    print("checked", len(out), dict(counts), "after 3-block hikes:", len(after_hike(trades, timeline, 3)))
    assert len(out) == len(trades) > 1000
    assert counts["mismatch"] == 0 and counts["unknown-rate"] == 0

    intents = _truth_rates(records, trades)
    emitting = {e.lower() for e in events["address"]}
    checked = batch = 0
    for row in out.itertuples():
        intent = intents.get((int(str(row.chain_id)), str(row.tx_hash), int(str(row.log_index))))
        if intent is None or str(row.address).lower() not in emitting:
            continue
        assert row.verdict == ("n/a" if row.eth_amount == "0" else "ok"), row  # a zero price charges nothing
        assert (row.protocol_rate, row.subject_rate) == (str(int(intent["protocol_fee_percent"])),
                                                        str(int(intent["subject_fee_percent"]))), row
        checked += 1
        batch += intent.get("path") == "batcher"
    assert batch == 2 and checked > 500  # the Batcher tx: trade, fee change, trade in one transaction
