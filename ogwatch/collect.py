"""`ogwatch collect`: a backfill in the foreground, with a progress bar and a summary."""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from collectors import blob_check, runner
from collectors.concentration_jobs import concentration_jobs
from collectors.engine import Engine
from collectors.inference_callers import inference_caller_jobs
from ogwatch.config import Config
from ogwatch.errors import OgwatchError
from store.db import Store


def main(cfg: Config, args: argparse.Namespace) -> int:
    """Backfill every selected (source, network) up to --to (default: the confirmed head)."""
    console = Console(stderr=True)
    with Store(cfg.store.path) as store:
        engs = runner.engines(cfg, store, args.network, args.source)
        if args.start is not None:
            engs = [_with_start(e, args.start) for e in engs]
        bad: list[int] = []
        rows = [_backfill(e, args.to, console, bad) for e in engs]
        settled = {e.t.network: e.pool for e in engs if e.t.source == "settlement"}
        for job in blob_check.blob_jobs(cfg, store, settled):  # Walrus blob checks, where configured
            console.print(f"blob check {job.network}: {job.tick() or 'nothing to check'}")
        indexed = {e.t.network: e.pool for e in engs if e.t.source == "inference"}
        for ijob in inference_caller_jobs(cfg, store, indexed):  # pairings and callers of the new inferences
            console.print(f"inference callers {ijob.network}: {ijob.run_all()} resolved")
        pools = {e.t.network: e.pool for e in engs}
        for cjob in concentration_jobs(cfg, store, dict(pools)):  # TEE registry state and validator power
            if cjob.network in pools:
                # a failed state read is one line; the backfill above stands
                console.print(f"concentration {cjob.network}: {cjob.scheduled_tick()}")
    table = Table("source", "network", "blocks", "events", "blocks/s", "events/s", "RPC calls", "retries", "reorgs")
    for r in rows:
        table.add_row(*[str(x) for x in r])
    Console().print(table)
    if sum(bad):
        raise OgwatchError(f"{sum(bad)} log(s) did not fit their event ABI (kept with the reason; the rest is "
                           "indexed): see `ogwatch query decode_errors`")
    return 0


def _with_start(eng: Engine, start: int) -> Engine:
    from dataclasses import replace

    eng.t = replace(eng.t, start_block=start)  # only used when the source has no checkpoint yet
    return eng


def _backfill(eng: Engine, to: int | None, console: Console, bad: list[int]) -> tuple[object, ...]:
    c0, started = eng.pool.counters.snapshot(), time.monotonic()
    blocks = events = reorgs = 0
    first = eng.tick(until=to, max_spans=1)
    goal = (to if to is not None else first.head - eng.t.confirmations)
    done_from = first.from_block if first.from_block is not None else goal
    with Progress(TextColumn(f"{eng.t.source}/{eng.t.network}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[ev]} events"), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("blocks", total=max(1, goal - done_from + 1), ev=0)
        stats = first
        while True:
            blocks, events, reorgs = blocks + stats.blocks, events + stats.events, reorgs + bool(stats.reorg)
            bad.append(stats.decode_errors)
            bar.update(task, completed=min(blocks, goal - done_from + 1), ev=events)
            if stats.spans == 0 or (stats.to_block or 0) >= goal:
                break
            stats = eng.tick(until=goal, max_spans=1)
    secs = max(time.monotonic() - started, 1e-9)
    c1 = eng.pool.counters.snapshot()
    return (eng.t.source, eng.t.network, blocks, events, f"{blocks / secs:,.0f}", f"{events / secs:,.0f}",
            c1["calls"] - c0["calls"], c1["retries"] - c0["retries"], reorgs)
