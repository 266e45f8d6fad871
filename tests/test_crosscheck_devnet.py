"""Heads cross-checked across several RPC URLs, on real anvil nodes (no mocked node).

A small devnet (BNB's markets, a few trades) is reached through two URLs: the node and a fault proxy in
front of it. The ground truth is the node's own `eth_getLogs` of the watched contracts and topics. Cases:
- the URLs agree: indexing is normal (the store holds exactly the node's logs), the round is clean, the
  `rpc_disagreement` rule stays quiet;
- the proxy serves a stale head within the tolerance: still clean, indexing stops at the stale head;
  beyond the tolerance: the round names the lagging URL (its key redacted) and the rule fires a warning;
- the second URL is a closed port: indexing goes on from the first, the round says it cannot cross-check;
- one URL is a fork of the chain (anvil `--fork-url` at an earlier block, then its own blocks): no
  checkpoint moves, nothing stored is removed, no reorg is recorded, the fee watch's state jobs read
  nothing (the fork gives the market another owner), the health row names both URLs with their hashes and
  the rule fires a critical alert through a real evaluation pass. The same store and URLs without the
  cross-check take the fork for a reorg, remove rows and record the fork's owner: what the check prevents.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from alerts import evaluate
from alerts.rules import RuleContext, configured
from collectors import probe, runner
from devnet import nodes
from devnet import world as worldmod
from devnet.chain import Chain
from devnet.faultproxy import FaultProxy, Faults
from devnet.world import World
from ogwatch import config
from store.db import Store
from tests.conftest import ROOT
from tests.engine_helpers import read_count, read_rows, stored_keys

pytestmark = pytest.mark.devnet
ART, TWIN = "DigitalTwinSharesV1", b"\x43" * 16
CANARY = "CANARYkey0123456789abcdefXYZ"


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """BNB's devnet contracts and a twin with a handful of trades."""
    w = worldmod.start(keys=["bsc"])
    ch, m, acct = w.chains["bsc"], w.dep.get("twin_eoa").address, w.dep.accounts
    ch.transact(acct["trader_0"], m, ART, "createDigitalTwin", TWIN, "ipfs://twin",
                value=ch.call(m, ART, "getBuyPriceAfterFee", TWIN, 1))
    for i in range(6):
        assert ch.transact(acct[f"trader_{i % 3}"], m, ART, "buyShares", TWIN, i + 1,
                           value=ch.call(m, ART, "getBuyPriceAfterFee", TWIN, i + 1)).status == 1
    yield w
    w.stop()


@pytest.fixture
def proxy(world: World) -> Iterator[FaultProxy]:
    with FaultProxy(world.urls["bsc"]) as p:
        yield p


def cfg_for(w: World, path: Path, urls: list[str], **net: Any) -> config.Config:
    """The devnet config with these RPC URLs (and network settings) on BNB."""
    raw = tomllib.loads(w.config_toml(str(path)))
    raw["networks"]["bsc"].update(rpc_urls=urls, reset_on_new_genesis=False, **net)
    return config.parse(raw)


def index(cfg: config.Config, path: Path, fees: bool = False) -> None:
    """Tick every engine until it has nothing left, then (`fees`) the fee watch's state jobs once, as the
    scheduler does: on shared pools, so that the network's engines and jobs share one cross-check."""
    with Store(path, serve=False) as store:
        pools = runner.pools(cfg, ["bsc"])
        for eng in runner.engines(cfg, store, shared=pools):
            for _ in range(50):
                if eng.tick().spans == 0:
                    break
        for job in runner.fee_jobs(cfg, store, pools) if fees else []:
            job.tick()


def node_logs(w: World, cfg: config.Config, upto: int) -> set[tuple[int, int, str, int]]:
    """The node's own logs of the watched contracts and topics up to `upto` (the ground truth)."""
    out = set()
    for t in runner.targets(cfg):
        for lg in w.chains["bsc"].rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(upto),
                                                      "address": t.addresses, "topics": [t.topics]}):
            out.add((t.chain_id, int(lg["blockNumber"], 16), lg["transactionHash"], int(lg["logIndex"], 16)))
    return out


def head(w: World) -> int:
    return int(w.chains["bsc"].rpc("eth_blockNumber"), 16)


def rounds(path: Path) -> list[dict[str, Any]]:
    with Store(path, serve=False) as store:
        df = store.query("collector_health_latest")
    return [{str(k): None if pd.isna(v) else v for k, v in r.items()} for r in df.to_dict("records")
            if r["collector"] == "rpc_crosscheck"]


