"""The scheduler's store maintenance: when to checkpoint, reopen the store and trim the C heap.

An open DuckDB database keeps what was written since its last checkpoint and per-database state that grows
with the queries run (store/db.py `Store.reopen`); closing gives both back. The scheduler reopens on a
schedule (`[store] maintain_seconds`) and, in between, as soon as its resident set has grown by
`[store] reopen_growth_mb` over its level `min_gap_s` after the previous reopen (a reopened database first
reads back the blocks and indexes it works with: measured on the soak, ~50 MB within the first minute, which
must not count as growth), so the peak stays bounded by that settled level plus the margin, whatever the
write and query rate. Checked every few seconds; two reopens are at least `min_gap_s` apart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ogwatch import memwatch
from ogwatch.secrets import redact
from store.db import Store

log = logging.getLogger("ogwatch.maintenance")
CHECK_SECONDS = 5.0  # how often the resident set is looked at (reading /proc/self/status: microseconds)
MIN_GAP_SECONDS = 60.0


@dataclass
class Maintenance:
    """Decides and runs the store's reopens; `check` is the scheduled job, `stats` what it did."""

    store: Store
    every_s: float  # the longest time between two reopens (0: never on a schedule)
    growth_mb: float  # reopen early after this much growth since the last reopen (0: never early)
    min_gap_s: float = MIN_GAP_SECONDS
    rss: Callable[[], float] = memwatch.rss_mb
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._last = self.clock()
        self._reopened = False
        self._base: float | None = None  # RSS min_gap_s after the last reopen; unknown until then
        self._lock = threading.Lock()
        self.reopens = {"schedule": 0, "growth": 0}

    def due(self) -> str | None:
        """Why a reopen is due now ("schedule" | "growth"), or None."""
        since = self.clock() - self._last
        if self.every_s > 0 and since >= self.every_s:
            return "schedule"
        if self.growth_mb > 0 and self._base is not None and self.rss() - self._base >= self.growth_mb:
            return "growth"
        return None

    def check(self) -> str | None:
        """Reopen if due; returns the reason when it did. A failed reopen is one redacted line; next check retries."""
        with self._lock:
            if self._reopened and self._base is None and self.clock() - self._last >= self.min_gap_s:
                self._base = self.rss()  # the settled level this reopen's growth is measured from
            why = self.due()
            if why is None:
                return None
            before = self.rss()
            try:
                self.store.reopen()
            except Exception as exc:  # the store stays usable (Store.reopen reconnects even after a failed close)
                log.warning("store: reopen failed: %s", redact(f"{type(exc).__name__}: {exc}"))
            memwatch.trim_heap()
            self._last, self._base, self._reopened = self.clock(), None, True
            self.reopens[why] += 1
            log.info("store: reopened (%s): RSS %.0f -> %.0f MB", why, before, self.rss())
            return why
