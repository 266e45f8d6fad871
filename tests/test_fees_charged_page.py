"""The "Fee actually charged" section over the shared devnet, indexed into a temporary store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from devnet import truth
from ogwatch.ui.fees_charged import charged_summary
from tests.conftest import ROOT, dashboard_on
from tests.engine_helpers import backfill, world_config

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from ogwatch.ui.fees_charged import render_charged
render_charged(56, {address!r}, 3)
"""


@pytest.fixture
def indexed(devnet_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The shared world backfilled into a fresh store; the dashboard pointed at it."""
    store_path = tmp_path / "ogwatch.duckdb"
    backfill(world_config(devnet_world, store_path), store_path)
    config_path = tmp_path / "config.toml"
    config_path.write_text(devnet_world.config_toml(str(store_path)))
    with dashboard_on(config_path, monkeypatch):
        yield {"store": store_path, "tmp": tmp_path}

NO_RATE = "unknown: no rate known before the first step"


def _intents(snapshot: Path, market: str) -> dict[str, dict[str, Any]]:
    """tx hash -> intent of every trade on one market in the ground truth (one Trade per tx outside the Batcher)."""
    return {r["tx"]: r["intent"] for r in truth.read(snapshot / "truth.jsonl")
            if r["kind"] in ("trade", "twin_create") and r["intent"]["market_name"] == market}


@pytest.mark.devnet
def test_history_gives_every_rate_on_a_market_without_setter_events(devnet_world: Any, devnet_snapshot: Path,
                                                                    indexed: dict[str, Any]) -> None:
    """twin_locked never emits a setter event: every trade's rate comes from historical state, equal to the truth."""
    address = devnet_world.dep.get("twin_locked").address
    summary, checked, _ = charged_summary(56, address, 3)
    intents = _intents(devnet_snapshot, "twin_locked")
    assert summary["trades"] == len(checked) == len(intents) > 3 and summary["mismatch"] == 0
    (h,) = summary["history"]
    assert h["read"] and h["block"] == min(int(b) for b in checked["block_number"]) - 1
    for row in checked.itertuples():
        want = intents[str(row.tx_hash)]
        assert (row.protocol_rate, row.subject_rate) == (str(int(want["protocol_fee_percent"])),
                                                        str(int(want["subject_fee_percent"])))
        assert row.verdict == ("n/a" if row.eth_amount == "0" else "ok")
        assert (str(row.protocol_rate_source), str(row.subject_rate_source)) == (f"history@{h['block']}",) * 2


@pytest.mark.devnet
def test_history_outside_the_state_window_stays_unknown(devnet_world: Any, indexed: dict[str, Any],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a node keeping 16 blocks of state, the rates before the first known change stay unknown, and why."""
    from devnet.faultproxy import FaultProxy, Faults

    address, bsc = devnet_world.dep.get("twin_locked").address, devnet_world.chains["bsc"]
    proxy = FaultProxy(bsc.url, Faults(hide_traces=True, state_window=16)).start()
    try:
        config_path = indexed["tmp"] / "window.toml"
        config_path.write_text(devnet_world.config_toml(str(indexed["store"])).replace(bsc.url, proxy.url))
        monkeypatch.setenv("OGWATCH_CONFIG", str(config_path))
        st.cache_data.clear()
        summary, checked, _ = charged_summary(56, address, 3)
    finally:
        proxy.stop()
    head = int(bsc.rpc("eth_blockNumber"), 16)
    (h,) = summary["history"]
    assert not h["read"] and h["block"] < head - 16
    assert f"the node keeps state only for the last 16 blocks (head {head:,})" in h["reason"]
    priced = checked[checked["eth_amount"] != "0"]
    assert summary["unknown-rate"] == len(priced) > 0 and summary["ok"] == summary["mismatch"] == 0
    assert set(priced["protocol_rate_source"]) == {f"{NO_RATE} ({h['reason']})"}


def _hike_then_trade(records: list[dict[str, Any]], address: str, trade_blocks: list[int], n_blocks: int) -> bool:
    """Whether the ground truth raises a fee on the market and a trade follows within n_blocks."""
    hikes = [int(r["block"]) for r in records if r["kind"] == "fee_set"
             and str(r["intent"].get("market", "")).lower() == address.lower()
             and int(r["intent"]["new"]) > int(r["intent"]["old"])]
    return any(0 <= t - h <= n_blocks for h in hikes for t in trade_blocks)


@pytest.mark.devnet
def test_charged_section_over_the_devnet(devnet_world: Any, devnet_snapshot: Path, indexed: dict[str, Any]) -> None:
    address = devnet_world.dep.get("twin_eoa").address
    con = duckdb.connect(str(indexed["store"]), read_only=True)
    try:
        rows = con.execute("SELECT block_number, eth_amount FROM trades WHERE chain_id = 56 AND "
                           "lower(address) = lower(?)", [address]).fetchall()
    finally:
        con.close()
    priced = sum(1 for _, eth in rows if int(eth) != 0)
    assert priced > 0

    script = indexed["tmp"] / "charged_app.py"
    script.write_text(SCRIPT.format(root=str(ROOT), address=address))
    at = AppTest.from_file(str(script), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["mismatch"] == "0"
    # Backfill alone has no fee reading: before each fee's first setter event the rate comes from the node's
    # historical state at the block before the market's first trade (anvil keeps all of it), so every priced
    # trade checks out exactly and none is left unknown.
    summary, checked, _ = charged_summary(56, address, 3)
    first = min(int(b) for b, _ in rows)
    assert summary["history"] == [{"address": address.lower(), "block": first - 1, "read": True, "reason": ""}]
    assert metrics["unknown-rate"] == "0" and (checked["verdict"] != "unknown-rate").all()
    assert metrics["ok"] == str(priced), metrics
    assert f"history@{first - 1}" in set(checked["protocol_rate_source"]) | set(checked["subject_rate_source"])
    assert any(f"read from the node's state at block {first - 1}" in c.value for c in at.caption)
    assert any("No mismatches" in s.value for s in at.success)
    assert any("unknown-rate" in c.value and "n/a" in c.value for c in at.caption)
    assert len(at.get("download_button")) == 1

    records = list(truth.read(devnet_snapshot / "truth.jsonl"))
    expect_hike = _hike_then_trade(records, address, [int(b) for b, _ in rows], 3)
    tables = [d.value for d in at.dataframe]
    hike_tables = [t for t in tables if "hike_block" in t.columns]
    assert bool(hike_tables) == expect_hike
    if expect_hike:
        assert (hike_tables[0]["blocks_since"] <= 3).all()
