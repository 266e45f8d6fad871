"""The fee watch's state collectors as the scheduler runs them, on the shared devnet."""

from __future__ import annotations

import duckdb
import pytest

from collectors import runner
from store.db import Store
from tests.engine_helpers import backfill, world_config

pytestmark = pytest.mark.devnet


def test_fee_jobs_read_state_and_label_ceilings(devnet_world, tmp_path) -> None:
    path = tmp_path / "f.duckdb"
    cfg = world_config(devnet_world, path)
    backfill(cfg, path)
    with Store(path, serve=False) as store:
        ts = runner.targets(cfg)
        jobs = runner.fee_jobs(cfg, store, runner.pools(cfg, sorted({t.network for t in ts})))
        assert {j.network for j in jobs} == {"bsc", "base", "base_sepolia"}
        for job in jobs:
            job.tick()
    markets = {c.address for c in cfg.contracts if c.kind.endswith("market")}
    con = duckdb.connect(str(path), read_only=True)
    read = {r[0] for r in con.execute("SELECT DISTINCT address FROM market_state").fetchall()}
    labels = dict(con.execute("SELECT address || '/' || field, label FROM ceilings").fetchall())
    con.close()
    assert read == markets
    eoa = devnet_world.dep.get("twin_eoa").address  # upgraded to the uncapped implementation by the scenario
    timelocked = devnet_world.dep.get("twin_timelock").address
    assert labels[f"{eoa}/protocolFeePercent"] == "uncapped"
    assert labels[f"{timelocked}/protocolFeePercent"] == "capped-but-upgradeable"
    assert labels[f"{devnet_world.dep.get('friendtech').address}/subjectFeePercent"] == "uncapped"
