"""Fee watch from state against the devnet's ground truth, at each level of node capability.

Each level runs on a fresh world behind fault proxies that filter what the nodes can do: a first reading
after deployment; a fee set and undone between two readings (A->B->A); the whole market scenario (every
path of change, reverted setters, the upgrade); 200 trades without any change; a tick that finds nothing new.
The precision each level should find comes from the ground truth (every setter record's intent "expected",
devnet/scenario_markets_expect.py); the readings' coverage rows only say which interval holds a change and
how far back the node kept state then.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from collectors import runner
from collectors.engine import Engine
from collectors.fee_state import FeeStateCollector
from collectors.fee_state_read import fee_fields
from collectors.pool import RpcPool
from devnet import world
from devnet.faultproxy import FaultProxy, Faults
from devnet.scenario_markets import MarketScenario
from devnet.truth import Truth, read
from store.db import Store
from tests.engine_helpers import world_config
from tests.fee_truth import (
    CHAINS,
    LEVELS,
    PCT,
    REVERTED_KINDS,
    Level,
    changes,
    expected,
    markets,
    norm,
    row_key,
    table_rows,
    word,
)

pytestmark = pytest.mark.devnet

@dataclass
class Run:
    """What one level produced."""

    truth: list[dict[str, Any]]
    aba: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    busy: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    again: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts_before_again: tuple[int, ...] = ()
    counts_after_again: tuple[int, ...] = ()


def _counts(store: Store) -> tuple[int, ...]:
    out = []
    for table in ("market_state", "fee_changes", "fee_watch_coverage"):
        row = store.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
        out.append(int(row[0]) if row else 0)
    return tuple(out)


class Rig:
    """A fresh world, one proxy and one fee-state collector per market chain, optionally the log engine."""

    def __init__(self, level: Level, tmp: Path):
        self.level, self.path = level, tmp / "ogwatch.duckdb"
        self.w = world.start()
        self.proxies: dict[str, FaultProxy] = {}
        for key in CHAINS:
            for _ in range(6):  # a few blocks, so that a small state window is detectable from the start
                self.w.chains[key].rpc("evm_mine")
            self.proxies[key] = FaultProxy(self.w.chains[key].url, level.faults).start()
        self.store = Store(self.path, serve=False)
        self.collectors = {key: FeeStateCollector(self.store, RpcPool([p.url]), self.w.chains[key].chain_id,
                                                  markets(self.w, key), confirmations=0)
                           for key, p in self.proxies.items()}
        self.engines: list[Engine] = []
        if level.events:
            cfg = world_config(self.w, self.path, urls={k: p.url for k, p in self.proxies.items()})
            self.engines = runner.engines(cfg, self.store, networks=list(CHAINS), sources=["fees"])

    def tick(self) -> dict[str, list[dict[str, Any]]]:
        """Index setter events first (event level), then one fee-state tick per chain."""
        for e in self.engines:
            while e.tick().spans:
                pass
        return {key: c.tick() for key, c in self.collectors.items()}

    def close(self) -> None:
        """Stop everything this rig started."""
        self.store.close()
        for p in self.proxies.values():
            p.stop()
        self.w.stop()


def _play(level: Level, tmp: Path) -> Run:
    rig = Rig(level, tmp)
    try:
        truth = Truth(tmp / "truth.jsonl")
        rig.tick()  # the first reading after deployment
        sc = MarketScenario(rig.w.chains, rig.w.dep, truth, random.Random(11))
        eoa, docs = sc.markets["twin_eoa"], sc.markets["twin_docs"]
        aba_from = truth.count
        for m, there in ((eoa, 45 * PCT // 10), (docs, 1 * PCT)):  # A->B->A within one tick
            sc.set_and_undo(m, "protocolFeePercent", there)
        aba_to = truth.count
        rig.tick()
        sc.setup()
        sc.scripted()
        sc.set_direct(eoa, "subjectFeePercent", 25 * PCT // 10)  # a change right before the reading
        rig.tick()
        sc.bulk_trades(200)
        run = Run([], [], [], [], busy=rig.tick())
        run.counts_before_again = _counts(rig.store)
        run.again = rig.tick()
        run.counts_after_again = _counts(rig.store)
        truth.close()
    finally:
        rig.close()
    records = list(read(tmp / "truth.jsonl"))
    run.truth, run.aba = records, records[aba_from:aba_to]
    run.rows, run.coverage = table_rows(rig.path, "fee_changes"), table_rows(rig.path, "fee_watch_coverage")
    return run


@pytest.fixture(scope="module", params=LEVELS, ids=[lv.name for lv in LEVELS])
def played(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Level, Run]]:
    """Each level played once on its own fresh world."""
    level: Level = request.param
    yield level, _play(level, tmp_path_factory.mktemp(level.name))


# ---- the tests ---------------------------------------------------------------------------------------------

def test_every_change_found_with_the_level_s_precision(played: tuple[Level, Run]) -> None:
    level, run = played
    got = [row_key(r) for r in run.rows]
    assert len(got) == len(set(got))
    want = expected(level, run.truth, run.coverage)
    assert set(got) == want
    precisions = {r["precision"] for r in run.rows}
    if level.traces:
        assert precisions == {"tx"}
    elif level.window == 3:
        assert {"range", "block"} <= precisions
    elif not level.events:
        assert precisions == {"block"}  # the devnet's chains are shorter than a 128-block window


def test_tx_precision_names_the_transaction_and_its_path(played: tuple[Level, Run]) -> None:
    level, run = played
    by_tx = {(c.market, c.field, c.tx): c for c in changes(run.truth)}
    exact = [r for r in run.rows if r["precision"] == "tx"]
    tx_in_truth = {c.tx for c in changes(run.truth) if word(level, c.expected, undone=False, beyond=False) == "tx"}
    assert bool(exact) == bool(tx_in_truth) == (level.traces or level.events)
    assert {r["tx_hash"] for r in exact} == tx_in_truth
    for r in exact:
        c = by_tx[(r["address"], r["field"], r["tx_hash"])]
        assert r["block_number"] == r["block_from"] == c.block
        assert r["detected_by"] == ("state+trace" if level.traces else "event")
        assert r["sender"] == c.actor
        if c.path == "direct":
            assert (r["path"], r["tx_to"]) == ("direct", c.market)
        else:
            assert (r["path"], r["tx_to"]) == ("via-contract", c.via)
        if level.traces:
            assert r["caller"] == (c.via or c.actor)
    paths = {r["path"] for r in exact}
    assert paths == ({"direct", "via-contract"} if level.traces or level.events else set())


def test_block_precision_suggests_the_transaction(played: tuple[Level, Run]) -> None:
    level, run = played
    by_block = {(c.market, c.field, c.block): c for c in changes(run.truth)}
    for r in (r for r in run.rows if r["precision"] == "block"):
        c = by_block[(r["address"], r["field"], r["block_number"])]
        assert r["tx_hash"] is None and r["detected_by"] == "state+history" and r["block_from"] == r["block_number"]
        assert c.tx in r["note"] and "not proven without traces" in r["note"]
        assert r["sender"] == c.actor
        assert (r["path"], r["tx_to"]) == (("direct", c.market) if c.path == "direct" else ("via-contract", c.via))


def test_range_precision_says_why(played: tuple[Level, Run]) -> None:
    level, run = played
    ranges = [r for r in run.rows if r["precision"] == "range"]
    assert bool(ranges) == (level.window == 3)
    for r in ranges:
        assert r["tx_hash"] is None and r["path"] == "unknown" and r["block_from"] < r["block_number"]
        assert "older than the node's 3-block state window" in r["note"]
    windowed = [c for c in run.coverage if c["state_from"] is not None and c["state_from"] > c["block_from"]]
    assert all("3-block state window" in c["note"] for c in windowed)


def test_a_change_undone_within_a_tick(played: tuple[Level, Run]) -> None:
    level, run = played
    assert [r["intent"]["market_name"] for r in run.aba] == ["twin_eoa"] * 2 + ["twin_docs"] * 2
    assert [r["intent"]["undo"] for r in run.aba] == ["there", "back"] * 2
    assert [r["intent"]["undoes"] for r in run.aba[1::2]] == [r["tx"] for r in run.aba[::2]]
    found = {r["tx_hash"] for r in run.rows}
    for rec in run.aba:
        w = word(level, rec["intent"]["expected"], undone=True, beyond=False)
        assert w == ("tx" if level.traces or (level.events and rec["intent"]["emits_event"]) else "invisible")
        assert (rec["tx"] in found) == (w == "tx"), rec["intent"]
        cov = next(c for c in run.coverage if c["chain_id"] == rec["chain_id"]
                   and c["block_from"] <= rec["block"] <= c["block_number"])
        if level.traces:
            assert "every setter call into the markets checked in traces" in cov["note"]
        else:
            assert "no traces: a change undone before the next reading (A->B->A) cannot be seen" in cov["note"]
            assert ("except where setter events show it" in cov["note"]) == level.events


def test_reverted_setters_change_nothing(played: tuple[Level, Run]) -> None:
    level, run = played
    reverted = [r for r in run.truth if r["kind"] in REVERTED_KINDS]
    assert {r["kind"] for r in reverted} == REVERTED_KINDS
    assert {r["status"] for r in reverted if r["kind"] == "setter_reverted"} == {0}
    for rec in reverted:
        i = rec["intent"]
        assert {word(level, i["expected"], undone=u, beyond=b) for u in (False, True) for b in (False, True)} \
            == {"never"}, "the truth states: never a change"
        attempted = norm(i["field"], i["attempted"])
        assert not [r for r in run.rows if r["address"] == i["market"] and r["field"] == i["field"]
                    and (r["new"] == attempted or r["tx_hash"] == rec["tx"] or r["block_number"] == rec["block"])]


def test_busy_range_without_changes_and_idempotence(played: tuple[Level, Run]) -> None:
    _level, run = played
    assert set(run.busy) == set(CHAINS) and all(v == [] for v in run.busy.values())
    busy_ticks = [c for c in run.coverage if c["block_from"] < c["block_number"] and not any(
        c["block_from"] <= ch.block <= c["block_number"] for ch in changes(run.truth) if ch.chain_id == c["chain_id"])]
    assert busy_ticks, "the 200 trades were read in a tick of their own"
    assert all(v == [] for v in run.again.values())
    assert run.counts_after_again == run.counts_before_again


def test_fields_read_per_variant() -> None:
    assert fee_fields("twinfun_market")[-1] == "minSharesToCreate"
    assert "minSharesToCreate" not in fee_fields("twinfun_docs_market") + fee_fields("friendtech_market")


def test_a_node_that_refuses_more_than_it_claims(tmp_path: Path) -> None:
    """Capabilities claim traces and all history; the node has neither: the tick degrades and says why."""
    w = world.start()
    proxy = FaultProxy(w.chains["bsc"].url, Faults(hide_traces=True, state_window=3)).start()
    try:
        with Store(tmp_path / "ogwatch.duckdb", serve=False) as store:
            pool = RpcPool([proxy.url])
            pool.capabilities = {"traces": True, "debug_trace": True, "state_depth": None, "max_batch": 100,
                                 "block_timestamps_in_logs": False}
            col = FeeStateCollector(store, pool, w.chains["bsc"].chain_id, markets(w, "bsc"), confirmations=0)
            col.tick()
            sc = MarketScenario(w.chains, w.dep, Truth(tmp_path / "truth.jsonl"), random.Random(5))
            eoa = sc.markets["twin_eoa"]
            old = sc.set_direct(eoa, "protocolFeePercent", 4 * PCT)
            for _ in range(20):
                w.chains["bsc"].rpc("evm_mine")
            recent = sc.set_direct(eoa, "subjectFeePercent", 2 * PCT)  # at the head: inside the real window
            rows = {r["field"]: r for r in col.tick()}
            cov = col.last_coverage
    finally:
        proxy.stop()
        w.stop()
    assert cov is not None and "traces failed" in cov["note"] and "refused state at block" in cov["note"]
    assert set(rows) == {"protocolFeePercent", "subjectFeePercent"}
    far, near = rows["protocolFeePercent"], rows["subjectFeePercent"]
    assert far["precision"] == "range" and far["block_from"] <= old.block_number <= far["block_number"]
    assert "the node refused state at block" in far["note"] and far["block_number"] >= recent.block_number - 4
    assert (near["precision"], near["block_number"]) == ("block", recent.block_number)


def test_waits_for_the_log_engine_s_events(tmp_path: Path) -> None:
    """A reading never runs ahead of the indexed setter events, so events come first whenever they exist."""
    w = world.start()
    try:
        path = tmp_path / "ogwatch.duckdb"
        with Store(path, serve=False) as store:
            engines = runner.engines(world_config(w, path), store, networks=["bsc"], sources=["fees"])
            col = FeeStateCollector(store, RpcPool([w.chains["bsc"].url]), w.chains["bsc"].chain_id,
                                    markets(w, "bsc"), confirmations=0)

            def index() -> None:
                for e in engines:
                    while e.tick().spans:
                        pass

            index()
            col.tick()
            sc = MarketScenario(w.chains, w.dep, Truth(tmp_path / "truth.jsonl"), random.Random(2))
            rec = sc.set_direct(sc.markets["twin_eoa"], "protocolFeePercent", 2 * PCT)
            behind = col.tick()  # the engine has not indexed the change's block yet: the reading waits
            index()
            found = col.tick()
    finally:
        w.stop()
    assert behind == []
    assert [(r["tx_hash"], r["detected_by"], r["precision"], r["path"]) for r in found] == \
        [(rec.tx_hash, "event", "tx", "direct")]
