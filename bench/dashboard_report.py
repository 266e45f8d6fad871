"""Print and record the dashboard benchmark: a table of pages, a table of queries, ratios to the baseline."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from bench.dashboard_bench import PageTime, QueryTime

PAGE_TARGET_S, QUERY_TARGET_MS = 1.5, 200.0
START, END = "<!-- dashboard-bench:start -->", "<!-- dashboard-bench:end -->"
HEADING = "## Dashboard at scale"


def _ok(good: bool) -> str:
    return "yes" if good else "**NO**"


def page_rows(pages: list[PageTime]) -> list[list[str]]:
    """Page, cold s, warm s, cold/warm, under target."""
    return [[p.page, f"{p.cold_s:.3f}", f"{p.warm_s:.3f}", f"{p.cold_s / max(p.warm_s, 1e-9):.1f}",
             _ok(p.cold_s < PAGE_TARGET_S)] for p in pages]


def query_rows(qs: list[QueryTime]) -> list[list[str]]:
    """Query, params, rows, owner p50/p95, direct p50/p95, p95 ratio, under target."""
    return [[q.name, q.params or "-", f"{q.rows:,}", f"{q.owner_p50_ms:.1f}", f"{q.owner_p95_ms:.1f}",
             f"{q.direct_p50_ms:.1f}", f"{q.direct_p95_ms:.1f}", f"{q.owner_p95_ms / max(q.direct_p95_ms, 1e-9):.2f}",
             _ok(q.owner_p95_ms < QUERY_TARGET_MS)] for q in qs]


PAGE_HEAD = ["page", "cold s (median)", "warm s (median)", "cold/warm", f"cold < {PAGE_TARGET_S} s"]
QUERY_HEAD = ["query", "params", "rows", "owner p50 ms", "owner p95 ms", "direct p50 ms", "direct p95 ms",
              "p95 owner/direct", f"p95 < {QUERY_TARGET_MS:.0f} ms"]


def print_tables(pages: list[PageTime], qs: list[QueryTime]) -> None:
    """Both tables on the terminal."""
    console = Console(width=200)
    for title, head, rows in (("pages", PAGE_HEAD, page_rows(pages)), ("queries", QUERY_HEAD, query_rows(qs))):
        t = Table(title=title)
        for h in head:
            t.add_column(h)
        for r in rows:
            t.add_row(*r)
        console.print(t)


def _md(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def write_readme(path: Path, pages: list[PageTime], qs: list[QueryTime], args: argparse.Namespace) -> None:
    """Replace the measured block of the "Dashboard at scale" section (appended at the end when absent)."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n\n".join([
        START,
        f"Measured {when}, one run, store `{args.store.name}` ({args.store.stat().st_size / 1e6:.0f} MB), "
        f"{args.repeat} renders per page (medians), {args.runs} runs per query, {os.cpu_count()} cores shared.",
        _md(PAGE_HEAD, page_rows(pages)),
        _md(QUERY_HEAD, query_rows(qs)),
        END,
    ])
    text = path.read_text()
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    elif HEADING in text:  # the section is the file's last: its measured block goes at the end
        text = text.rstrip("\n") + f"\n\n{block}\n"
    else:
        text = text.rstrip("\n") + f"\n\n{HEADING}\n\n{block}\n"
    path.write_text(text)
