"""Crash: `kill -9` of each ogwatch process at random points, repeatedly, on a fixed devnet chain.

    .venv/bin/python -m bench.crash [--minutes 10] [--seed 1] [--work data/crash] [--out FILE]

The saved test world (data/cache/devnet-<key>, built by the tests) is restored; nothing adds blocks, so the
chain is fixed. First an uninterrupted `ogwatch run` fills a reference store until every collector is at the
head, plus a settle period in which every job has had a pass. Then crash cycles until `--minutes` are spent
(at least one), each on a fresh store: a seeded schedule starts one of `ogwatch run`, `ogwatch collect` or
the dashboard (`ogwatch serve` plus AppTest renders of every page, with `ogwatch run` writing underneath)
and SIGKILLs it after a random delay, until the store is at the heads and `MIN_KILLS` kills were made.
After every kill the DuckDB file must open and every table read. Then one uninterrupted `ogwatch run`
finishes the store, and it must equal the reference row by row in every event and derived table and in
the checkpoints (bench/crash_compare.py says what is left out: wall-clock columns, operational history;
`KNOWN_ORDER_DEPENDENT` tables are reported, their final state compared), and its alerts must equal the
reference's (the rules about the monitor itself apart). Exit 1 on any failure.
JSON in bench/results/crash.json; the working files stay in the work directory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import crash_compare as cc
from bench.reliability import wait_until
from store.db import Reader

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "data" / "crash"
KINDS = ("run", "run", "collect", "dashboard")  # `ogwatch run` is the writer that matters most
DELAY_S = {"run": (0.3, 8.0), "collect": (0.3, 6.0), "dashboard": (1.0, 8.0)}
SETTLE_S = 35.0  # after reaching the heads: every job has had a pass (concentration and alerts: every 30 s)
MIN_KILLS = 8  # per cycle, so that kills land after the backfill too (steady ticks, alert passes)
# The fee watch's reading logs: one row per reading at the block the log engine had reached when the job
# ran. Which blocks were read depends on when each pass ran relative to the backfill, in any run, crashed or
# not (see docs/RELIABILITY.md). They are compared and reported, not counted as crash failures; their final
# state (market_state@latest) is. Fee changes from setter events and market_control must match exactly.
# The TEE watch likewise: one `tee_registry_reads` row per reading, and `tee_state` / `tee_pcrs` change rows
# of those readings (a heartbeat moves between any two read blocks); their latest state is compared.
KNOWN_ORDER_DEPENDENT = frozenset({"fee_watch_coverage", "market_state", "tee_state", "tee_pcrs",
                                   "tee_registry_reads"})


def config_text(world: Any, store: Path) -> str:
    """The world's config with small spans: many commits for a kill to land in (the same for the reference)."""
    return world.config_toml(str(store)).replace("poll_seconds = 2", "poll_seconds = 2\nspan_blocks = 3")


