"""The Settlements page (AppTest) on the shared devnet's settlements, indexed and blob-checked into a store.

Values shown are held against the simulator's ground truth (lags, sizes, the tampered batch), not against
ogwatch's own queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ogwatch.ui import settlements_data as sd
from store.db import Store
from tests.conftest import ROOT
from tests.test_settlement_devnet import index_settlements, settled_total, truth_of

PAGE = str(ROOT / "pages" / "settlements.py")


def _config(world: Any, store: Path, walrus_url: str | None) -> str:
    text = world.config_toml(str(store))
    if walrus_url:
        head = "[networks.og_evm]\n"
        assert head in text
        text = text.replace(head, f'{head}walrus_aggregator_url = "{walrus_url}"\n')
    return text


@pytest.fixture(scope="module")
def indexed(devnet_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the OG EVM settlements and their blob checks; returns its folder."""
    tmp = tmp_path_factory.mktemp("settlement_page")
    index_settlements(devnet_world, tmp, devnet_world.walrus.url)
    return tmp


def _use(monkeypatch: pytest.MonkeyPatch, path: Path, text: str) -> None:
    path.write_text(text)
    monkeypatch.setenv("OGWATCH_CONFIG", str(path))
    monkeypatch.chdir(ROOT)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _run() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["f_window"] = "all"  # the snapshot's chain time may be older than the default window
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.devnet
def test_page_shows_truth(devnet_world: Any, devnet_snapshot: Path, indexed: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    truth = truth_of(devnet_snapshot)
    lags = [r["intent"]["lag"] for r in truth["settlement_individual"]] + [
        lag for r in truth["settlement_batch"] if not r["intent"]["tampered"] for lag in r["intent"]["lags"]]
    _use(monkeypatch, indexed / "with_walrus.toml",
         _config(devnet_world, indexed / "ogwatch.duckdb", devnet_world.walrus.url))
    at = _run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Settled inferences"] == f"{settled_total(truth):,}"
    helps = {m.label: m.help for m in at.metric}
    assert helps["Settled inferences"] == f"in {sum(len(v) for v in truth.values())} settlements"
    assert metrics["Lag p50"] == sd.duration(float(np.percentile(lags, 50)))
    assert metrics["Lag p95"] == sd.duration(float(np.percentile(lags, 95)))
    assert metrics["Lag max"] == sd.duration(max(lags)) == "50.0 min"
    text = " ".join(m.value for m in at.markdown)
    assert "4 of 5 batches checked (80 %): 3 verified, 1 mismatch, 1 unavailable, 0 not checked yet" in text
    assert len(at.get("plotly_chart")) == 3
    assert any("1 batch(es)" in e.value for e in at.error)
    checks = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    tampered = next(r for r in truth["settlement_batch"] if r["intent"]["tampered"])
    by_block = dict(zip(checks["block_number"], checks["status"], strict=True))
    assert by_block[tampered["block"]] == "mismatch"
    assert sorted(by_block.values()) == ["mismatch", "unavailable", "verified", "verified", "verified"]
    assert not any("Blob check off" in i.value for i in at.info)


@pytest.mark.devnet
def test_page_says_when_blob_check_is_off(devnet_world: Any, indexed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, indexed / "plain.toml", _config(devnet_world, indexed / "ogwatch.duckdb", None))
    at = _run()
    assert any("Blob check off for og_evm" in i.value for i in at.info)


@pytest.mark.devnet
def test_page_empty_state(devnet_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Store(tmp_path / "ogwatch.duckdb", serve=False).close()
    _use(monkeypatch, tmp_path / "config.toml", _config(devnet_world, tmp_path / "ogwatch.duckdb", None))
    at = _run()
    assert any("No settlements indexed yet" in i.value for i in at.info)
    assert not at.metric or "Settled inferences" not in {m.label for m in at.metric}


def test_data_helpers() -> None:
    assert [sd.duration(v) for v in (None, 5, 119, 900, 3000, 7200, 200000, -3)] == [
        "n/a", "5 s", "119 s", "15.0 min", "50.0 min", "2.0 h", "2.3 d", "-3 s"]
    cov = pd.DataFrame([{"batches": 4, "checked": 2, "verified": 1, "mismatch": 1, "unavailable": 1, "unchecked": 1}])
    assert sd.coverage_text(cov) == ("2 of 4 batches checked (50 %): 1 verified, 1 mismatch, 1 unavailable, "
                                     "1 not checked yet")
    assert sd.coverage_text(pd.DataFrame()) == "no batch settlements yet"
    summary = pd.DataFrame([
        {"settlements": 2, "settled_inferences": 21, "blobs_verified": 1, "blobs_mismatch": 0, "blobs_unavailable": 0,
         "lag_p50_s": 10.0, "lag_p95_s": 20.0, "lag_max_s": 30, "last_settlement_ts": pd.Timestamp(1, unit="s")},
        {"settlements": 1, "settled_inferences": 1, "blobs_verified": 0, "blobs_mismatch": 0, "blobs_unavailable": 1,
         "lag_p50_s": 40.0, "lag_p95_s": 50.0, "lag_max_s": 60, "last_settlement_ts": pd.Timestamp(2, unit="s")}])
    t = sd.totals(summary)
    assert (t["settlements"], t["settled_inferences"], t["lag_max_s"], t["blobs_unavailable"]) == (3, 22, 60, 1)
    assert sd.headline(t).startswith("22 inferences settled in 3 settlements; lag p50 40 s")
