"""Dashboard speed at scale: each page's cold and warm render, and each named query it runs, vs plain DuckDB.

`python -m bench.dashboard_bench --store PATH [--repeat 3] [--runs 10] [--pages settlements,fees] [--readme]`

PATH is a seeded store (bench.seed_store). The bench first copies it (the baseline's file), then starts the
writer, `ogwatch run` on a config whose only network is unreachable, so the store is owned and every dashboard
read goes through the owner as in production. Pages render server-side with Streamlit's AppTest:
**cold** = `st.cache_data` cleared, then the page run; **warm** = the same page run again at once (cache hot).
Module imports are paid once in a warm-up pass before timing. While a page renders cold, the named queries
it asks for are recorded; each is then timed `--runs` times through the owner (what the page pays) and on a
direct read-only DuckDB connection to the copy (the baseline: the same SQL and parameters, no ogwatch).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from bench.dashboard_report import print_tables, write_readme
from store import queries
from store.db import Reader, Store
from store.owner import read_owner

ROOT = Path(__file__).resolve().parents[1]
PAGES = re.findall(r'st\.Page\("(pages/\w+\.py)"', (ROOT / "app.py").read_text())
CONFIG = """[store]
path = "{store}"

[service]
heartbeat_seconds = 5

[networks.bsc]
name = "BNB Smart Chain"
chain_id = 56
rpc_urls = ["http://127.0.0.1:9"]

[networks.og_evm]
name = "OpenGradient"
chain_id = 10740
production = true
rpc_urls = ["http://127.0.0.1:9"]
"""


@dataclass(frozen=True)
class PageTime:
    """Median cold and warm render of one page, in seconds, over `n` repeats."""

    page: str
    cold_s: float
    warm_s: float
    n: int


@dataclass(frozen=True)
class QueryTime:
    """One named query with the parameters a page used: p50/p95 via the owner and directly on DuckDB."""

    name: str
    params: str
    owner_p50_ms: float
    owner_p95_ms: float
    direct_p50_ms: float
    direct_p95_ms: float
    rows: int


def _p(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


@contextmanager
def writer(store: Path, workdir: Path) -> Iterator[Path]:
    """`ogwatch run` owning the store; yields its config path once the owner is announced."""
    cfg = workdir / "config.toml"
    cfg.write_text(CONFIG.format(store=store))
    log = (workdir / "writer.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(cfg), "run"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while read_owner(store) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the writer did not start (see {workdir / 'writer.log'})")
            time.sleep(0.2)
        yield cfg
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a writer mid-job under load: do not lose the measurements
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def recording() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Record every named query the dashboard asks its Reader for."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = Reader.query_arrow

    def spy(self: Reader, name: str, params: dict[str, Any] | None = None) -> Any:
        seen.append((name, dict(params or {})))
        return original(self, name, params)

    original_many = Reader.query_many

    def spy_many(self: Reader, batch: Any) -> Any:
        seen.extend((name, dict(params or {})) for name, params in batch)
        return original_many(self, batch)

    Reader.query_arrow = spy  # type: ignore[method-assign]
    Reader.query_many = spy_many  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Reader.query_arrow = original  # type: ignore[method-assign]
        Reader.query_many = original_many  # type: ignore[method-assign]


def render_pages(repeat: int, only: list[str] | None = None) -> tuple[list[PageTime], list[tuple[str, dict[str, Any]]]]:
    """Cold and warm AppTest renders of every page; returns the timings and the queries they ran."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def run(page: str, clear: bool) -> tuple[float, AppTest]:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        if clear:
            st.cache_data.clear()
        t0 = time.perf_counter()
        at.switch_page(page).run()
        cold = time.perf_counter() - t0
        if at.exception:
            raise SystemExit(f"{page} raised: {at.exception}")
        return cold, at

    chosen = [p for p in PAGES if not only or Path(p).stem in only]
    for page in chosen:  # warm-up: imports and the script compile, not counted
        run(page, True)
    out: list[PageTime] = []
    with recording() as seen:
        for page in chosen:
            colds, warms = [], []
            for _ in range(repeat):
                cold, at = run(page, True)
                t0 = time.perf_counter()
                at.run()
                warms.append(time.perf_counter() - t0)
                colds.append(cold)
            out.append(PageTime(page, statistics.median(colds), statistics.median(warms), repeat))
    return out, seen


def time_queries(seen: list[tuple[str, dict[str, Any]]], store: Path, copy: Path, runs: int) -> list[QueryTime]:
    """Each distinct (query, parameters) the pages ran: through the owner vs directly on the copy."""
    distinct: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, params in seen:
        fixed = sorted((k, v) for k, v in params.items() if k not in ("since", "now"))  # clock-relative: once
        distinct.setdefault(f"{name} {fixed}", (name, params))
    reader = Reader(store)
    con = duckdb.connect(str(copy), read_only=True)
    out = []
    try:
        for name, params in distinct.values():
            owner_ms, direct_ms, rows = [], [], 0
            bound = queries.bind(queries.get(name), params)  # as store.db.run_named binds
            for _ in range(runs):
                t0 = time.perf_counter()
                rows = reader.query_arrow(name, params).num_rows
                owner_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                con.sql(queries.get(name).sql, params=bound).to_arrow_table()
                direct_ms.append((time.perf_counter() - t0) * 1000)
            shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if v is not None and k != "since")
            out.append(QueryTime(name, shown, _p(owner_ms, 0.5), _p(owner_ms, 0.95), _p(direct_ms, 0.5),
                                 _p(direct_ms, 0.95), rows))
    finally:
        con.close()
    return sorted(out, key=lambda q: -q.owner_p95_ms)


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, type=Path, help="a seeded store (python -m bench.seed_store)")
    ap.add_argument("--repeat", type=int, default=3, help="cold/warm renders per page (median reported)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per query (p50/p95)")
    ap.add_argument("--pages", default="", help="comma-separated page names to time (default: every page)")
    ap.add_argument("--readme", action="store_true", help="write the results into bench/README.md")
    args = ap.parse_args(argv)
    if not args.store.is_file():
        print(f"error: no store at {args.store}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ogwatch-bench-") as tmp:
        work = Path(tmp)
        copy = work / "baseline.duckdb"
        shutil.copyfile(args.store, copy)
        Store(copy, serve=False).close()  # the baseline gets the schema the writer migrates the store to
        with writer(args.store.resolve(), work) as cfg:
            os.environ["OGWATCH_CONFIG"] = str(cfg)
            os.chdir(ROOT)
            pages, seen = render_pages(args.repeat, [p for p in args.pages.split(",") if p])
            qtimes = time_queries(seen, args.store.resolve(), copy, args.runs)
    print_tables(pages, qtimes)
    if args.readme:
        write_readme(ROOT / "bench" / "README.md", pages, qtimes, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