def spawn(args: list[str], log: str) -> subprocess.Popen[bytes]:
    """A child process in its own session (so a SIGKILL hits only it), output to data/crash/<log>."""
    out = (WORK / log).open("ab")
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill9(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL one child by its pid; whether it was still running."""
    alive = proc.poll() is None
    if alive:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return alive


def at_heads(store: Path, heads: dict[int, int], targets: int) -> bool:
    """Every collector's checkpoint at its chain's head (asked through the owner, or the file)."""
    try:
        cps = Reader(store, wait_s=2).query("checkpoints")
    except Exception:  # busy or not created yet: ask again
        return False
    got = {(str(c), int(i)): int(b) for c, i, b in zip(cps["collector"], cps["chain_id"], cps["block_number"],
                                                       strict=True)}
    return len(got) >= targets and all(b >= heads[i] for (_c, i), b in got.items())


def full_run(config: Path, store: Path, heads: dict[int, int], log: str) -> float:
    """An uninterrupted `ogwatch run` until the heads, then a settle period, then SIGTERM; seconds taken."""
    from collectors import runner
    from ogwatch import config as configmod

    targets = len(runner.targets(configmod.load(config)))
    t0 = time.monotonic()
    proc = spawn(["-m", "ogwatch", "--config", str(config), "run"], log)
    try:
        if not wait_until(lambda: at_heads(store, heads, targets), timeout=900, every=2):
            raise SystemExit(f"crash: {log}: collectors did not reach the heads in 15 minutes")
        time.sleep(SETTLE_S)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return time.monotonic() - t0


def one_kill(kind: str, config: Path, rng: random.Random) -> tuple[int, bool]:
    """Start `kind`, SIGKILL it after a random delay; (processes killed while running, any that exited early)."""
    ogw = ["-m", "ogwatch", "--config", str(config)]
    delay = rng.uniform(*DELAY_S[kind])
    if kind == "dashboard":
        writer = spawn([*ogw, "run"], "dashboard-run.log")
        port = 8600 + rng.randrange(300)
        procs = [spawn([*ogw, "serve", "--port", str(port)], "serve.log"),
                 spawn(["-m", "bench.soak_pages", str(config), str(WORK / "pages.json"), "--every", "0"],
                       "pages.log")]
        time.sleep(delay)
        killed = sum(kill9(p) for p in procs)
        writer.send_signal(signal.SIGTERM)  # the writer ends cleanly here; its own kills are the "run" kind
        writer.wait(timeout=60)
        return killed, killed < len(procs)
    proc = spawn([*ogw, kind], f"{kind}.log")
    time.sleep(delay)
    killed = int(kill9(proc))
    return killed, not killed


def crash_loop(config: Path, store: Path, rng: random.Random, until: float, full: int) -> dict[str, Any]:
    """Kill until the store is at the heads with `MIN_KILLS` kills, or `until`; check the file after every kill."""
    kills: Counter[str] = Counter()
    early: Counter[str] = Counter()
    failures: list[str] = []
    progress: list[int] = []
    while time.monotonic() < until and (sum(kills.values()) < MIN_KILLS or not progress or progress[-1] < full):
        kind = rng.choice(KINDS)
        killed, exited = one_kill(kind, config, rng)
        kills[kind] += killed
        early[kind] += exited
        ok, err, blocks = cc.opens(store)
        progress.append(blocks)
        if not ok:
            failures.append(f"after kill {sum(kills.values())} ({kind}): {err}")
    return {"kills": dict(kills), "finished_before_kill": dict(early), "open_failures": failures,
            "opens_checked": len(progress), "kills_before_heads": next(
                (i for i, b in enumerate(progress) if b >= full), len(progress)),
            "checkpoint_progress": progress[:: max(1, len(progress) // 12)]}


def cycles(world: Any, heads: dict[int, int], ref: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Crash cycles on fresh stores (small spans: many commits to land in) until the time is spent."""
    rng = random.Random(args.seed)
    full = cc.opens(ref)[2]
    until = time.monotonic() + args.minutes * 60
    out: list[dict[str, Any]] = []
    while time.monotonic() < until or not out:
        store, cfg = WORK / f"crashed-{len(out)}.duckdb", WORK / f"crashed-{len(out)}.toml"
        cfg.write_text(config_text(world, store))
        loop = crash_loop(cfg, store, rng, max(until, time.monotonic() + 30), full)
        final_s = full_run(cfg, store, heads, f"final-{len(out)}.log")
        result = cc.compare(ref, store)
        out.append({**loop, "final_run_s": round(final_s, 1), **result})
        if all(v["equal"] or k in KNOWN_ORDER_DEPENDENT for k, v in result["tables"].items()):
            for path in (store, Path(f"{store}.wal")):
                path.unlink(missing_ok=True)
    return out


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the cycles and the verdict (known order-dependent tables reported apart)."""
    kills: Counter[str] = Counter()
    for r in runs:
        kills.update(r["kills"])
    differ = sorted({t for r in runs for t, v in r["tables"].items() if not v["equal"]})
    failed = [f"open: {f}" for r in runs for f in r["open_failures"]]
    failed += [f"table {t} differs" for t in differ if t not in KNOWN_ORDER_DEPENDENT]
    failed += [f"alerts differ in cycle {i}: {r['alerts'].get('example')}" for i, r in enumerate(runs)
               if not (r["alerts"] or {}).get("equal", True)]
    return {"kills": dict(kills), "kills_total": sum(kills.values()), "cycles_run": len(runs),
            "opens_checked": sum(r["opens_checked"] for r in runs),
            "open_failures": sum(len(r["open_failures"]) for r in runs),
            "tables_compared": runs[-1]["tables_compared"], "rows_compared_per_cycle": runs[-1]["rows_compared"],
            "tables_equal_every_cycle": sum(1 for t in runs[-1]["tables"] if t not in differ),
            "known_order_dependent_differ": [t for t in differ if t in KNOWN_ORDER_DEPENDENT],
            "alerts_equal_every_cycle": all((r["alerts"] or {}).get("equal") for r in runs),
            "monitor_alerts_equal_every_cycle": all((r["alerts_monitor"] or {}).get("equal") for r in runs),
            "failed": failed}


def main() -> int:
    """Reference run, crash loop, final run, compare; JSON report; exit 1 on any failure."""
    global WORK  # noqa: PLW0603 - one run per process; every helper writes below it
    from devnet import world as worldmod
    from tests.conftest import _fixture_key

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=10.0, help="time for the kill cycles")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "crash.json"))
    ap.add_argument("--work", default=str(WORK), help="working directory (emptied first)")
    args = ap.parse_args()
    WORK = Path(args.work).resolve()
    snapshot = ROOT / "data" / "cache" / f"devnet-{_fixture_key()}"
    if not snapshot.exists():
        raise SystemExit(f"crash: {snapshot} missing: run the tests once (they build it)")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    world = worldmod.start(snapshot)
    try:
        heads = {c.chain_id: int(c.head()["number"], 16) for c in world.chains.values()}
        ref_cfg, ref = WORK / "reference.toml", WORK / "reference.duckdb"
        ref_cfg.write_text(config_text(world, ref))
        ref_s = full_run(ref_cfg, ref, heads, "reference.log")
        runs = cycles(world, heads, ref, args)
    finally:
        world.stop()
    fig = summary(runs)
    fig.update(seed=args.seed, minutes=args.minutes, reference_run_s=round(ref_s, 1), load1=os.getloadavg(),
               cpus=os.cpu_count(), cycles=runs)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(fig, indent=2, default=str))
    print(json.dumps(fig, indent=2, default=str))
    print("crash:", "PASS" if not fig["failed"] else "FAIL " + "; ".join(fig["failed"]))
    return 1 if fig["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
