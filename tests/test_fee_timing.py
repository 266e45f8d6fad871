"""Fee changes from setter events do not depend on when fee passes run relative to log indexing.

The shared devnet is indexed (setter and admin events) and read by the fee jobs on three schedules: all at
once; a first fee pass before anything is indexed, then one mid-way, then one at the end; and passes at
partial indexing stops before, between and after the setter changes. Every schedule must record the same
event-found fee changes, equal to the simulator's successful setter changes of markets that emit events, and
the same admin_events_seen at the end. A pass cut short (kill -9 between its writes) loses nothing either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from eth_utils import to_checksum_address

from collectors import runner
from collectors.engine import Engine
from collectors.fee_control import watched_markets
from collectors.fee_state import FeeStateCollector
from collectors.pool import RpcPool
from collectors.probe import network_urls
from collectors.rpc import RpcError
from devnet.truth import read
from devnet.world import TRUTH_FILE, World
from store.db import Store
from tests.engine_helpers import world_config

pytestmark = pytest.mark.devnet

CHAINS = ["bsc", "base_sepolia", "base"]
SETTER_KINDS = {"fee_set", "fee_destination_set", "min_shares_set"}
NOTHING, FULL = -1, None  # schedule stops: index nothing yet / everything confirmed


def _norm(fld: str, value: Any) -> str:
    return to_checksum_address(value) if fld == "protocolFeeDestination" else str(int(value))


def _truth(snapshot: Path) -> tuple[set[tuple[Any, ...]], list[int]]:
    """(chain, market, field, old, new, block, tx) of every successful setter change the truth expects found at
    tx precision from setter events (intent expected.events), and the blocks of all successful setter changes."""
    want, blocks = set(), []
    for r in read(snapshot / TRUTH_FILE):
        if r["kind"] in SETTER_KINDS and r["status"] == 1:
            i = r["intent"]
            blocks.append(int(r["block"]))
            assert i["expected"]["events"] == ("tx" if i["emits_event"] else "as_state"), i
            if i["expected"]["events"] == "tx":
                want.add((r["chain_id"], i["market"], i["field"], _norm(i["field"], i["old"]),
                          _norm(i["field"], i["new"]), int(r["block"]), r["tx"]))
    return want, sorted(blocks)


def _index(engines: list[Engine], stop: int | None) -> None:
    for e in engines:
        while e.tick(until=stop).spans:
            pass


def _play(w: World, path: Path, schedule: list[int | None]) -> dict[str, Any]:
    """Index up to each stop of the schedule, then run one pass of every fee job; the store's results."""
    cfg = world_config(w, path)
    with Store(path, serve=False) as store:
        shared = runner.pools(cfg, CHAINS)
        engines = runner.engines(cfg, store, networks=CHAINS, sources=["fees"], shared=shared)
        jobs = runner.fee_jobs(cfg, store, shared)
        for stop in schedule:
            if stop != NOTHING:
                _index(engines, stop)
            for job in jobs:
                job.tick()
    con = duckdb.connect(str(path), read_only=True)
    try:
        events = con.execute("SELECT chain_id, address, field, old, new, block_number, tx_hash FROM fee_changes"
                             " WHERE detected_by = 'event'").fetchall()
        rows = con.execute("SELECT chain_id, address, field, old, new, block_number, block_from, tx_hash, tx_index,"
                           " sender, caller, tx_to, path, precision, note FROM fee_changes"
                           " WHERE detected_by = 'event'").fetchall()
        seen = con.execute("SELECT chain_id, address, admin_events_seen FROM market_control"
                           " QUALIFY row_number() OVER (PARTITION BY chain_id, address"
                           " ORDER BY block_number DESC) = 1").fetchall()
        admin = con.execute("SELECT chain_id, address, count(*) FROM admin_events WHERE event IN ('Upgraded',"
                            " 'OwnershipTransferred', 'RoleGranted', 'RoleRevoked', 'RoleAdminChanged')"
                            " GROUP BY ALL").fetchall()
    finally:
        con.close()
    return {"events": set(events), "rows": sorted(rows, key=repr), "n": len(events), "seen": set(seen),
            "admin": {(c, a): n for c, a, n in admin}}


@pytest.fixture(scope="module")
def runs(devnet_world: World, devnet_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    want, blocks = _truth(devnet_snapshot)
    first, mid = blocks[0], blocks[len(blocks) // 2]
    tmp = tmp_path_factory.mktemp("fee_timing")
    schedules: dict[str, list[int | None]] = {
        "all_at_once": [FULL],
        "before_indexing": [NOTHING, mid, FULL],
        "partial": [first - 1, first, mid, FULL, FULL],
    }
    out: dict[str, Any] = {name: _play(devnet_world, tmp / f"{name}.duckdb", s) for name, s in schedules.items()}
    out["want"] = want
    return out


def test_event_changes_match_the_truth_on_every_schedule(runs: dict[str, Any]) -> None:
    want = runs["want"]
    assert len(want) >= 3
    for name in ("all_at_once", "before_indexing", "partial"):
        got = runs[name]
        assert got["n"] == len(got["events"]), name  # no change stored twice
        assert got["events"] == want, name


def test_event_rows_are_identical_whatever_the_schedule(runs: dict[str, Any]) -> None:
    ref = runs["all_at_once"]["rows"]
    assert runs["before_indexing"]["rows"] == ref
    assert runs["partial"]["rows"] == ref
    assert {r[13] for r in ref} == {"tx"} and all(r[9] is not None for r in ref)  # precision, sender


def test_admin_events_seen_is_never_undercounted(runs: dict[str, Any]) -> None:
    ref = runs["all_at_once"]
    assert any(n for _c, _a, n in ref["seen"])
    for name in ("all_at_once", "before_indexing", "partial"):
        got = runs[name]
        assert got["seen"] == ref["seen"], name
        assert all(got["admin"].get((c, a), 0) == n for c, a, n in got["seen"]), name


class _FailingDescribe(RpcPool):
    """The node refuses transaction look-ups (as when a pass is cut short before they are read)."""

    def batch(self, calls: list[tuple[str, list[Any]]], *, range_call: bool = False) -> list[Any]:
        if any(method == "eth_getTransactionByHash" for method, _p in calls):
            raise RpcError("rpc", "refused by the test")
        return super().batch(calls, range_call=range_call)


def test_lost_or_incomplete_rows_come_back(devnet_world: World, runs: dict[str, Any], tmp_path: Path) -> None:
    """Readings stored at the head without their change rows (a pass that died after its readings), and a pass
    whose transaction look-ups fail: the next passes still record every event-found change, complete."""
    path = tmp_path / "crash.duckdb"
    cfg = world_config(devnet_world, path)
    key = "bsc"
    with Store(path, serve=False) as store:
        _index(runner.engines(cfg, store, networks=[key], sources=["fees"]), FULL)
        markets = [(m.address, m.kind) for m in watched_markets(cfg, key)]
        chain = cfg.networks[key].chain_id
        urls = network_urls(cfg.networks[key])
        failing = FeeStateCollector(store, _FailingDescribe(urls), chain, markets)
        assert failing.tick() == []  # readings at the head; no event row without its transaction
        with store.transaction() as cur:
            cur.execute("DELETE FROM fee_changes")
        found = FeeStateCollector(store, RpcPool(urls), chain, markets).tick()
        assert found and all(r["detected_by"] == "event" for r in found)
    got = _play(devnet_world, path, [FULL])
    want = [r for r in runs["all_at_once"]["rows"] if r[0] == chain]
    assert [r for r in got["rows"] if r[0] == chain] == want and want
