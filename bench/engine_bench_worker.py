"""The ogwatch side of `bench.engine_bench`, run in a child process so its peak RSS is its own.

    python -m bench.engine_bench_worker JOB.json

JOB.json says what to do and where to write the result (JSON):

- ``mode = "backfill"``: open a fresh store, build the engines (``collectors.runner.engines``, or one
  engine per (target, topic0) when ``topics`` lists topic0s), tick each until a tick has no span left,
  close the store. Timed from before the store opens to after it closes (migrations, capability
  detection, every tick, the last commit); interpreter start and imports (pyarrow's lazy import of
  pandas included: `warm_imports`) are outside.
- ``mode = "tick"``: open a backfilled store, catch up once (capability detection happens here), then
  ``ticks`` times mine one empty block on ``network`` and time one ``Engine.tick()`` (CPU with
  ``time.process_time``, wall with ``time.perf_counter``).

``phases = true`` wraps the engine's collaborators (RPC log and header fetches, decoding to
Arrow tables, store transactions) with timers and records how much each raised the peak RSS.
``cprofile`` names a file to dump cProfile stats to. Neither is on in the timed runs.
"""

from __future__ import annotations

import cProfile
import json
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests

from collectors import decode_columns, decode_span, engine, engine_pipeline, fetch, runner
from collectors.engine import Engine
from collectors.pool import RpcPool
from collectors.probe import network_urls
from ogwatch import config
from store import chainwrite
from store.db import Store

MAX_TICKS = 10_000


def vm_kb(field: str = "VmHWM") -> int:
    """A /proc/self/status memory field in kB (VmHWM: peak resident set so far)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Phases:
    """Wall time and peak-RSS growth per engine collaborator, by wrapping them in place (this process only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.hwm_growth_kb: dict[str, int] = {}
        self.cpu: dict[str, float] = {}  # CPU seconds of the calling threads, per step

    def _add(self, name: str, seconds: float, grew: int) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.calls[name] = self.calls.get(name, 0) + 1
        self.hwm_growth_kb[name] = self.hwm_growth_kb.get(name, 0) + grew

    def wrap(self, owner: Any, attr: str, name: str) -> None:
        """Replace owner.attr by a timed version of itself."""
        inner = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            hwm, start = vm_kb(), time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self._add(name, time.perf_counter() - start, vm_kb() - hwm)

        setattr(owner, attr, timed)

    def wrap_cpu(self, owner: Any, attr: str, name: str) -> None:
        """Replace owner.attr by a version that adds its calling thread's CPU seconds to `name`."""
        inner = getattr(owner, attr)

        def counted(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.cpu[name] = self.cpu.get(name, 0.0) + time.thread_time() - start

        setattr(owner, attr, counted)

    def wrap_transactions(self) -> None:
        """Time every store transaction whole (BEGIN .. COMMIT), the commit included."""
        inner = Store.transaction

        @contextmanager
        def timed(store: Store) -> Iterator[Any]:
            hwm, start = vm_kb(), time.perf_counter()
            cm: AbstractContextManager[Any] = inner(store)
            try:
                with cm as cur:
                    yield cur
            finally:
                self._add("store transactions, open to commit", time.perf_counter() - start, vm_kb() - hwm)

        Store.transaction = timed  # type: ignore[method-assign,assignment]

    def install(self) -> None:
        """Wrap what one span does, in the order the engine calls it.

        Fetching runs on the prefetch thread and writing on the writer thread (collectors.engine_pipeline),
        beside decoding on the main thread: step times overlap and add up to more than the run. The two
        waits are the main thread's idle time; a store transaction is open for a whole commit unit.
        """
        self.wrap(engine_pipeline.Prefetcher, "take", "main thread waits for the span fetched ahead")
        self.wrap(engine_pipeline.Writer, "_wait", "main thread waits for the writer")
        self.wrap(fetch, "get_logs", "rpc eth_getLogs (HTTP + JSON parse)")
        self.wrap(fetch, "headers", "rpc block headers")
        self.wrap(decode_span, "decode_span", "decode logs to Arrow tables")
        self.wrap(decode_columns, "decode_static", "of which static events column by column")
        self.wrap(decode_span, "_per_log", "of which events log by log (ABI, rows, Arrow)")
        self.wrap(chainwrite, "write_rows", "store write rows (INSERT)")
        self.wrap(chainwrite, "write_blocks", "store blocks + checkpoint (once per commit unit)")
        self.wrap(Engine, "_capabilities", "capability detection")
        self.wrap_transactions()
        self.wrap_cpu(engine_pipeline, "fetch_span", "fetch (prefetch thread, or main for a first span)")
        self.wrap_cpu(engine, "fetch_span", "fetch (prefetch thread, or main for a first span)")
        self.wrap_cpu(decode_span, "decode_span", "decode (main thread)")
        self.wrap_cpu(engine_pipeline.Writer, "_run", "write (writer thread, Python + DuckDB's calls)")


def _config(job: dict[str, Any]) -> config.Config:
    return config.parse(tomllib.loads(Path(job["config"]).read_text()))


def _engines(cfg: config.Config, store: Store, topics: list[str] | None) -> list[Engine]:
    """ogwatch's own engines, or one per (target, topic0) with only that topic0 (same addresses, range, span)."""
    if topics is None:
        return runner.engines(cfg, store)
    pools: dict[str, RpcPool] = {}
    out = []
    for t in runner.targets(cfg):
        for topic0 in (x for x in t.topics if x in topics):
            pool = pools.setdefault(t.network, RpcPool(network_urls(cfg.networks[t.network])))
            one = replace(t, source=f"{t.source}:{topic0[:10]}", topics=[topic0])
            out.append(Engine(store, pool, one, span=cfg.networks[t.network].span_blocks))
    return out


def backfill(job: dict[str, Any]) -> dict[str, Any]:
    """Index every engine's range to the given heads; returns times and counts."""
    cfg, heads = _config(job), job["heads"]
    cpu0, start = time.process_time(), time.perf_counter()
    per_engine, events, spans, ticks = [], 0, 0, 0
    with Store(job["db"], serve=False) as store:
        for engine in _engines(cfg, store, job.get("topics")):
            e_start, e_events, e_blocks = time.perf_counter(), 0, 0
            for _ in range(MAX_TICKS):
                st = engine.tick(until=heads[engine.t.network])
                ticks += 1
                e_events, e_blocks, spans = e_events + st.events, e_blocks + st.blocks, spans + st.spans
                if st.spans == 0:
                    break
            else:
                raise RuntimeError(f"{engine.t.source}/{engine.t.network} did not finish in {MAX_TICKS} ticks")
            per_engine.append({"source": engine.t.source, "network": engine.t.network, "events": e_events,
                               "blocks": e_blocks, "seconds": time.perf_counter() - e_start})
            events += e_events
    return {"seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu0, "events": events,
            "spans": spans, "ticks": ticks, "engines": per_engine}


def _mine(url: str) -> None:
    reply = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}, timeout=30)
    reply.raise_for_status()
    if "error" in reply.json():
        raise RuntimeError(f"evm_mine failed: {reply.json()['error']}")


