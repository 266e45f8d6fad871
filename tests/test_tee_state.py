"""TEE registry state on the devnet, both registry shapes, held against the simulator's truth and the registries' views.

The OHTTP registry emits no heartbeat event and has no PCR, type or max-age views: its state must still
come out right (views for TEEs and activity, indexed PCR events for approval).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from collectors import runner
from collectors.tee_state import TEEStateCollector
from store import chainwrite
from store.db import Store
from tests import concentration_helpers as ch

pytestmark = pytest.mark.devnet


@pytest.fixture(scope="module")
def indexed(devnet_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """OG EVM indexed and read once at the head."""
    path = tmp_path_factory.mktemp("tee") / "ogwatch.duckdb"
    cfg = ch.og_config(ch.og_toml(devnet_world, path))
    ch.index_og(cfg, path)
    yield {"cfg": cfg, "path": path}


def _query(path: Path, name: str) -> list[dict[str, Any]]:
    with Store(path, serve=False) as store:
        return [{str(k): v for k, v in r.items()} for r in store.query(name, chain_id=None).to_dict("records")]


def _head(world: Any) -> tuple[int, int]:
    head = world.chains[ch.NET].head()
    return int(head["number"], 16), int(head["timestamp"], 16)


def test_current_state_equals_truth_for_both_shapes(devnet_world: Any, devnet_snapshot: Path,
                                                   indexed: dict[str, Any]) -> None:
    truth = ch.tee_truth(devnet_snapshot)
    block, now = _head(devnet_world)
    rows = {r["tee_id"]: r for r in _query(indexed["path"], "tee_current")}
    assert set(rows) == set(truth.tees) and len(rows) == 10
    og = devnet_world.chains[ch.NET]
    for tee_id, t in truth.tees.items():
        r = rows[tee_id]
        assert r["registry"] == t["registry"] and r["owner"] == t["owner"] and r["endpoint"] == t["endpoint"]
        assert (r["tee_type"], r["pcr_hash"], r["enabled"]) == (t["tee_type"], t["pcr_hash"], t["enabled"])
        assert (r["registered_at"], r["last_heartbeat_at"]) == (t["registered_at"], t["last_heartbeat_at"])
        artifact = "TEERegistryV1" if r["registry"] == devnet_world.dep.get("tee_registry_v1").address \
            else "TEERegistryOHTTP"
        on_chain = og.call(r["registry"], artifact, "isTEEActive", bytes.fromhex(tee_id[2:]), block=block)
        assert r["active"] is bool(on_chain) is truth.active(t, now), t["label"]
        assert r["pcr_approved"] is truth.approved_of(t), t["label"]
        assert r["heartbeat_stale"] is (now - t["last_heartbeat_at"] > 1800)
        assert r["read_block"] == block and r["heartbeat_age_s"] == now - t["last_heartbeat_at"]
    labels = {t["label"]: rows[i] for i, t in truth.tees.items()}
    assert labels["b1"]["heartbeat_stale"] and labels["d1"]["heartbeat_stale"]  # the two that stopped
    assert labels["c1"]["pcr_approved"] is False and labels["c1"]["active"] is False  # revoked build


def test_registry_shapes_and_degraded_views(devnet_world: Any, indexed: dict[str, Any]) -> None:
    regs = {r["registry"]: r for r in _query(indexed["path"], "tee_registries")}
    v1, ohttp = devnet_world.dep.get("tee_registry_v1").address, devnet_world.dep.get("tee_registry_ohttp").address
    assert regs[v1]["shape"] == "v1" and regs[v1]["pcr_source"] == "view" and regs[v1]["heartbeat_max_age"] == 1800
    assert regs[v1]["missing"] == ""
    assert regs[ohttp]["shape"] == "ohttp" and regs[ohttp]["pcr_source"] == "events"
    assert set(regs[ohttp]["missing"].split(",")) == {"getTEETypes", "getApprovedPCRs", "heartbeatMaxAge",
                                                      "isPCRApproved"}
    assert pd.isna(regs[ohttp]["heartbeat_max_age"])  # no view: NULL, and the page says the default is used
    pcrs = _query(indexed["path"], "tee_pcrs")
    revoked = [p for p in pcrs if not p["approved"]]
    assert [(p["registry"], p["version"], p["tees_running"]) for p in revoked] == [(v1, "llm_v0", 1)]
    assert len(pcrs) == 7  # 3 + llm_v2 on v1, 3 on OHTTP (truth: 7 approvals, 1 revocation)


def test_operator_counts_and_work_equal_truth(devnet_world: Any, devnet_snapshot: Path,
                                              indexed: dict[str, Any]) -> None:
    truth = ch.tee_truth(devnet_snapshot)
    _block, now = _head(devnet_world)
    ops = {r["owner"]: r for r in _query(indexed["path"], "tee_operators")}
    for owner in {t["owner"] for t in truth.tees.values()}:
        mine = [t for t in truth.tees.values() if t["owner"] == owner]
        assert ops[owner]["tees"] == len(mine)
        assert ops[owner]["active"] == sum(truth.active(t, now) for t in mine)
    assert ops[devnet_world.dep.accounts["operator_a"]]["tees"] == 5
    per_operator, settled = ch.work_truth(devnet_snapshot)
    work: dict[str, int] = {}
    for r in _query(indexed["path"], "tee_work_with_leaves"):
        work[r["owner"]] = work.get(r["owner"], 0) + int(r["inferences"])
    assert work == per_operator  # individual settlements + leaves of the batches whose blob proves the root
    individual = [r for r in ch.records(devnet_snapshot) if r["kind"] == "settlement_individual"]
    rows = _query(indexed["path"], "tee_work_individual")  # the query used when there is no leaves table
    assert {(r["tee_id"], r["owner"]) for r in rows} == {(r["intent"]["tee_id"], r["intent"]["operator"])
                                                         for r in individual}
    assert sum(int(r["inferences"]) for r in rows) == len(individual) == 4
    total = _query(indexed["path"], "settled_inferences")[0]
    assert total["settled"] == settled == 66 and total["individual"] == 4


def test_history_at_recorded_blocks_equals_expected_inactive(devnet_world: Any, devnet_snapshot: Path,
                                                             indexed: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    ch.index_og(indexed["cfg"], path, jobs=False)
    registries = [c.address for c in indexed["cfg"].contracts if c.kind == "tee_registry"]
    picked = ch.tee_truth(devnet_snapshot).records  # every TEE action, in block order
    assert {r["kind"] for r in picked} == set(ch.TEE_KINDS)
    with Store(path, serve=False) as store:
        col = TEEStateCollector(store, runner.pools(indexed["cfg"], [ch.NET])[ch.NET], 10740, registries, 0)
        for r in picked:
            col.tick(r["block"])
    con = duckdb.connect(str(path), read_only=True)
    try:
        for r in picked:
            inactive = {row[0] for row in con.execute("""
                SELECT tee_id FROM tee_state WHERE block_number <= ?
                QUALIFY row_number() OVER (PARTITION BY registry, tee_id ORDER BY block_number DESC) = 1
                    AND NOT active""", [r["block"]]).fetchall()}
            assert inactive == set(r["intent"]["expected_inactive"]), (r["kind"], r["block"])
        reads = con.execute("SELECT count(*) FROM tee_registry_reads").fetchone()
        assert reads is not None and reads[0] == 2 * len(picked)
    finally:
        con.close()


def _compact(path: Path) -> dict[str, tuple[Any, ...]]:
    return {r["tee_id"]: (r["owner"], r["enabled"], r["active"], r["pcr_approved"], r["last_heartbeat_at"])
            for r in _query(path, "tee_current")}


def test_reorg_rollback_trims_and_the_next_reading_restores(tmp_path: Path, indexed: dict[str, Any]) -> None:
    path = tmp_path / "reorg.duckdb"
    ch.index_og(indexed["cfg"], path)
    before = _compact(path)
    with Store(path, serve=False) as store, store.transaction() as cur:
        chainwrite.rollback_above(cur, 10740, 1, None, "0xold", "0xnew")
    assert _compact(path) == {}
    ch.index_og(indexed["cfg"], path)  # logs again from the fork point, then a new reading
    assert _compact(path) == before and len(before) == 10
