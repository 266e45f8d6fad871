"""The verification watch on the shared devnet: derived inference rows against the simulator's ground truth.

The inference source is indexed from the alpha node, the caller job asks the node for transactions and
traces, and the rows must equal the truth: counts per (caller, kind, mode, simulation), several
inferences per transaction, calls through caller contracts, a batching contract and the workflow (its
repeat linked, never counted twice). Without traces the caller falls back to the transaction's `to`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors import runner
from collectors.inference_callers import inference_caller_jobs
from store.db import Store
from tests.engine_helpers import world_config
from tests.test_verification_truth import counts, hub_result_logs, inferences, workflow_logs

pytestmark = pytest.mark.devnet


def derive(world: Any, path: Path, caps: dict[str, Any] | None = None, first_txs: int | None = None) -> Path:
    """Index alpha's inference source into a fresh store and run the caller job (optionally with forced caps,
    or only over the first transactions)."""
    cfg = world_config(world, path)
    with Store(path, serve=False) as store:
        shared = runner.pools(cfg, ["alpha"])
        for eng in runner.engines(cfg, store, ["alpha"], ["inference"], shared=shared):
            while eng.tick().spans:
                pass
        if caps is not None:
            shared["alpha"].capabilities = caps
        for job in inference_caller_jobs(cfg, store, shared):
            if first_txs:
                assert job.tick(first_txs) > 0
                continue
            assert job.run_all() > 0
            assert job.tick() == 0  # nothing left: another pass writes nothing
    return path


def rows(path: Path) -> list[dict[str, Any]]:
    """Every derived row."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute("SELECT * FROM inference_calls ORDER BY block_number, log_index")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def got_counts(found: list[dict[str, Any]]) -> Counter[tuple[str | None, str, str, bool]]:
    """Derived rows per (caller, kind, mode, simulation), callers lower-case."""
    return Counter(((r["caller"] or "").lower() or None, r["kind"], r["mode"], r["is_simulation"]) for r in found)


@pytest.fixture(scope="module")
def traced(devnet_world: Any, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return rows(derive(devnet_world, tmp_path_factory.mktemp("vt") / "v.duckdb"))


def test_counts_per_caller_kind_mode_simulation_equal_truth(traced, devnet_world, devnet_snapshot) -> None:
    truth = inferences(devnet_snapshot, devnet_world)
    assert len(traced) == len(truth) > 1000
    assert got_counts(traced) == counts(truth)
    assert {r["caller_precision"] for r in traced} == {"trace"}
    # the scenario's paths are all there: hub directly, each caller contract, the batcher, the workflow
    assert {t.via for t in truth} >= {"hub", "caller_prod", "caller_exp", "caller_untagged", "batcher", "workflow"}
    assert any(t.simulation for t in truth)


def test_each_inference_matches_its_log_sender_and_model(traced, devnet_world, devnet_snapshot) -> None:
    truth = {(t.tx, t.log_index): t for t in inferences(devnet_snapshot, devnet_world)}
    assert set(truth) == {(r["tx_hash"], r["log_index"]) for r in traced}
    for r in traced:
        t = truth[(r["tx_hash"], r["log_index"])]
        assert (r["kind"], r["mode"], r["model"], r["sender"].lower(), r["block_number"]) == \
            (t.kind, t.mode, t.model, t.sender, t.block)


def test_several_per_transaction_paired_in_log_order(traced, devnet_world, devnet_snapshot) -> None:
    hub = hub_result_logs(devnet_snapshot, devnet_world)
    by_tx: dict[str, list[dict[str, Any]]] = {}
    for r in traced:
        by_tx.setdefault(r["tx_hash"], []).append(r)
    multi = {tx: rs for tx, rs in by_tx.items() if len(rs) > 1}
    assert len(multi) >= 2  # the Batcher transactions (ML x3, chat x2)
    for tx, rs in by_tx.items():
        rs.sort(key=lambda r: r["log_index"])
        assert [r["position"] for r in rs] == list(range(len(rs)))
        assert [r["result_log_index"] for r in rs] == hub[tx]
        assert all(r["log_index"] < r["result_log_index"] for r in rs)


def test_batcher_callers_from_traces(traced, devnet_world, devnet_snapshot) -> None:
    batched = [t for t in inferences(devnet_snapshot, devnet_world) if t.via == "batcher"]
    got = {(r["tx_hash"], r["log_index"]): (r["caller"] or "").lower() or None for r in traced}
    untagged = devnet_world.dep.get("caller_untagged").address.lower()
    assert any(t.caller == untagged for t in batched)  # the inner call through a caller contract
    assert all(got[(t.tx, t.log_index)] == t.caller for t in batched)


def test_workflow_result_linked_not_counted_twice(traced, devnet_world, devnet_snapshot) -> None:
    wf = workflow_logs(devnet_snapshot, devnet_world)
    assert wf
    linked = {r["tx_hash"]: r for r in traced if r["workflow_log_index"] is not None}
    assert {tx: r["workflow_log_index"] for tx, r in linked.items()} == wf
    address = devnet_world.dep.get("workflow").address
    for tx in wf:
        assert [r["workflow"] for r in traced if r["tx_hash"] == tx] == [address]
        assert linked[tx]["caller"] == address


def test_without_traces_the_caller_is_the_tx_to(devnet_world, devnet_snapshot, tmp_path) -> None:
    found = rows(derive(devnet_world, tmp_path / "n.duckdb", {"traces": False, "debug_trace": False,
                                                              "max_batch": 50}))
    truth = inferences(devnet_snapshot, devnet_world)
    assert {r["caller_precision"] for r in found} == {"tx_to"}
    assert got_counts(found) == counts(truth, tx_to=True)


def test_debug_trace_call_tracer_gives_the_same_callers(devnet_world, devnet_snapshot, tmp_path) -> None:
    # the first 60 transactions hold the scripted catalogue (every path, the batcher, the workflow); callTracer
    # re-executes each transaction, so the whole history would be slow for nothing more
    found = rows(derive(devnet_world, tmp_path / "d.duckdb", {"traces": False, "debug_trace": True,
                                                              "max_batch": 50}, first_txs=60))
    txs = {r["tx_hash"] for r in found}
    truth = [t for t in inferences(devnet_snapshot, devnet_world) if t.tx in txs]
    assert len(txs) == 60 and {t.via for t in truth} >= {"hub", "caller_prod", "batcher", "workflow"}
    assert {r["caller_precision"] for r in found} == {"trace"}
    assert got_counts(found) == counts(truth)


def test_the_scheduler_runs_the_caller_job(devnet_world, tmp_path) -> None:
    from ogwatch import service

    path = tmp_path / "s.duckdb"
    cfg = world_config(devnet_world, path)
    with Store(path, serve=False) as store:
        sched = service.build_scheduler(cfg, store)
        jobs = {j.id: j for j in sched.get_jobs()}
        assert "inference-callers:alpha" in jobs
        for eng in runner.engines(cfg, store, ["alpha"], ["inference"]):
            while eng.tick().spans:
                pass
        jobs["inference-callers:alpha"].func(*jobs["inference-callers:alpha"].args)
        n = store.query("verification_coverage")
    assert int(n["derived"].iloc[0]) == int(n["indexed"].iloc[0]) > 1000
