"""The "Fee actually charged" section on a market with hundreds of mismatched trades (a seeded store):
the page draws the first rows with a count and leaves the rest to the CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bench.seed_store import seed
from ogwatch.ui.fees_charged import SHOWN_ROWS, charged_summary
from tests.conftest import ROOT, dashboard_on, write_config
from tests.engine_helpers import read_rows

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from ogwatch.ui.fees_charged import render_charged
render_charged({chain_id}, {address!r}, 3)
"""


def test_a_large_mismatch_table_shows_its_first_rows_and_the_count(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seed(tmp_path / "ogwatch.duckdb", 0.05, 7, show=False)
    ((chain_id, address),) = read_rows(tmp_path / "ogwatch.duckdb", "SELECT chain_id, address FROM trades "
                                       "GROUP BY ALL ORDER BY count(*) DESC LIMIT 1")
    with dashboard_on(write_config(tmp_path), monkeypatch):
        summary, checked, _ = charged_summary(chain_id, address)
        assert summary["mismatch"] > SHOWN_ROWS  # the seeded rates do not match the seeded amounts
        at = AppTest.from_string(SCRIPT.format(root=str(ROOT), chain_id=chain_id, address=address),
                                 default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error][0].startswith(f"{summary['mismatch']} of {summary['trades']} trades")
    assert f"The first {SHOWN_ROWS} of {summary['mismatch']} mismatched trades" in " ".join(c.value for c in at.caption)
    table = at.dataframe[0].value
    assert len(table) == SHOWN_ROWS
    wrong = checked[checked["verdict"] == "mismatch"]
    assert list(table["tx_hash"]) == list(wrong["tx_hash"].head(SHOWN_ROWS))
