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
from tests.conftest import ROOT
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
    monkeypatch.setenv("OGWATCH_CONFIG", str(config_path))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield {"store": store_path, "tmp": tmp_path}
    st.cache_data.clear()
    st.cache_resource.clear()

NO_RATE = "unknown: no rate known before the first step"


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
    # Backfill alone has no fee reading, so a fee's rate is unknown before that fee's first setter event;
    # that is the only allowed reason, and every other priced trade must check out exactly.
    _, checked, _ = charged_summary(56, address, 3)
    unknown = checked[checked["verdict"] == "unknown-rate"]
    for prefix in ("protocol", "subject"):
        sources = unknown.loc[unknown[f"{prefix}_verdict"] == "unknown-rate", f"{prefix}_rate_source"]
        assert set(sources) <= {NO_RATE}, unknown
    assert metrics["unknown-rate"] == str(len(unknown))
    assert metrics["ok"] == str(priced - len(unknown)), metrics
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
