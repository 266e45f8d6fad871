"""The decentralization watch's scheduled jobs: which networks get one, and a failing pass that only logs."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import pytest

from collectors import runner, tee_views
from collectors.concentration_jobs import MIN_INTERVAL_S, concentration_jobs
from ogwatch import config
from ogwatch.service import build_scheduler
from store.db import Store
from tests import concentration_helpers as ch
from tests.conftest import write_config


@pytest.mark.devnet
def test_jobs_scheduled_for_og_evm_only(devnet_world: Any, tmp_path: Path) -> None:
    path = tmp_path / "j.duckdb"
    cfg = ch.og_config(ch.og_toml(devnet_world, path))
    with Store(path, serve=False) as store:
        jobs = concentration_jobs(cfg, store, runner.pools(cfg, [ch.NET]))
        assert [j.network for j in jobs] == [ch.NET] and jobs[0].interval_s == MIN_INTERVAL_S
        assert jobs[0].tees is not None and len(jobs[0].tees.registries) == 2
        assert jobs[0].validators is not None and jobs[0].validators.cometbft_url == devnet_world.comet.url
        sched = build_scheduler(cfg, store)
        assert sched.get_job(f"concentration:{ch.NET}") is not None


def test_a_failing_pass_is_one_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = write_config(tmp_path).read_text() + """
[[contracts]]
network = "local"
kind = "tee_registry"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
"""
    cfg = config.parse(tomllib.loads(text))
    with Store(tmp_path / "x.duckdb", serve=False) as store:
        (job,) = concentration_jobs(cfg, store, {})
        job.tees.pool.max_retries = 0  # type: ignore[union-attr]
        with caplog.at_level(logging.WARNING, logger="ogwatch.concentration"):
            job.scheduled_tick()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("concentration/local: pass failed: RpcError")


def test_getTEE_shapes_are_told_apart_without_a_node() -> None:  # noqa: N802 - the view's name
    from eth_abi import encode

    v1 = ("0x" + "11" * 20, "0x" + "22" * 20, "https://x", b"\x01", b"\x02", b"\x03" * 32, 0, True, 5, 6)
    ohttp = (*v1, (1, 2, 3, 4, b"k", b"c", 7))
    a = tee_views.decode_info(encode([tee_views._INFO_V1], [v1]))
    b = tee_views.decode_info(encode([tee_views._INFO_OHTTP], [ohttp]))
    assert a is not None and b is not None and (a.shape, b.shape) == ("v1", "ohttp")
    assert (a.endpoint, a.registered_at, a.last_heartbeat_at) == (b.endpoint, 5, 6) == ("https://x", 5, 6)
    assert tee_views.decode_info(b"\x00" * 64) is None and tee_views.decode_info(b"") is None
