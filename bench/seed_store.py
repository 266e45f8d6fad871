"""Seed a store with realistic volumes, straight into DuckDB (no node): the dashboard benchmark's input.

`python -m bench.seed_store --out PATH [--scale N]` opens PATH with `store.db.Store` (so every migration
applies), then fills each table with `INSERT ... SELECT` over `range()`: set-based, so a million rows take
seconds. At scale 1 it writes 1,000,000 trades (40 markets, 5,000 twins) and 1,000,000 inferences (60 models,
2,000 callers) with their calls, settlements with blob checks and tree leaves, TEE registry and validator
history, fee state, changes and control, alerts and collector health, then the verification summaries
(store/verification_summary.py, the statements the inference-caller job runs). Every value is a function of
the row number and `--seed`; times are laid out backwards from `--anchor` (default: now) so the dashboard's
time windows have data.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import Progress

from bench.seed_sql import STEPS as MARKET_STEPS
from bench.seed_sql import Plan
from bench.seed_sql_ai import AI_STEPS, OPS_STEPS
from store import verification_summary
from store.db import Store

STEPS = MARKET_STEPS + AI_STEPS + OPS_STEPS


def seed(path: Path, scale: float = 1.0, seed_value: int = 7, anchor: datetime | None = None,
         show: bool = True) -> dict[str, int]:
    """Create the store at `path` and fill it; returns the rows written per table."""
    anchor = anchor or datetime.now(UTC).replace(microsecond=0)
    plan = Plan.at(scale, seed_value, int(anchor.timestamp()))
    written: dict[str, int] = {}
    with Store(path, serve=False) as store, Progress(disable=not show, transient=False) as bar:
        task = bar.add_task("seeding", total=len(STEPS))
        for table, sql in STEPS:
            bar.update(task, description=f"{table:<20}")
            with store.transaction() as cur:
                cur.execute(sql, plan.params(sql))
            bar.advance(task)
        bar.update(task, description=f"{'summaries':<20}")
        with store.transaction() as cur:  # the verification summaries, as the inference-caller job keeps them
            verification_summary.fill(cur)
        cur = store.cursor()
        cur.execute("CHECKPOINT")
        for table in plan.counts():
            row = cur.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - our own table names
            written[table] = int(row[0]) if row else 0
    return written


def main(argv: list[str] | None = None) -> int:
    """CLI entry: one line per table and the total seeding time."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="the DuckDB file to create (must not exist)")
    ap.add_argument("--scale", type=float, default=1.0, help="1 = a million trades and inferences")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--anchor", help="ISO time of the newest block (default: now)")
    args = ap.parse_args(argv)
    if args.out.exists():
        print(f"error: {args.out} exists; seed into a new file", file=sys.stderr)
        return 2
    if not 0 < args.scale <= 20:
        print("error: --scale must be in (0, 20]", file=sys.stderr)
        return 2
    try:
        anchor = datetime.fromisoformat(args.anchor) if args.anchor else None
    except ValueError:
        print(f"error: --anchor {args.anchor!r} is not an ISO time", file=sys.stderr)
        return 2
    if anchor is not None and anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)
    t0 = time.perf_counter()
    written = seed(args.out, args.scale, args.seed, anchor)
    for table, n in sorted(written.items()):
        print(f"{table:<22}{n:>12,}")
    print(f"seeded {sum(written.values()):,} rows into {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
