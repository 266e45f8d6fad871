"""End-to-end indexing speed and memory: ogwatch against raw eth_getLogs and cryo on a 200k-event devnet.

    .venv/bin/python -m bench.engine_bench [--trades 150000 --inferences 30000] [--rebuild] [--reps 3]

1. Builds (once, cached under data/cache/bench-seed<S>-t<N>-i<M>/) a devnet world played with
   `devnet.simulator.build_snapshot`: bulk Twin.fun/friend.tech trades (100 per block) and bulk
   inferences on alpha (100 per block, each a precompile event plus the hub's result), after the
   scripted catalogue (settlements, TEE churn, admin events).
2. Restores it and, over the same block ranges and the same address/topic0 filters ogwatch uses
   (`collectors.runner.targets`), times three contenders: the floor (raw eth_getLogs with requests +
   json, sequential, ogwatch's span size, no decoding), cryo (that span with cryo's own concurrency,
   the same one request at a time, and cryo's defaults) and ogwatch (fetch + decode + store into a
   fresh DuckDB file, in a child process for its peak RSS). Once with every filter ("all") and once
   per event type, one topic0 at a time.
3. Times one incremental `Engine.tick()` on bsc with one new empty block (median of --ticks ticks).
4. Prints the tables and PASS/MISS against the targets (informational) and writes them to
   bench/results/engine_bench-<params>.{json,md}. Details: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import requests

from bench import engine_bench_cpu as cpu
from bench import engine_bench_report as report
from bench.engine_bench_contenders import (
    ROOT,
    CryoVariant,
    Job,
    WorkerRun,
    census,
    cryo_collect,
    cryo_variants,
    floor,
    run_worker,
    spans,
)
from collectors import decode, runner
from collectors.engine import Target
from collectors.events import EVENTS
from devnet import nodes
from devnet import world as worldmod
from ogwatch import config

SEED = 11
RESTORE_TIMEOUT_S = 600.0  # a 200k-event world is ~1.3 GB of anvil state: 8-12 s to load, past devnet's 10 s

#: Event types timed on their own (one topic0 at a time), then everything at once.
ROWS: list[tuple[str, frozenset[str] | None]] = [
    ("Trade", frozenset(s.topic0 for s in EVENTS if s.name == "Trade")),
    ("ModelInferenceEvent", frozenset(s.topic0 for s in EVENTS if s.name == "ModelInferenceEvent")),
    ("InferenceResult", frozenset(s.topic0 for s in EVENTS if s.name == "InferenceResult")),
    ("settlement events", frozenset(s.topic0 for s in EVENTS if s.table == "settlements")),
    ("all", None),
]


def snapshot(seed: int, trades: int, inferences: int, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    """The cached devnet world for these parameters, built first if missing (or if asked)."""
    from devnet.simulator import build_snapshot

    target = ROOT / "data" / "cache" / f"bench-seed{seed}-t{trades}-i{inferences}"
    meta = target / "bench-build.json"
    if rebuild or not (target / worldmod.DEPLOYMENT_FILE).exists():
        shutil.rmtree(target, ignore_errors=True)
        print(f"building {target.name} (about {trades / 900 + inferences / 540:.0f} s) ...", flush=True)
        info = build_snapshot(target, seed, trades, inferences)
        meta.write_text(json.dumps(info))
    return target, json.loads(meta.read_text()) if meta.exists() else {}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    anvil = subprocess.run([str(nodes.anvil_binary()), "--version"], capture_output=True, text=True, check=True)
    mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                  if ln.startswith("MemTotal:"))
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "mem_gb": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "anvil": anvil.stdout.splitlines()[0].replace(" Version:", ""),
            "duckdb": duckdb.__version__, "cryo": metadata.version("cryo"),
            "requests": requests.__version__, "kernel": platform.release()}


def jobs_for(targets: list[Target], urls: dict[str, str], heads: dict[str, int],
             topics: frozenset[str] | None) -> list[Job]:
    """Every target whole (all), or one job per (target, topic0) for the given topic0s."""
    if topics is None:
        return [Job(t.network, urls[t.network], tuple(t.addresses), tuple(t.topics), t.start_block, heads[t.network])
                for t in targets]
    return [Job(t.network, urls[t.network], tuple(t.addresses), (tp,), t.start_block, heads[t.network])
            for t in targets for tp in t.topics if tp in topics]


def distinct_blocks(jobs: list[Job]) -> int:
    """Chain blocks covered, each counted once per network however many filters scan it."""
    total = 0
    for net in {j.network for j in jobs}:
        ranges = sorted((j.lo, j.hi) for j in jobs if j.network == net)
        end = -1
        for lo, hi in ranges:
            total += max(0, hi - max(lo, end + 1) + 1)
            end = max(end, hi)
    return total


def stored_events(db: Path) -> tuple[int, int]:
    """Rows in every event table, and decode errors, of a finished store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = sum(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in decode.COLUMNS)  # type: ignore[index]  # noqa: S608
        errors = con.execute("SELECT count(*) FROM decode_errors").fetchone()[0]  # type: ignore[index]
        return int(rows), int(errors)
    finally:
        con.close()


