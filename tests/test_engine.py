"""The collector engine against real anvil nodes: complete, exact, idempotent, through faults and reorgs."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import cryo  # type: ignore[import-untyped]
import duckdb
import pandas as pd
import pytest

from collectors import runner
from devnet.faultproxy import FaultProxy, Faults
from tests.conftest import ROOT
from tests.engine_helpers import backfill, expected_keys, stored_keys, table_digest, world_config

pytestmark = pytest.mark.devnet


@pytest.fixture(scope="module")
def reference(devnet_world, devnet_snapshot, tmp_path_factory):
    """An uninterrupted backfill of the shared world, straight to the nodes."""
    path = tmp_path_factory.mktemp("ref") / "ref.duckdb"
    cfg = world_config(devnet_world, path)
    backfill(cfg, path)
    return cfg, path


def _cryo_keys(devnet_world, cfg) -> set[tuple[int, int, str, int]]:
    out = set()
    for t in runner.targets(cfg):
        url = devnet_world.chains[t.network].url
        head = int(devnet_world.chains[t.network].head()["number"], 16)
        df = cryo.collect("logs", blocks=[f"{t.start_block}:{head + 1}"], rpc=url, contract=t.addresses,
                          topic0=t.topics, output_format="pandas", inner_request_size=1000)
        out |= {(t.chain_id, int(b), "0x" + bytes(h).hex(), int(i))
                for b, h, i in zip(df["block_number"], df["transaction_hash"], df["log_index"], strict=True)}
    return out


def test_backfill_equals_ground_truth_and_cryo(reference, devnet_world, devnet_snapshot) -> None:
    cfg, path = reference
    got = stored_keys(path)
    assert len(got) > 4000
    assert got == expected_keys(devnet_snapshot, cfg)
    assert got == _cryo_keys(devnet_world, cfg)


def test_rerun_is_harmless(reference, tmp_path) -> None:
    cfg, path = reference
    before = table_digest(path)
    totals = backfill(cfg, path)
    assert totals["events"] == 0
    assert table_digest(path) == before


FAULTS = {
    "timeouts": Faults(seed=1, timeout_rate=0.15, hang_s=1.5),
    "http_429_5xx": Faults(seed=2, http_429_rate=0.2, http_5xx_rate=0.2),
    "torn_and_malformed": Faults(seed=3, torn_body_rate=0.15, malformed_json_rate=0.15),
    "too_many_results": Faults(seed=4, max_logs=150),  # below a busy block (200), above one event (100)
    "too_many_results_413": Faults(seed=5, max_logs=150, too_many_mode="http-413"),
    "block_range_cap": Faults(seed=6, max_block_range=7),
    "stale_heads": Faults(seed=7, stale_head_rate=0.5, stale_by=5),
    "everything": Faults(seed=8, delay_rate=0.2, delay_s=0.05, http_429_rate=0.1, http_5xx_rate=0.1,
                         torn_body_rate=0.05, malformed_json_rate=0.05, max_logs=200, stale_head_rate=0.2),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_every_fault_ends_with_every_event_once(name, reference, devnet_world, tmp_path) -> None:
    ref_cfg, ref_path = reference
    proxies = {k: FaultProxy(c.url, FAULTS[name]).start() for k, c in devnet_world.chains.items()}
    try:
        path = tmp_path / "f.duckdb"
        cfg = world_config(devnet_world, path, {k: p.url for k, p in proxies.items()})
        backfill(cfg, path, max_ticks=2000)
        fired = sum(v for k, v in proxies["bsc"].stats.items() if k not in ("forwarded", "calls", "http_requests"))
        for p in proxies.values():
            p.set_faults(Faults())
        late = backfill(cfg, path)["events"]  # a later, fault-free tick finds nothing left behind...
    finally:
        for p in proxies.values():
            p.stop()
    assert fired > 0, f"the {name} faults never fired"
    if name not in ("stale_heads", "everything"):
        assert late == 0, f"{late} events were left for a later tick"
    assert table_digest(path) == table_digest(ref_path)  # ...except what a stale head hid, caught up now


def test_kill_9_at_random_points_then_resume(reference, devnet_world, tmp_path) -> None:
    _ref_cfg, ref_path = reference
    slow = Faults(seed=0, delay_rate=1.0, delay_s=0.03)  # stretch the run so kills land inside the work
    proxies = {k: FaultProxy(c.url, slow).start() for k, c in devnet_world.chains.items()}
    try:
        for seed in (1, 2, 3):
            kills = _crash_and_resume(seed, devnet_world, proxies, tmp_path)
            assert kills >= 2, "too few kills mid-run: raise the delays' upper bound"
            path = tmp_path / f"crash{seed}.duckdb"
            duckdb.connect(str(path), read_only=True).close()  # the file always opens
            assert table_digest(path) == table_digest(ref_path), f"seed {seed}: store differs after {kills} kills"
    finally:
        for p in proxies.values():
            p.stop()


def _crash_and_resume(seed: int, world, proxies, tmp_path) -> int:
    rng = random.Random(seed)
    path, cfg_file = tmp_path / f"crash{seed}.duckdb", tmp_path / f"crash{seed}.toml"
    text = world.config_toml(str(path)).replace("poll_seconds = 2", "span_blocks = 10")
    for key, p in proxies.items():  # many small spans, each several round trips through the slow proxy
        text = text.replace(world.chains[key].url + '"', p.url + '"')
    cfg_file.write_text(text)
    kills = 0
    for attempt in range(40):
        proc = subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(cfg_file), "collect"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if attempt < 4:
            time.sleep(rng.uniform(1.5, 6.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        _, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            return kills
        assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    raise AssertionError("collect never finished")


def test_health_and_capabilities_are_recorded(reference, devnet_world) -> None:
    cfg, path = reference
    from store.db import Reader

    reader = Reader(path)
    health = reader.query("collector_health_latest")
    targets = runner.targets(cfg)
    assert len(health) == len(targets)
    for _, row in health.iterrows():
        head = int(devnet_world.chains[[k for k, c in devnet_world.chains.items()
                                        if c.chain_id == row["chain_id"]][0]].head()["number"], 16)
        assert row["ok"] and row["indexed_block"] == head and row["lag_blocks"] == 0
        assert row["head_ts"] is not None and pd.isna(row["last_error"])
    caps = reader.query("node_capabilities")
    assert set(caps["chain_id"]) == {t.chain_id for t in targets}
    assert caps["traces"].all() and caps["block_timestamps_in_logs"].all()
