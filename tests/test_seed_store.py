"""The store seeder at a tiny scale: exact row counts per table, and every page renders its numbers on it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.seed_sql import Plan
from bench.seed_store import main, seed
from tests.conftest import ROOT, write_config
from tests.engine_helpers import read_count

SCALE, SEED = 0.001, 7
PAGES = sorted(re.findall(r'st\.Page\("(pages/\w+\.py)"', (ROOT / "app.py").read_text()))
NETS = ('\n[networks.bsc]\nname="BNB Smart Chain"\nchain_id=56\n'
        '\n[networks.og_evm]\nname="OpenGradient"\nchain_id=10740\nproduction=true\n')


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    d = tmp_path_factory.mktemp("seeded")
    written = seed(d / "ogwatch.duckdb", SCALE, SEED, show=False)
    return d, written


def test_row_counts_are_the_plan(seeded) -> None:
    d, written = seeded
    plan = Plan.at(SCALE, SEED, 0)
    assert written == plan.counts()
    assert written["trades"] == 1000 and written["inferences"] == 1000
    store = d / "ogwatch.duckdb"
    assert read_count(store, "SELECT count(DISTINCT address) FROM trades") == plan.markets
    assert read_count(store, "SELECT count(DISTINCT twin_id) FROM trades") == plan.twins
    assert read_count(store, "SELECT count(*) FROM inference_calls c JOIN inferences i USING "
                         "(chain_id, block_number, log_index)") == plan.inferences


def test_same_seed_same_rows(tmp_path) -> None:
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    sums = []
    for name in ("a", "b"):
        seed(tmp_path / f"{name}.duckdb", SCALE, SEED, anchor, show=False)
        sums.append(read_count(tmp_path / f"{name}.duckdb",
                           "SELECT sum(hash(trader, twin_id, eth_amount))::HUGEINT % 1000000007 FROM trades"))
    assert sums[0] == sums[1]


def test_cli_refuses_an_existing_file(tmp_path, capsys) -> None:
    (tmp_path / "x.duckdb").write_text("")
    assert main(["--out", str(tmp_path / "x.duckdb")]) == 2
    assert "exists" in capsys.readouterr().err


@pytest.fixture(scope="module")
def rendered(seeded) -> dict[str, dict[str, str]]:
    """Every page rendered once in one AppTest session on the seeded store: page -> metric label -> value."""
    d, _ = seeded
    mp = pytest.MonkeyPatch()
    mp.setenv("OGWATCH_CONFIG", str(write_config(d, extra=NETS)))
    mp.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["window"] = "all"
        at.run()
        out = {}
        for page in PAGES:
            at.switch_page(page).run()
            assert not at.exception, (page, at.exception)
            out[page] = {m.label: m.value for m in at.metric}
        return out
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        mp.undo()


EXPECTED = {  # a number each page shows, from the plan: 1,000 inferences; 25 batches x 8 + 25 individual settled
    "pages/verification.py": ("All inferences (n)", "1,000"),
    "pages/settlements.py": ("Settled inferences", "225"),
    "pages/overview.py": ("Settled inferences", "225"),
    "pages/fees.py": ("Protocol fee", "5 %"),
    "pages/decentralization.py": ("Validator Nakamoto", "12 · 20 · 28"),
    "pages/alerts.py": ("Critical firing", "1"),
    "pages/health.py": ("Last indexed block", "246"),
}


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_seeded_numbers(rendered, page) -> None:
    label, value = EXPECTED[page]
    assert rendered[page][label] == value, rendered[page]