def mix_and_density(seen: dict[str, list[tuple[str, int]]], jobs: list[Job]) -> tuple[list[dict[str, Any]],
                                                                                         list[dict[str, Any]]]:
    """Event counts per (event, network), and events per block per network."""
    names = {s.topic0: s.name for s in EVENTS}
    counts: dict[tuple[str, str], int] = {}
    density = []
    for net, logs in sorted(seen.items()):
        for topic0, _block in logs:
            key = (names.get(topic0, topic0[:10]), net)
            counts[key] = counts.get(key, 0) + 1
        per_block: dict[int, int] = {}
        for _topic0, block in logs:
            per_block[block] = per_block.get(block, 0) + 1
        blocks = distinct_blocks([j for j in jobs if j.network == net])
        density.append({"network": net, "blocks": blocks, "events": len(logs), "nonempty": len(per_block),
                        "per_block": len(logs) / blocks, "per_nonempty": len(logs) / max(1, len(per_block)),
                        "max": max(per_block.values(), default=0),
                        "bulk_blocks": sum(1 for n in per_block.values() if n >= 100)})
    mix = [{"event": e, "network": n, "count": c} for (e, n), c in sorted(counts.items(), key=lambda kv: -kv[1])]
    return mix, density


@dataclass
class Bench:
    """One restored world and everything the contenders share: config, ranges, span, cryo variants, scratch dir."""

    cfg_path: Path
    heads: dict[str, int]
    span: int
    targets: list[Target]
    urls: dict[str, str]
    variants: list[CryoVariant]
    work: Path
    anvil: cpu.AnvilMeter

    def ogwatch(self, name: str, db: Path, topics: list[str] | None, **extra: Any) -> WorkerRun:
        """One ogwatch backfill (child process) into a fresh store."""
        return run_worker({"mode": "backfill", "config": str(self.cfg_path), "db": str(db), "heads": self.heads,
                           "topics": topics, **extra}, self.work, name)

    def rows(self) -> list[dict[str, Any]]:
        """One result row per event type (and all), with its jobs and empty measurement lists."""
        out = []
        for name, topics in ROWS:
            jobs = jobs_for(self.targets, self.urls, self.heads, topics)
            out.append({"name": name, "jobs": jobs, "blocks": distinct_blocks(jobs),
                        "topics": None if topics is None else sorted(topics),
                        "floor_requests": sum(len(list(spans(j.lo, j.hi, self.span))) for j in jobs),
                        "cryo_requests": {v.key: v.requests(jobs) for v in self.variants},
                        "seconds": {k: [] for k in ["floor", *(v.key for v in self.variants), "ogwatch"]},
                        "counts": {}, "count_mismatches": [], "rss_mb": [], "ru_maxrss_mb": [], "process_wall_s": [],
                        "cpu_s": [], "decode_errors": 0})
        return out

    def measure(self, row: dict[str, Any], rep: int, keep_db: Path) -> None:
        """Floor, every cryo variant, then ogwatch, over the row's jobs; appends to the row."""
        jobs, sec, counts = row["jobs"], row["seconds"], row["counts"]
        contenders: list[tuple[str, Callable[[], tuple[float, int]]]] = [
            ("floor", partial(floor, jobs, self.span)),
            *((v.key, partial(cryo_collect, jobs, v)) for v in self.variants)]
        for key, run_one in contenders:
            anvil0, own0 = self.anvil.read(), cpu.self_cpu_s()
            seconds, n = run_one()
            cpu.record(row, key, self.anvil.read() - anvil0, cpu.self_cpu_s() - own0)
            sec[key].append(seconds)
            counts[key] = n
        db = self.work / f"run-{rep}.duckdb"
        anvil0 = self.anvil.read()
        run = self.ogwatch(f"backfill-{rep}", db, row["topics"])
        cpu.record(row, "ogwatch", self.anvil.read() - anvil0, run.result["cpu_s"])
        row.setdefault("process_cpu_s", []).append(run.process_cpu_s)
        sec["ogwatch"].append(run.result["seconds"])
        row["rss_mb"].append(run.peak_rss_mb)
        row["ru_maxrss_mb"].append(run.ru_maxrss_mb)
        row["process_wall_s"].append(run.process_wall_s)
        row["cpu_s"].append(run.result["cpu_s"])
        row.setdefault("og_spans", []).append(run.result["spans"])
        counts["ogwatch"], row["decode_errors"] = stored_events(db)
        if len(set(counts.values())) != 1:
            row["count_mismatches"].append({"rep": rep, **counts})
        if row["topics"] is None:
            db.replace(keep_db)  # the incremental ticks run on the last full backfill
        else:
            db.unlink()

    def phases(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """One more ogwatch run per row with step timers (not part of the timed results)."""
        out = {}
        for i, row in enumerate(rows):
            run = self.ogwatch(f"phases-{i}", self.work / f"phases-{i}.duckdb", row["topics"], phases=True)
            out[row["name"]] = run.result["phases"] | {"total_s": run.result["seconds"], "rss_mb": run.peak_rss_mb,
                                                       "engines": run.result["engines"], "cpu_s": run.result["cpu_s"]}
        return out

    def incremental(self, db: Path, network: str, ticks: int) -> dict[str, Any]:
        """Median CPU and wall of one tick with one new empty block, on a backfilled store."""
        run = run_worker({"mode": "tick", "config": str(self.cfg_path), "db": str(db), "network": network,
                          "ticks": ticks}, self.work, "tick")
        inc = run.result
        return inc | {"cpu_median_s": statistics.median(inc["cpu_s"]),
                      "wall_median_s": statistics.median(inc["wall_s"]), "rss_mb": run.peak_rss_mb}


def setup(w: worldmod.World, work: Path, no_cryo_defaults: bool) -> Bench:
    """The config ogwatch would use for this world, its targets, the chain heads and the span."""
    cfg_path = work / "ogwatch.toml"
    cfg_path.write_text(w.config_toml(str(work / "unused.duckdb")))
    cfg = config.parse(tomllib.loads(cfg_path.read_text()))
    targets = runner.targets(cfg)
    sizes = {t.network: cfg.networks[t.network].span_blocks for t in targets}
    if len(set(sizes.values())) != 1:
        raise SystemExit(f"networks use different span_blocks {sizes}: this benchmark assumes one")
    span = next(iter(sizes.values()))
    variants = [v for v in cryo_variants(span) if not (no_cryo_defaults and v.key == "cryo_default")]
    heads = {k: int(c.head()["number"], 16) for k, c in w.chains.items()}
    pids = [node.pid for node in w.devnet.nodes.values()]
    return Bench(cfg_path, heads, span, targets, w.urls, variants, work, cpu.AnvilMeter(pids))


def main() -> None:
    """Build or reuse the world, measure everything, print and write the results."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trades", type=int, default=150_000)
    p.add_argument("--inferences", type=int, default=30_000)
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached devnet world")
    p.add_argument("--reps", type=int, default=3, help="repetitions of every timed run (median reported)")
    p.add_argument("--ticks", type=int, default=20, help="incremental ticks to time (median reported)")
    p.add_argument("--no-cryo-defaults", action="store_true", help="skip cryo with its default settings")
    p.add_argument("--cprofile", action="store_true", help="also cProfile one ogwatch run (all) and list the top")
    args = p.parse_args()

    params = f"seed{SEED}-t{args.trades}-i{args.inferences}"
    snap, build_info = snapshot(SEED, args.trades, args.inferences, args.rebuild)
    work = Path(tempfile.mkdtemp(prefix="ogwatch-engine-bench-"))
    nodes.READY_TIMEOUT_S = max(nodes.READY_TIMEOUT_S, RESTORE_TIMEOUT_S)
    started = time.perf_counter()
    w = worldmod.start(snap.resolve())
    restore_s = time.perf_counter() - started
    res: dict[str, Any] = {"params": {"seed": SEED, "trades": args.trades, "inferences": args.inferences,
                                      "reps": args.reps, "ticks": args.ticks},
                           "machine": machine(), "snapshot": {"dir": str(snap.relative_to(ROOT)), "build": build_info,
                                                               "restore_s": restore_s}}
    try:
        b = setup(w, work, args.no_cryo_defaults)
        res["params"]["span"], res["heads"] = b.span, b.heads
        res["targets"] = [{"source": t.source, "network": t.network, "addresses": len(t.addresses),
                           "topics": len(t.topics), "lo": t.start_block, "hi": b.heads[t.network]} for t in b.targets]
        res["contenders"] = {"floor": "raw eth_getLogs (requests + json), 1 request at a time",
                             **{v.key: v.label for v in b.variants},
                             "ogwatch": "ogwatch fetch + decode + store, 1 request at a time"}
        print(f"restored {snap.name} in {restore_s:.1f} s; heads {b.heads}; span {b.span}", flush=True)
        all_jobs = jobs_for(b.targets, b.urls, b.heads, None)
        res["mix"], res["density"] = mix_and_density(census(all_jobs, b.span), all_jobs)  # also warms anvil up
        print(report.mix_tables(res), flush=True)

        rows, last_all_db = b.rows(), work / "all-last.duckdb"
        for rep in range(args.reps):
            for row in rows:
                b.measure(row, rep, last_all_db)
                print(report.progress(rep, row), flush=True)
        for row in rows:
            row["events"], row["jobs"] = row["counts"]["floor"], len(row["jobs"])
        res["rows"] = rows
        print("ogwatch once more per event type, with step timers ...", flush=True)
        res["phases"] = b.phases(rows)
        if args.cprofile:
            prof = work / "ogwatch.prof"
            b.ogwatch("cprofile", work / "prof.duckdb", None, cprofile=str(prof))
            res["cprofile"] = report.top_functions(prof, 25)
        print(f"incremental ticks on bsc ({args.ticks}, one new empty block each) ...", flush=True)
        res["incremental"] = b.incremental(last_all_db, "bsc", args.ticks)
    finally:
        w.stop()
        shutil.rmtree(work, ignore_errors=True)

    res["checks"] = report.checks(res)
    text = report.markdown(res)
    print("\n" + text)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"engine_bench-{params}.json").write_text(json.dumps(res, indent=1, default=str))
    (out_dir / f"engine_bench-{params}.md").write_text(text)
    print(f"written: bench/results/engine_bench-{params}.json and .md")


if __name__ == "__main__":
    main()
