"""Memory diagnostics of the scheduler process, off unless `OGWATCH_TRACEMALLOC=<file>` is set.

When set, `ogwatch run` starts tracemalloc and, every `OGWATCH_TRACEMALLOC_MINUTES` (default 5), appends
one JSON line to the file: RSS, DuckDB's own accounting (`duckdb_memory()`, its memory limit), live
Python objects by type, and the top-N Python allocation sites by growth since the first snapshot and
since the previous one. Python allocations that grow point at a leak in our code; RSS that grows while
they stay flat points at native memory (DuckDB, Arrow, the C allocator).
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_FILE, ENV_MINUTES, ENV_TOP = "OGWATCH_TRACEMALLOC", "OGWATCH_TRACEMALLOC_MINUTES", "OGWATCH_TRACEMALLOC_TOP"
FRAMES = 6  # enough to see which of our functions asked for the memory, cheap enough to leave on for hours


def rss_mb() -> float:
    """This process's resident set (VmRSS) in MB (0 when /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def trim_heap() -> bool:
    """Ask glibc to return free heap pages to the OS (`malloc_trim(0)`); False where there is no glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def _sites(diff: list[tracemalloc.StatisticDiff], top: int) -> list[dict[str, Any]]:
    """The largest growths as plain rows: KB, count, the innermost frames of our code."""
    out = []
    for d in diff[:top]:
        frames = [f"{f.filename.rsplit('/site-packages/', 1)[-1]}:{f.lineno}" for f in d.traceback[:FRAMES]]
        out.append({"kb_diff": round(d.size_diff / 1024, 1), "kb": round(d.size / 1024, 1),
                    "count_diff": d.count_diff, "at": frames})
    return out


def _types(top: int) -> dict[str, int]:
    """Live objects tracked by the garbage collector, by type name (the most numerous)."""
    return dict(Counter(type(o).__name__ for o in gc.get_objects()).most_common(top))


class MemWatch:
    """Periodic snapshots to a JSON-lines file; `native` supplies extra figures (DuckDB's accounting)."""

    def __init__(self, path: Path, every_s: float, top: int, native: Callable[[], dict[str, Any]] | None = None):
        self.path, self.every_s, self.top, self.native = path, every_s, top, native
        self.first: tracemalloc.Snapshot | None = None
        self.last: tracemalloc.Snapshot | None = None
        self.t0 = time.monotonic()
        self._lock = threading.Lock()

    def _snapshot(self) -> tracemalloc.Snapshot:
        snap = tracemalloc.take_snapshot()
        return snap.filter_traces((tracemalloc.Filter(False, tracemalloc.__file__),
                                   tracemalloc.Filter(False, "<frozen importlib._bootstrap*>")))

    def tick(self) -> dict[str, Any]:
        """Take one snapshot, append its line, return it."""
        with self._lock:
            snap = self._snapshot()
            traced, peak = tracemalloc.get_traced_memory()
            row: dict[str, Any] = {"t_min": round((time.monotonic() - self.t0) / 60, 2), "rss_mb": round(rss_mb(), 1),
                                   "traced_mb": round(traced / 2**20, 1), "traced_peak_mb": round(peak / 2**20, 1),
                                   "threads": threading.active_count(), "objects": _types(self.top)}
            try:
                row["native"] = self.native() if self.native else {}
            except Exception as exc:  # diagnostics never stop the service
                row["native"] = {"error": f"{type(exc).__name__}: {exc}"}
            if self.first is not None and self.last is not None:
                row["growth_since_first"] = _sites(snap.compare_to(self.first, "traceback"), self.top)
                row["growth_since_last"] = _sites(snap.compare_to(self.last, "traceback"), self.top)
            self.first = self.first or snap
            self.last = snap
            with self.path.open("a") as fh:
                fh.write(json.dumps(row, default=str) + "\n")
            return row


def from_env(native: Callable[[], dict[str, Any]] | None = None) -> MemWatch | None:
    """A started MemWatch when `OGWATCH_TRACEMALLOC` names a file, else None (the default: off)."""
    target = os.environ.get(ENV_FILE, "").strip()
    if not target:
        return None
    every = float(os.environ.get(ENV_MINUTES, "5") or 5) * 60
    top = int(os.environ.get(ENV_TOP, "25") or 25)
    tracemalloc.start(FRAMES)
    return MemWatch(Path(target), every, top, native)
