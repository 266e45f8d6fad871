"""A market's first reading compared with its state at creation (`from_creation`), against the ground truth.

One fresh world; before ogwatch reads anything, the scenario sets the event-less markets' initial fees, changes
a BSC fee and a friend.tech fee, and sets and undoes a fee (A->B->A). A collector without `from_creation` finds
nothing at its first reading (the changes are before it). With it, every level finds what the truth's
`expected` states for the interval from each market's creation to the first reading: a full node every change
at its tx, a node without traces every change not undone at its block, a node keeping 3 blocks of state only
the changes inside its window, saying that older ones were not checked.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from collectors.fee_state import FeeStateCollector
from collectors.pool import RpcPool
from devnet import world
from devnet.faultproxy import FaultProxy
from devnet.scenario_markets import MarketScenario
from devnet.truth import Truth, read
from store.db import Store
from tests.fee_truth import CHAINS, LEVELS, PCT, Level, expected, markets, row_key, table_rows

pytestmark = pytest.mark.devnet

BY_NAME = {lv.name: lv for lv in LEVELS}
CHECKED = ("full", "no_traces", "no_traces_window_3")


def _first_reading(w: world.World, level: Level, path: Path, from_creation: bool) -> list[dict[str, Any]]:
    """One first tick on every market chain through the level's proxies; the rows it found."""
    proxies = {key: FaultProxy(w.chains[key].url, level.faults).start() for key in CHAINS}
    try:
        with Store(path, serve=False) as store:
            found = []
            for key, proxy in proxies.items():
                col = FeeStateCollector(store, RpcPool([proxy.url]), w.chains[key].chain_id, markets(w, key),
                                        confirmations=0, from_creation=from_creation)
                found += col.tick()
    finally:
        for p in proxies.values():
            p.stop()
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every checked level's first reading of one world, plus a first reading without from_creation."""
    tmp = tmp_path_factory.mktemp("fee_origin")
    w = world.start()
    try:
        truth = Truth(tmp / "truth.jsonl")
        sc = MarketScenario(w.chains, w.dep, truth, random.Random(17))
        sc.setup()  # the event-less markets' initial fees: setter changes before any reading
        sc.set_direct(sc.markets["twin_eoa"], "protocolFeePercent", 4 * PCT)
        sc.set_and_undo(sc.markets["twin_eoa"], "subjectFeePercent", 4 * PCT)  # back at the creation value
        sc.set_direct(sc.markets["friendtech"], "protocolFeePercent", 7 * PCT)
        truth.close()
        out: dict[str, Any] = {"plain": _first_reading(w, BY_NAME["no_traces"], tmp / "plain.duckdb", False)}
        for name in CHECKED:
            path = tmp / f"{name}.duckdb"
            found = _first_reading(w, BY_NAME[name], path, True)
            out[name] = {"found": found, "truth": list(read(tmp / "truth.jsonl")),
                         "rows": table_rows(path, "fee_changes"), "coverage": table_rows(path, "fee_watch_coverage")}
    finally:
        w.stop()
    return out


def test_without_from_creation_the_first_reading_finds_nothing(runs: dict[str, Any]) -> None:
    assert runs["plain"] == []


@pytest.mark.parametrize("name", CHECKED)
def test_first_reading_finds_the_truth_s_changes_since_creation(runs: dict[str, Any], name: str) -> None:
    level = BY_NAME[name]
    run = runs[name]
    rows, coverage = run["rows"], run["coverage"]
    got = [row_key(r) for r in rows]
    assert len(got) == len(set(got)) and set(got) == {row_key(r) for r in run["found"]}
    assert set(got) == expected(level, run["truth"], coverage)
    changes = [r for r in run["truth"] if r["kind"] in ("fee_set", "fee_destination_set") and r["status"] == 1]
    assert len(changes) == 10 and len(coverage) == len(CHAINS)
    assert all("first reading compared with each market's state at" in c["note"] for c in coverage)
    undone = {r["tx"] for r in changes if r["intent"]["undo"]}
    assert len(undone) == 2
    if level.traces:  # every change at its transaction, the A->B->A pair included
        assert {r["tx_hash"] for r in rows} == {r["tx"] for r in changes}
    elif level.window is None:  # every change not undone, at its block
        assert {(r["chain_id"], r["block_number"], r["precision"]) for r in rows} == \
            {(r["chain_id"], r["block"], "block") for r in changes if r["tx"] not in undone}
    else:  # only inside the window; the markets created before it are said to be unchecked
        assert rows and {r["precision"] for r in rows} == {"block"}
        assert len(rows) < len(changes) - len(undone)
        assert all("older than the node's state window: changes before block" in c["note"] for c in coverage)


def test_the_network_switch_reaches_the_fee_jobs(devnet_world, tmp_path: Path) -> None:
    """`fee_history_from_creation` in a network's config turns `from_creation` on for that network only."""
    import tomllib

    from collectors import runner
    from ogwatch.config import parse

    raw = tomllib.loads(devnet_world.config_toml(str(tmp_path / "s.duckdb")))
    raw["networks"]["bsc"]["fee_history_from_creation"] = True
    cfg = parse(raw)
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        jobs = runner.fee_jobs(cfg, store, runner.pools(cfg, list(cfg.networks)))
    assert {j.network: j.state.from_creation for j in jobs} == {key: key == "bsc" for key in CHAINS}
