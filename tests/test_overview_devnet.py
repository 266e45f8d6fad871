"""The Overview page (AppTest) on the session devnet indexed by the real commands, against the ground truth.

The store and the expected values are the browser test's (tests/test_browser.py `shared_index`): the
simulator's truth.jsonl and the devnet contracts' own views; built once per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, dashboard_on
from tests.test_browser import shared_index

pytestmark = pytest.mark.devnet


@pytest.fixture
def indexed(devnet_world: Any, devnet_snapshot: Path, tmp_path_factory: pytest.TempPathFactory,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    info = shared_index(devnet_world, devnet_snapshot, tmp_path_factory)
    with dashboard_on(info["config"], monkeypatch):
        yield info


def _run(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "overview.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_the_truth(indexed: dict[str, Any]) -> None:
    at = _run(network="all", window="all")
    m = {x.label: x.value for x in at.metric}
    assert m["Markets flagged"].endswith(f" of {indexed['markets']}")
    assert m["Vanilla in production"] == m["Vanilla share in production"] == indexed["vanilla_pct"]
    assert m["Settled inferences"] == indexed["settled"]
    assert m["Validators (consensus power) Nakamoto"] == indexed["nakamoto"]
    assert m["Validators Nakamoto (1/3)"] == indexed["nakamoto"].split(" · ")[0]
    text = " ".join(x.value for x in at.markdown)
    assert indexed["vanilla_text"] in text
    eoa = next(x.value for x in at.markdown if indexed["twin_eoa_label"] in x.value)
    assert "no fee ceiling" in eoa and "fee raised recently" in eoa  # the scenario raised twin_eoa's fee
    assert "(/fees?network=all&window=all&market=Twin.fun+market+%28eoa-owned%29)" in eoa


def test_network_filter_changes_the_numbers(indexed: dict[str, Any]) -> None:
    at = _run(network="bsc", window="all")
    m = {x.label: x.value for x in at.metric}
    assert m["Markets flagged"].endswith(f" of {indexed['bsc_markets']}")
    assert m["Production inferences (n)"] == "0"  # no inference runs on BSC
    assert m["Settlement lag p95"] == "n/a" and m["Validators Nakamoto (1/3)"] == "no data"
    assert "(/verification?network=bsc&window=all)" in " ".join(x.value for x in at.markdown)
