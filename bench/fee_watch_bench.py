"""Fee watch: RPC requests and seconds of ogwatch's detection against reading state at every block.

On a fresh devnet (bsc only) with one Twin.fun market:

- a 2,000-block window without any change, then a 2,000-block window with 5 fee changes spread over it;
  for each, one `FeeStateCollector.tick()` with traces (capabilities as detected) and without traces,
  against the baseline of `read_state` at every block of the window (one batch per block);
- the trace scan (`trace_steps`, `trace_filter` in chunks of at most 300 blocks) over the whole chain, topped
  up to 5,000 blocks.

`--long N` measures instead one N-block window (100,000 in bench/README.md) on its own anvil started with
`--prune-history 128`: a node that keeps 128 states in memory and persists none, like many public nodes. The
devnet's nodes keep 3,200 states and spill them to disk (3.8 GB and 130 s per 10,000 empty blocks), and keeping
every state in memory costs ~1.1 MB per block (10.9 GB at 10,000), so no anvil holds the state of 100,000 blocks
here: the baseline is measured over the 128 blocks the node keeps and scaled to N (one batch per block), while
ogwatch's ticks (with traces; without traces, where only 128 blocks can be bisected) and the trace scan run over
the whole N-block window with 5 fee changes spread over it.

RPC requests are HTTP requests counted by the pool (a JSON-RPC batch counts as one).

    .venv/bin/python -m bench.fee_watch_bench [--long 100000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from collectors import capabilities
from collectors.fee_state import FeeStateCollector
from collectors.fee_state_read import read_state
from collectors.fee_state_steps import trace_steps
from collectors.pool import RpcPool
from devnet import deploy, nodes, world
from devnet.chain import Chain
from store.db import Store

KIND = "twinfun_market"
WINDOW = 2_000
CHANGES = 5
TRACE_BLOCKS = 5_000  # anvil_mine slows as the chain grows: 100,000 blocks take far too long
MINE_CHUNK = 1_000
PCT = 10**16
LONG_STATE_WINDOW = 128  # states the long-window node keeps (anvil --prune-history)


@dataclass
class Row:
    """One measured method in one scenario."""

    scenario: str
    method: str
    calls: int
    seconds: float


@dataclass
class Detector:
    """A collector with its own pool and store."""

    name: str
    pool: RpcPool
    collector: FeeStateCollector


def _head(chain: Chain) -> int:
    return int(chain.rpc("eth_blockNumber"), 16)


def _detector(name: str, url: str, head: int, market: str, path: Path, traces: bool) -> Detector:
    pool = RpcPool([url])
    pool.capabilities = capabilities.detect(pool, head)
    if not traces:
        pool.capabilities["traces"] = False
    store = Store(path, serve=False)
    collector = FeeStateCollector(store, pool, chain_id=56, markets=[(market, KIND)], confirmations=0,
                                  events_collector=None)
    collector.tick()  # first reading: the start of the measured window
    return Detector(name, pool, collector)


def _measure_tick(scenario: str, d: Detector) -> tuple[Row, int]:
    calls0 = d.pool.counters.calls
    t0 = time.perf_counter()
    changes = d.collector.tick()
    seconds = time.perf_counter() - t0
    for c in changes:
        print(f"  {d.name}: {c.get('field')} {c.get('old')} -> {c.get('new')} {c.get('precision')} "
              f"blocks {c.get('block_from')}..{c.get('block_number')}")
    return Row(scenario, d.name, d.pool.counters.calls - calls0, seconds), len(changes)


def _baseline(scenario: str, url: str, market: str, lo: int, hi: int) -> tuple[Row, int]:
    """read_state at every block of [lo, hi]; returns the row and how many value changes it saw."""
    pool = RpcPool([url])
    calls0 = pool.counters.calls
    t0 = time.perf_counter()
    seen, prev = 0, read_state(pool, KIND, market, lo - 1)
    for block in range(lo, hi + 1):
        state = read_state(pool, KIND, market, block)
        seen += state != prev
        prev = state
    seconds = time.perf_counter() - t0
    return Row(scenario, "baseline: read_state every block", pool.counters.calls - calls0 - 1, seconds), seen


def _mine(chain: Chain, n: int) -> None:
    for done in range(0, n, MINE_CHUNK):
        chain.rpc("anvil_mine", hex(min(MINE_CHUNK, n - done)))


def _scenario(name: str, chain: Chain, market: str, owner: str, detectors: list[Detector],
              changes: int) -> list[Row]:
    lo = _head(chain) + 1
    if changes:
        gap = WINDOW // changes - 1
        for i in range(changes):
            _mine(chain, gap)
            chain.transact(owner, market, "DigitalTwinSharesV1", "setProtocolFeePercent", (i + 1) * PCT)
        _mine(chain, WINDOW - changes * (gap + 1))
    else:
        _mine(chain, WINDOW)
    hi = _head(chain)
    rows: list[Row] = []
    for d in detectors:
        row, found = _measure_tick(name, d)
        row.method += f" ({found} changes)"
        rows.append(row)
    base, seen = _baseline(name, chain.url, market, lo, hi)
    base.method += f" ({seen} changes)"
    print(f"{name}: blocks {lo}..{hi} ({hi - lo + 1})")
    return [*rows, base]


def _trace_scan(chain: Chain, market: str) -> tuple[int, int, float, int]:
    """trace_steps over the whole chain so far (deployment, both scenarios, and up to TRACE_BLOCKS mined)."""
    lo = 1
    t0 = time.perf_counter()
    _mine(chain, max(0, TRACE_BLOCKS - _head(chain)))
    print(f"anvil_mine up to {TRACE_BLOCKS:,} blocks: {time.perf_counter() - t0:.2f} s")
    hi = _head(chain)
    pool = RpcPool([chain.url])
    t0 = time.perf_counter()
    steps = trace_steps(pool, [market], lo, hi)
    seconds = time.perf_counter() - t0
    return hi - lo + 1, pool.counters.calls, seconds, len(steps)


def _table(rows: list[Row]) -> None:
    base = {r.scenario: r for r in rows if r.method.startswith("baseline")}
    print("| scenario | method | RPC requests | s | requests vs baseline | s vs baseline |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        b = base[r.scenario]
        print(f"| {r.scenario} | {r.method} | {r.calls:,} | {r.seconds:.3f} | "
              f"{r.calls / b.calls:.4f} | {r.seconds / b.seconds:.4f} |")


def _long_row(rows: list[Row], blocks: int) -> None:
    base = next(r for r in rows if r.method.startswith("baseline"))
    print(f"| method | RPC requests | s | requests vs baseline | s vs baseline |  ({blocks:,} blocks)")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.method} | {r.calls:,} | {r.seconds:.3f} | {r.calls / base.calls:.6f} | "
              f"{r.seconds / base.seconds:.6f} |")


def long_window(blocks: int) -> None:
    """One `blocks`-long window with CHANGES fee changes on a node keeping LONG_STATE_WINDOW states."""
    home = Path(tempfile.mkdtemp(prefix="ogwatch-bench-anvil-"))
    port = nodes.free_port()
    args = [str(nodes.anvil_binary()), "--host", "127.0.0.1", "--port", str(port), "--chain-id",
            str(nodes.CHAINS["bsc"]), "--silent", "--prune-history", str(LONG_STATE_WINDOW)]
    proc = subprocess.Popen(args, env={**os.environ, "HOME": str(home)}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        chain = _ready(f"http://127.0.0.1:{port}")
        acct = deploy.roles(chain.accounts)
        market = next(d.address for d in deploy.deploy_bsc(chain, acct) if d.name == "twin_eoa")
        with tempfile.TemporaryDirectory() as tmp:
            head = _head(chain)
            detectors = [_detector("ogwatch tick, traces", chain.url, head, market, Path(tmp) / "t.duckdb", True),
                         _detector("ogwatch tick, no traces", chain.url, head, market, Path(tmp) / "n.duckdb", False)]
            lo, t0 = _head(chain) + 1, time.perf_counter()
            gap = blocks // CHANGES - 1
            for i in range(CHANGES):
                _mine(chain, gap)
                chain.transact(acct["market_owner"], market, "DigitalTwinSharesV1", "setProtocolFeePercent",
                               (i + 1) * PCT)
            _mine(chain, blocks - CHANGES * (gap + 1))
            hi = _head(chain)
            print(f"mined blocks {lo:,}..{hi:,} ({hi - lo + 1:,}) in {time.perf_counter() - t0:.1f} s")
            rows = []
            for d in detectors:
                row, found = _measure_tick("long", d)
                row.method += f" ({found} changes)"
                rows.append(row)
                d.collector.store.close()
        kept, _seen = _baseline("long", chain.url, market, hi - LONG_STATE_WINDOW + 2, hi)
        per_block = kept.seconds / (LONG_STATE_WINDOW - 1)
        print(f"baseline over the {LONG_STATE_WINDOW - 1} blocks kept: {kept.calls} requests, {kept.seconds:.3f} s")
        rows.append(Row("long", f"baseline: read_state every block (scaled from {LONG_STATE_WINDOW - 1} blocks)",
                        hi - lo + 1, per_block * (hi - lo + 1)))
        pool = RpcPool([chain.url])
        t0 = time.perf_counter()
        steps = trace_steps(pool, [market], lo, hi)
        rows.append(Row("long", f"trace scan alone (trace_steps, {len(steps)} setter calls)", pool.counters.calls,
                        time.perf_counter() - t0))
        _long_row(rows, hi - lo + 1)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(home, ignore_errors=True)


def _ready(url: str) -> Chain:
    for _ in range(100):
        try:
            return Chain("bsc", nodes.CHAINS["bsc"], url)
        except Exception:  # not listening yet
            time.sleep(0.1)
    raise RuntimeError(f"anvil at {url} did not start")


def main() -> None:
    """Run both scenarios and the trace scan on a fresh devnet (or one long window); print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", type=int, default=0, help="measure one window of this many blocks instead")
    args = parser.parse_args()
    if args.long:
        long_window(args.long)
        return
    w = world.start(keys=["bsc"])
    try:
        chain = w.chains["bsc"]
        market = w.dep.get("twin_eoa").address
        owner = w.dep.accounts["market_owner"]
        with tempfile.TemporaryDirectory() as tmp:
            head = _head(chain)
            detectors = [_detector("ogwatch tick, traces", chain.url, head, market, Path(tmp) / "t.duckdb", True),
                         _detector("ogwatch tick, no traces", chain.url, head, market, Path(tmp) / "n.duckdb", False)]
            rows = _scenario(f"{WINDOW:,} blocks, no change", chain, market, owner, detectors, 0)
            rows += _scenario(f"{WINDOW:,} blocks, {CHANGES} changes", chain, market, owner, detectors, CHANGES)
            for d in detectors:
                d.collector.store.close()
        _table(rows)
        blocks, calls, seconds, steps = _trace_scan(chain, market)
        print()
        print("| trace scan | blocks | RPC requests | s | blocks/s | setter calls found |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| trace_steps (trace_filter, <=300 blocks per call) | {blocks:,} | {calls:,} | {seconds:.2f} | "
              f"{blocks / seconds:,.0f} | {steps} |")
    finally:
        w.stop()


if __name__ == "__main__":
    main()
