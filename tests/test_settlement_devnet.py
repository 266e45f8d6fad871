"""LLM settlements and Walrus blob checks on the shared devnet, held against the simulator's ground truth.

The truth (truth.jsonl) says what was settled: each individual settlement's chosen lag, each batch's size,
leaves and lags, which batch's stored dump was tampered; block times come from the node itself. The blob
check reads the devnet's Walrus stand-in (a real HTTP server on 127.0.0.1), or another stand-in missing a blob,
or a closed port.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from collectors import blob_check, runner
from devnet.standins import WalrusStandIn
from devnet.truth import read
from devnet.world import TRUTH_FILE
from ogwatch import config
from store import chainwrite
from store.db import Store
from tests.engine_helpers import world_config

pytestmark = pytest.mark.devnet
OG = "og_evm"


def index_settlements(world: Any, tmp: Path, walrus_url: str | None) -> config.Config:
    """Backfill the settlement source of the OG EVM devnet into tmp/ogwatch.duckdb; blob-check when a URL is given."""
    path = tmp / "ogwatch.duckdb"
    cfg = world_config(world, path, walrus_aggregator_url=walrus_url or "")
    with Store(path, serve=False) as store:
        for eng in runner.engines(cfg, store, [OG], ["settlement"]):
            while eng.tick().spans:
                pass
        for job in blob_check.blob_jobs(cfg, store, runner.pools(cfg, [OG])):
            job.tick()
    return cfg


def truth_of(snapshot: Path) -> dict[str, list[dict[str, Any]]]:
    """The settlement records of the ground truth, by kind."""
    out: dict[str, list[dict[str, Any]]] = {"settlement_individual": [], "settlement_batch": [], "settlement_v1": []}
    for r in read(snapshot / TRUTH_FILE):
        if r["kind"] in out:
            out[r["kind"]].append(r)
    return out


def settled_total(truth: dict[str, list[dict[str, Any]]]) -> int:
    """Inferences settled in all: one per individual settlement, batch_size per batch (v1 included)."""
    return sum(r["intent"].get("batch_size", 1) for rs in truth.values() for r in rs)


def block_ts(world: Any, number: int) -> int:
    """A block's time, from the node."""
    return int(world.chains[OG].rpc("eth_getBlockByNumber", hex(number), False)["timestamp"], 16)


@pytest.fixture(scope="module")
def indexed(devnet_world: Any, devnet_snapshot: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, list[dict[str, Any]]]]]:
    """The OG EVM settlements indexed and blob-checked against the world's Walrus stand-in."""
    tmp = tmp_path_factory.mktemp("settlements")
    index_settlements(devnet_world, tmp, devnet_world.walrus.url)
    store = Store(tmp / "ogwatch.duckdb", serve=False)
    yield store, truth_of(devnet_snapshot)
    store.close()


def _leaf_lags(truth: dict[str, list[dict[str, Any]]]) -> list[int]:
    return [lag for r in truth["settlement_batch"] if not r["intent"]["tampered"] for lag in r["intent"]["lags"]]


def test_individual_settlements_equal_truth(indexed: tuple[Store, Any]) -> None:
    store, truth = indexed
    df = store.query("settlement_list", chain_id=10740)
    rows = df[(df["mode"] == "individual") & (df["relay_version"] == 2)].to_dict("records")
    got = {(int(r["block_number"]), r["tee_id"]): (int(r["lag_s"]), int(r["signer_ts"]), int(r["block_ts"]))
           for r in rows}
    want = {(r["block"], r["intent"]["tee_id"]): (r["intent"]["lag"], r["intent"]["timestamp"],
                                                   r["intent"]["block_time"]) for r in truth["settlement_individual"]}
    assert got == want and len(want) == 4