def findings(path: Path, cfg: config.Config) -> list[Any]:
    rules = [(r, p) for r, p in configured(cfg) if r.name == "rpc_disagreement"]
    with Store(path, serve=False) as store:
        return [f for r, p in rules for f in r.evaluate(RuleContext(store.query, datetime.now(UTC), p))]


def checkpoints(path: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT collector, block_number, block_hash FROM checkpoints ORDER BY ALL").fetchall()
    finally:
        con.close()


def table_counts(path: Path) -> dict[str, int]:
    sql = "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
    names = [r[0] for r in read_rows(path, sql)]
    return {n: read_count(path, f'SELECT count(*) FROM "{n}"') for n in names}  # noqa: S608


def test_agreeing_urls_index_normally_and_stay_quiet(world, proxy, tmp_path) -> None:
    path = tmp_path / "a.duckdb"
    cfg = cfg_for(world, path, [world.urls["bsc"], proxy.url])
    assert cfg.networks["bsc"].cross_checked
    index(cfg, path)
    want = node_logs(world, cfg, head(world))
    assert len(want) >= 7 and stored_keys(path) == want
    (r,) = rounds(path)
    assert r["ok"] and r["error"] is None and r["head_block"] == head(world)
    assert findings(path, cfg) == []
    assert proxy.stats["calls"] > 0  # the second URL was asked
    assert probe.check(cfg) == []  # `ogwatch check` compares them too


@pytest.mark.parametrize(("stale_by", "quiet"), [(2, True), (8, False)])
def test_a_stale_head_within_tolerance_is_fine_beyond_it_is_reported(world, tmp_path, stale_by, quiet) -> None:
    path = tmp_path / "s.duckdb"
    with FaultProxy(world.urls["bsc"], Faults(stale_head_rate=1.0, stale_by=stale_by)) as stale:
        keyed = f"{stale.url}/v2/{CANARY}"  # a provider key in the path: redacted wherever the URL is named
        cfg = cfg_for(world, path, [world.urls["bsc"], keyed], cross_check_max_lag=5)
        index(cfg, path)
        upto = head(world) - stale_by  # the slowest URL's head: blocks above it are vouched for by one URL only
        assert stored_keys(path) == node_logs(world, cfg, upto)
        assert {n for _c, n, _h in checkpoints(path)} == {upto}
        (r,) = rounds(path)
        got = findings(path, cfg)
        if quiet:
            assert r["ok"] and got == []
        else:
            assert not r["ok"] and r["error"] == (f"lags: {stale.url}/v2/*** head {upto} is {stale_by} blocks "
                                                  f"behind the highest ({head(world)})")
            (f,) = got
            assert (f.severity, f.labels) == ("warning", {"chain_id": "56"}) and f"{stale.url}/v2/***" in f.summary
    assert CANARY not in repr(read_rows(path, "SELECT * FROM collector_health"))


def test_a_silent_second_url_leaves_indexing_to_the_other_and_is_reported(world, tmp_path) -> None:
    path, closed = tmp_path / "c.duckdb", f"http://127.0.0.1:{nodes.free_port()}"
    cfg = cfg_for(world, path, [world.urls["bsc"], closed])
    index(cfg, path)
    assert stored_keys(path) == node_logs(world, cfg, head(world))  # failover is what several URLs are for
    (r,) = rounds(path)
    hash_ = world.chains["bsc"].rpc("eth_getBlockByNumber", hex(head(world)), False)["hash"]
    assert r["error"] == (f"cannot cross-check: 1 of 2 URLs answered: {world.urls['bsc']} head {head(world)} "
                          f"hash {hash_[:12]}..; {closed} did not answer (cannot connect (Connection refused))")
    (f,) = findings(path, cfg)
    assert f.severity == "warning"


@pytest.fixture
def fork(world: World) -> Iterator[nodes.AnvilNode]:
    """A node on a fork of BNB's devnet: the same blocks up to head - 3, its own after (where the market
    has another owner), and a higher head."""
    top = head(world)
    node = nodes.start_node("bsc_fork", 56, extra_args=["--fork-url", world.urls["bsc"],
                                                       "--fork-block-number", str(top - 3)])
    acct = world.dep.accounts
    assert Chain("bsc", 56, node.url).transact(acct["market_owner"], world.dep.get("twin_eoa").address, ART,
                                               "transferOwnership", acct["trader_5"]).status == 1
    nodes.mine(node, 4)
    yield node
    node.stop()


def test_a_url_on_a_fork_holds_indexing_removes_nothing_and_fires(world, proxy, fork, tmp_path) -> None:
    path = tmp_path / "f.duckdb"
    index(cfg_for(world, path, [world.urls["bsc"], proxy.url]), path, fees=True)
    top, before, cps, tables = head(world), stored_keys(path), checkpoints(path), table_counts(path)
    assert {n for _c, n, _h in cps} == {top} and before and tables["market_state"] > 0
    shutil.copy(path, tmp_path / "unchecked.duckdb")

    cfg = cfg_for(world, path, [fork.url, world.urls["bsc"]])  # the pool reads from the fork first
    index(cfg, path, fees=True)
    assert checkpoints(path) == cps and stored_keys(path) == before
    after = table_counts(path)  # the fee watch's state reads waited too; only operational records grew
    assert {t for t in after if after[t] != tables.get(t)} <= {"collector_health", "node_capabilities"}
    assert read_count(path, "SELECT count(*) FROM reorgs") == 0
    (r,) = rounds(path)
    ours = world.chains["bsc"].rpc("eth_getBlockByNumber", hex(top), False)["hash"]
    theirs = nodes.rpc(fork, "eth_getBlockByNumber", [hex(top), False])["hash"]
    assert not r["ok"] and r["error"] == (
        f"hashes differ at block {top}: {fork.url} head {top + 2} hash {theirs[:12]}..; "
        f"{world.urls['bsc']} head {top} hash {ours[:12]}..; indexing held")
    (f,) = findings(path, cfg)
    assert f.severity == "critical" and fork.url in f.summary
    assert probe.check(cfg) == [f"bsc: RPC cross-check: {r['error']}"]
    with Store(path, serve=False) as store:
        res = evaluate.run_pass(store, cfg, datetime.now(UTC), [(r_, p) for r_, p in configured(cfg)
                                                                if r_.name in ("rpc_disagreement",
                                                                               "collector_failing", "stale_data")])
    assert len(res.fired) == 1
    with Store(path, serve=False) as store:
        fired = store.cursor().execute("SELECT rule, severity, status FROM alerts").fetchall()
    assert fired == [("rpc_disagreement", "critical", "firing")]

    unchecked = tmp_path / "unchecked.duckdb"  # the same URLs, one at a time: the fork looks like a reorg
    index(cfg_for(world, unchecked, [fork.url, world.urls["bsc"]], cross_check_heads=False), unchecked, fees=True)
    assert read_count(unchecked, "SELECT count(*) FROM reorgs") == 1
    assert not stored_keys(unchecked) >= before
    new_owner = world.dep.accounts["trader_5"].lower()  # the fork's owner: believed only without the check
    owners = "SELECT DISTINCT lower(owner) FROM market_control WHERE owner IS NOT NULL"
    assert (new_owner,) in read_rows(unchecked, owners) and (new_owner,) not in read_rows(path, owners)


def test_the_scheduler_holds_and_alerts_on_a_fork(world, proxy, fork, tmp_path) -> None:
    """`ogwatch run` (the real scheduler process) with the fork first: held, alerted, nothing removed."""
    path = tmp_path / "run.duckdb"
    index(cfg_for(world, path, [world.urls["bsc"], proxy.url]), path)
    before, cps = stored_keys(path), checkpoints(path)
    text = world.config_toml(str(path)).replace(f'rpc_urls = ["{world.urls["bsc"]}"]',
                                                f'rpc_urls = ["{fork.url}", "{world.urls["bsc"]}"]')
    assert text.count(fork.url) == 1
    cfg, log = tmp_path / "run.toml", tmp_path / "run.log"
    cfg.write_text(text.replace("reset_on_new_genesis = true", "reset_on_new_genesis = false")
                   + "\n[alerts]\nevaluate_seconds = 1\n")
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(cfg), "run"], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 60
            while "RPC cross-check: hashes differ" not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()[-2000:]
                time.sleep(0.2)
            time.sleep(3.0)  # a few more collector ticks and alert evaluations
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    assert "RPC cross-check: hashes differ" in log.read_text()
    assert checkpoints(path) == cps and stored_keys(path) == before
    assert read_count(path, "SELECT count(*) FROM reorgs") == 0
    assert read_rows(path, "SELECT rule, severity, status FROM alerts") == [("rpc_disagreement", "critical", "firing")]
