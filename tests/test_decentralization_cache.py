"""The decentralization page's computed frames are cached under the store's data version, and a write invalidates.

A tiny seeded store (bench.seed_store at scale 0.001): the page renders twice and computes its summary and trends
once; a new settlement (a change of `concentration_version`) makes the next render compute again, and the
settled-inference total it shows grows by exactly that settlement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.seed_store import seed
from ogwatch.ui import decentralization_data as dd
from store.db import Reader, Store
from tests.conftest import ROOT, dashboard_on, write_config

NETS = '\n[networks.og_evm]\nname="OpenGradient"\nchain_id=10740\nproduction=true\n'


def test_frames_cached_until_the_data_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "ogwatch.duckdb"
    seed(db, 0.001, 7, show=False)
    calls: list[Any] = []
    original = dd._compute

    def counted(chain_id: int | None) -> dict[str, Any]:
        calls.append(chain_id)
        return original(chain_id)

    monkeypatch.setattr(dd, "_compute", counted)
    with dashboard_on(write_config(tmp_path, extra=NETS), monkeypatch):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["window"] = "all"
        at.run()
        at.switch_page("pages/decentralization.py").run()
        assert not at.exception and len(calls) == 1
        before = Reader(db).query("concentration_version")
        at.run()
        assert not at.exception and len(calls) == 1  # same version: the computed frames come from the cache
        cov_before = dd.computed(None)["summary"]["layers"]["tee_work"]["coverage"]
        assert len(calls) == 1

        with Store(db, serve=False) as store, store.transaction() as cur:
            cur.execute("""INSERT INTO settlements (chain_id, block_number, block_hash, block_ts, tx_hash, tx_index,
                           log_index, address, event, relay_version, tee_id)
                           VALUES (10740, 999999999, '0xb', 1, '0xt', 0, 0, '0xrelay', 'IndividualSettlement', 2,
                                   'never-registered')""")
        after = Reader(db).query("concentration_version")
        assert int(after["settlement_rows"].iloc[0]) == int(before["settlement_rows"].iloc[0]) + 1
        st.cache_data.clear()  # the version query itself is cached for a few seconds, like every named query
        at.run()
        assert not at.exception and len(calls) == 2
        work = dd.computed(None)["summary"]["layers"]["tee_work"]
        assert len(calls) == 2
        assert work["coverage"]["settled"] == cov_before["settled"] + 1
        assert work["coverage"]["attributable"] == cov_before["attributable"] + 1
        assert {"identifier": "unregistered TEE never-registered", "weight": 1.0}.items() <= next(
            r for r in work["per_identifier"]["rows"] if r["identifier"] == "unregistered TEE never-registered").items()