def test_batch_sizes_and_leaves_equal_truth(indexed: tuple[Store, Any]) -> None:
    store, truth = indexed
    df = store.query("settlement_list", chain_id=10740)
    batches = df[df["mode"] == "batch"]
    sizes = {int(r["block_number"]): int(r["batch_size"]) for r in batches.to_dict("records")}
    want = {r["block"]: r["intent"]["batch_size"] for r in truth["settlement_batch"]}
    want |= {r["block"]: r["intent"]["batch_size"] for r in truth["settlement_v1"]
             if r["intent"]["event"] == "BatchSettlement"}
    assert sizes == want
    tees = {int(r["block_number"]): None if pd.isna(r["leaf_tees"]) else int(r["leaf_tees"])
            for r in batches.to_dict("records")}
    cur = store.cursor()
    for r in truth["settlement_batch"]:
        assert tees[r["block"]] == (None if r["intent"]["tampered"] else len(set(r["intent"]["tee_ids"])))
        rows = cur.execute("SELECT leaf_index, tee_id, input_hash, output_hash, timestamp_int FROM settlement_leaves "
                           "WHERE chain_id = 10740 AND block_number = ? ORDER BY leaf_index", [r["block"]]).fetchall()
        leaves = r["intent"]["leaves"]
        expected = [] if r["intent"]["tampered"] else [
            (i, lf[0], lf[1], lf[2], int(lf[4])) for i, lf in enumerate(leaves)]
        assert rows == expected, r["block"]


def test_leaf_lags_equal_truth(indexed: tuple[Store, Any]) -> None:
    store, truth = indexed
    lags = store.query("settlement_lags", chain_id=10740)
    leaf = lags[lags["source"] == "leaf"]
    for r in truth["settlement_batch"]:
        mine = leaf[leaf["block_number"] == r["block"]]
        if r["intent"]["tampered"]:
            assert mine.empty
        else:
            assert Counter(zip(mine["tee_id"], mine["lag_s"].astype(int), strict=True)) == Counter(
                zip(r["intent"]["tee_ids"], r["intent"]["lags"], strict=True))


def test_settled_counts_per_mode_equal_truth(indexed: tuple[Store, Any]) -> None:
    store, truth = indexed
    hourly = store.query("settlement_hourly", chain_id=10740)
    got = hourly.groupby("mode")["settled_inferences"].sum().astype(int).to_dict()
    v1 = truth["settlement_v1"]
    want = {"individual": len(truth["settlement_individual"])
            + sum(r["intent"]["event"] != "BatchSettlement" for r in v1),
            "batch": sum(r["intent"]["batch_size"] for r in truth["settlement_batch"])
            + sum(r["intent"]["batch_size"] for r in v1 if r["intent"]["event"] == "BatchSettlement")}
    assert got == want and want["individual"] == 6 and want["batch"] > 0


def test_summary_equals_truth(devnet_world: Any, indexed: tuple[Store, Any]) -> None:
    store, truth = indexed
    row = store.query("settlement_summary", chain_id=10740).iloc[0]
    records = [r for rs in truth.values() for r in rs]
    lags = [r["intent"]["lag"] for r in truth["settlement_individual"]] + _leaf_lags(truth)
    assert int(row["settlements"]) == len(records) == 11
    assert int(row["settled_inferences"]) == settled_total(truth)
    assert row["lag_p50_s"] == pytest.approx(float(np.percentile(lags, 50)))
    assert row["lag_p95_s"] == pytest.approx(float(np.percentile(lags, 95)))
    assert int(row["lag_max_s"]) == max(lags) == 3000
    last = max(r["block"] for r in records)
    assert int(row["last_settlement_ts"].timestamp()) == block_ts(devnet_world, last)
    assert (row["blobs_verified"], row["blobs_mismatch"], row["blobs_unavailable"]) == (3, 1, 1)


def test_blob_checks_equal_truth(indexed: tuple[Store, Any]) -> None:
    store, truth = indexed
    checks = store.query("settlement_blob_checks", chain_id=10740).set_index("block_number")
    for r in truth["settlement_batch"]:
        c = checks.loc[r["block"]]
        if r["intent"]["tampered"]:
            assert (c["status"], c["rebuilt_root"]) == ("mismatch", r["intent"]["stored_root"])
            assert r["intent"]["root"] in c["reason"]
        else:
            assert (c["status"], c["rebuilt_root"], c["leaves"]) == ("verified", r["intent"]["root"],
                                                                      r["intent"]["batch_size"])
            assert bool(c["proof_checked"]) and bool(c["proof_ok"])
    v1 = next(r for r in truth["settlement_v1"] if r["intent"]["event"] == "BatchSettlement")
    assert checks.loc[v1["block"], "status"] == "unavailable" and "relay v1" in checks.loc[v1["block"], "reason"]
    cov = store.query("settlement_blob_coverage", chain_id=10740).iloc[0]
    assert (cov["batches"], cov["checked"], cov["unavailable"], cov["unchecked"]) == (5, 4, 1, 0)
    assert cov["coverage"] == pytest.approx(0.8)