def incremental(job: dict[str, Any]) -> dict[str, Any]:
    """Catch up once, then time `ticks` ticks that each have exactly one new empty block to index."""
    cfg, network = _config(job), job["network"]
    url = cfg.networks[network].rpc_urls[0]
    cpu, wall, calls = [], [], []
    with Store(job["db"], serve=False) as store:
        engines = runner.engines(cfg, store, networks=[network])
        if len(engines) != 1:
            raise RuntimeError(f"expected one engine on {network}, got {len(engines)}")
        engine = engines[0]
        first = engine.tick()  # capability detection (once per process) and nothing to index
        for _ in range(job["ticks"]):
            _mine(url)
            calls0 = engine.pool.counters.calls
            c0, w0 = time.process_time(), time.perf_counter()
            st = engine.tick()
            c1, w1 = time.process_time(), time.perf_counter()
            if st.blocks != 1 or st.events != 0:
                raise RuntimeError(f"a tick after one empty block indexed {st.blocks} blocks, {st.events} events")
            cpu.append(c1 - c0)
            wall.append(w1 - w0)
            calls.append(engine.pool.counters.calls - calls0)
    return {"cpu_s": cpu, "wall_s": wall, "rpc_calls": calls, "catch_up_blocks": first.blocks,
            "source": engine.t.source, "network": network}


def warm_imports() -> None:
    """Pay pyarrow's lazy import of pandas here, with the other imports, not inside the timed window.

    pyarrow imports pandas at its first conversion of any kind (`pa.array`, `pa.table`, a compute call): about
    0.2 s of CPU (and 1.6 s of wall at load average 9) once per process. A running collector pays it once at its
    first span; each benchmark run is a fresh process, so it would pay it in every timed run.
    """
    pa.array([0])


def main(job_path: str) -> None:
    """Run one job and write its result next to it."""
    job = json.loads(Path(job_path).read_text())
    warm_imports()
    phases = Phases() if job.get("phases") else None
    if phases:
        phases.install()
    run: Callable[[dict[str, Any]], dict[str, Any]] = backfill if job["mode"] == "backfill" else incremental
    profiler = cProfile.Profile() if job.get("cprofile") else None
    if profiler:
        profiler.enable()
    result = run(job)
    if profiler:
        profiler.disable()
        profiler.dump_stats(job["cprofile"])
    if phases:
        result["phases"] = {"seconds": phases.seconds, "calls": phases.calls, "hwm_growth_kb": phases.hwm_growth_kb,
                            "thread_cpu_s": phases.cpu}
    result["vm_hwm_kb"] = vm_kb()
    Path(job["out"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