def test_backlog_on_chain_time(devnet_world: Any, indexed: tuple[Store, Any]) -> None:
    store, truth = indexed
    row = store.query("settlement_backlog", chain_id=10740).iloc[0]
    head = store.query("collector_health_latest", chain_id=10740)["indexed_block"].max()
    last = max(r["block"] for rs in truth.values() for r in rs)
    since = block_ts(devnet_world, int(head)) - block_ts(devnet_world, last)
    assert int(row["seconds_since_last"]) == since
    assert int(row["settled_last_hour"]) == (settled_total(truth) if since < 3600 else 0)
    assert row["hourly_rate_prev_24h"] == 0.0


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_unreachable_and_missing_blobs_are_unavailable_then_rechecked(
        devnet_world: Any, devnet_snapshot: Path, tmp_path: Path) -> None:
    truth = truth_of(devnet_snapshot)
    good = next(r for r in truth["settlement_batch"] if not r["intent"]["tampered"])
    index_settlements(devnet_world, tmp_path, None)
    cfg = world_config(devnet_world, tmp_path / "ogwatch.duckdb", walrus_aggregator_url=_closed_port_url())
    partial = WalrusStandIn().start()
    try:
        for blob_id, data in devnet_world.walrus.blobs().items():
            if blob_id != good["intent"]["blob_id"]:
                partial.put(blob_id, data)
        with Store(tmp_path / "ogwatch.duckdb", serve=False) as store:
            (job,) = blob_check.blob_jobs(cfg, store, runner.pools(cfg, [OG]))
            job.timeout = 2.0
            assert job.tick() == {"unavailable": 5}
            reasons = store.query("settlement_blob_checks", chain_id=10740)
            assert reasons["reason"].str.contains("aggregator unreachable").sum() == 4
            assert job.tick() == {}  # not retried before RECHECK_AFTER

            later = datetime.now(UTC) + blob_check.RECHECK_AFTER + timedelta(seconds=1)
            job.aggregator_url, job.clock = partial.url, (lambda: later)
            assert job.tick() == {"verified": 2, "mismatch": 1, "unavailable": 1}
            c = store.query("settlement_blob_checks", chain_id=10740).set_index("block_number").loc[good["block"]]
            assert (c["status"], int(c["attempts"])) == ("unavailable", 2) and "404" in c["reason"]

            partial.put(good["intent"]["blob_id"], devnet_world.walrus.blobs()[good["intent"]["blob_id"]])
            job.clock = lambda: later + blob_check.RECHECK_AFTER + timedelta(seconds=1)
            assert job.tick() == {}  # the second failure doubled the wait
            job.clock = lambda: later + 2 * blob_check.RECHECK_AFTER
            assert job.tick() == {"verified": 1}
            _reorg_trims_checks(store, good["block"])
    finally:
        partial.stop()


def _reorg_trims_checks(store: Store, block: int) -> None:
    """A rollback below a checked batch removes its check and leaves with the settlement."""
    with store.transaction() as cur:
        assert ("settlement_checks", "block_number") in chainwrite.chain_tables(cur)
        chainwrite.rollback_above(cur, 10740, block - 1, "0x" + "00" * 32, "0xold", "0xnew")
        for table in ("settlements", "settlement_checks", "settlement_leaves"):
            row = cur.execute(f"SELECT count(*) FROM {table} WHERE block_number >= ?", [block]).fetchone()  # noqa: S608
            assert row is not None and row[0] == 0, table


def test_scheduler_runs_the_blob_check_only_where_configured(devnet_world: Any, tmp_path: Path) -> None:
    from ogwatch import service

    path = tmp_path / "ogwatch.duckdb"
    with Store(path, serve=False) as store:
        plain = service.build_scheduler(world_config(devnet_world, path), store)
        assert not [j.id for j in plain.get_jobs() if j.id.startswith("blob-check:")]
        cfg = world_config(devnet_world, path, walrus_aggregator_url=devnet_world.walrus.url)
        sched = service.build_scheduler(cfg, store)
        (job,) = [j for j in sched.get_jobs() if j.id.startswith("blob-check:")]
        assert job.id == "blob-check:og_evm"
        service.blob_tick(job.args[0])  # nothing indexed yet: nothing to check, and no exception
        assert store.query("settlement_blob_coverage").empty
