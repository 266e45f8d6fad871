"""The engine's plumbing for backfills: a span fetched ahead on a worker thread, and commit units.

- `fetch_span` is everything a span needs from the node (its end headers, its logs, the end header asked
  again to see whether the chain moved meanwhile, and the timestamps the logs lack). It touches no store.
- `Prefetcher` runs at most one `fetch_span` ahead on one worker thread, so the node serves span i+1
  while span i is decoded and written. Only one thread uses the RPC pool at any time: the engine asks
  the node itself only after `drain()` (reorg handling) or before anything is in flight.
- `CommitUnit` keeps one store transaction open over several spans and commits after enough logs or
  seconds: the spans' rows, their blocks and the last span's checkpoint commit together, and a crash loses
  at most the uncommitted spans, which the next run indexes again from the last committed checkpoint.
- `Writer` runs the span writes of a `CommitUnit` on a worker thread, so DuckDB inserts span i (without
  the GIL) while span i+1 is decoded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import duckdb

# One glibc malloc arena (ogwatch/__init__.py sets it at the package's import, before any thread allocates): a
# span's JSON is parsed on the fetch thread and freed on the main thread, and per-thread arenas each kept their
# own high-water mark, 40-50 MB more peak RSS on the benchmark's backfill, with no speed difference.
import ogwatch  # noqa: F401
from collectors import fetch
from collectors.pool import RpcPool
from store import chainwrite
from store.chainwrite import Checkpoint
from store.db import Store


@dataclass(frozen=True)
class Fetched:
    """What the node said about one span [lo, hi]."""

    lo: int
    hi: int
    ends: dict[int, dict[str, Any]]  # headers of lo and hi
    raw: list[dict[str, Any]]  # the logs as JSON-RPC returned them, in chain order
    splits: int  # how often the range was refused and split
    timestamps: dict[int, int]  # block timestamps of log blocks, when the logs do not carry them
    moved: bool  # hi's hash changed while the logs were fetched


def fetch_span(pool: RpcPool, addresses: list[str], topics: list[str], lo: int, hi: int) -> Fetched:
    """Everything one span needs from the node (RPC only)."""
    ends = fetch.headers(pool, sorted({lo, hi}))
    raw, splits = fetch.get_logs(pool, addresses, topics, lo, hi)
    missing = {int(lg["blockNumber"], 16) for lg in raw if "blockTimestamp" not in lg}
    later = fetch.headers(pool, sorted(missing | {hi}))  # hi again, and the timestamps, in one batch
    ts = {n: int(later[n]["timestamp"], 16) for n in missing}
    return Fetched(lo, hi, ends, raw, splits, ts, later[hi]["hash"] != ends[hi]["hash"])


class Prefetcher:
    """At most one span fetched ahead, on one worker thread started on first use."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._lo: int | None = None
        self._future: Future[Fetched] | None = None

    def start(self, pool: RpcPool, addresses: list[str], topics: list[str], lo: int, hi: int) -> None:
        """Begin fetching [lo, hi] in the background (the previous one must have been taken or drained)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ogwatch-prefetch")
        self._lo, self._future = lo, self._pool.submit(fetch_span, pool, addresses, topics, lo, hi)

    def take(self, lo: int) -> Fetched | None:
        """The span fetched ahead if it starts at `lo` (its errors raise here), else None (and it is dropped)."""
        future, started = self._future, self._lo
        self._future = self._lo = None
        if future is None:
            return None
        if started != lo:
            _settle(future)
            return None
        return future.result()

    def drain(self) -> None:
        """Wait for the span in flight, if any, and drop it: the caller is about to use the RPC pool itself."""
        future, self._future, self._lo = self._future, None, None
        if future is not None:
            _settle(future)

    def close(self) -> None:
        """Drain and stop the worker thread."""
        self.drain()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _settle(future: Future[Fetched]) -> None:
    """Wait for a dropped fetch; its outcome does not matter any more (the span is fetched again if needed)."""
    try:
        future.result()
    except Exception:  # noqa: S110 - a dropped prefetch's error is not this tick's error
        pass


Block = tuple[int, str, str, int]  # number, hash, parent hash, unix ts


class CommitUnit:
    """One store transaction over several spans, committed after `max_logs` logs or `max_seconds`.

    A span's rows are written as it comes; its block headers and checkpoint may be handed to `defer`, and then
    the unit writes the blocks of all its spans and the last checkpoint once, just before it commits, in the
    same transaction (4-5 fewer DuckDB statements per span; a checkpoint nobody reads before the commit is
    not written again and again).
    """

    def __init__(self, store: Store, max_logs: int, max_seconds: float):
        self.store, self.max_logs, self.max_seconds = store, max_logs, max_seconds
        self._stack: ExitStack | None = None
        self._cur: duckdb.DuckDBPyConnection | None = None
        self._logs, self._opened = 0, 0.0
        self._cp: Checkpoint | None = None
        self._blocks: list[Block] = []

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """The open transaction's cursor (a transaction begins if none is open)."""
        if self._cur is None:
            self._stack = ExitStack()
            self._cur = self._stack.enter_context(self.store.transaction())
            self._logs, self._opened = 0, time.monotonic()
        return self._cur

    def defer(self, cp: Checkpoint, blocks: list[Block]) -> None:
        """A written span's blocks (ascending, after those deferred before) and checkpoint, for the commit."""
        self._cp = cp
        self._blocks.extend(blocks)

    def wrote(self, logs: int) -> None:
        """A span was written: commit when the unit is full."""
        self._logs += logs
        if self._logs >= self.max_logs or time.monotonic() - self._opened >= self.max_seconds:
            self.commit()

    def _flush(self) -> None:
        cp, blocks, self._cp, self._blocks = self._cp, self._blocks, None, []
        if cp is not None and self._cur is not None:
            chainwrite.write_blocks(self._cur, cp, blocks)

    def commit(self) -> None:
        """Commit what is open, if anything (the deferred blocks and checkpoint first)."""
        try:
            self._flush()
        except BaseException as err:
            self.__exit__(type(err), err, err.__traceback__)  # rolls the whole unit back
            raise
        stack, self._stack, self._cur = self._stack, None, None
        if stack is not None:
            stack.close()

    def __enter__(self) -> CommitUnit:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        failed: BaseException | None = None
        if kind is None:
            try:
                self._flush()
            except BaseException as err:  # noqa: BLE001 - rolled back below, then raised
                failed, kind, exc, tb = err, type(err), err, err.__traceback__
        self._cp, self._blocks = None, []
        stack, self._stack, self._cur = self._stack, None, None
        if stack is not None:
            stack.__exit__(kind, exc, tb)  # rolls back on an exception, commits otherwise
        if failed is not None:
            raise failed


class Writer:
    """Span writes on one worker thread, in order, inside a `CommitUnit` that lives on that thread.

    DuckDB releases the GIL while it inserts and commits, so span i is written while span i+1 is decoded.
    At most one write waits in the queue (bounded memory); a write's error is raised by the next call.
    The store's transaction (and its write lock) is opened, committed or rolled back on the worker thread.
    """

    def __init__(self, store: Store, max_logs: int, max_seconds: float):
        self._unit = CommitUnit(store, max_logs, max_seconds)
        self._pool: ThreadPoolExecutor | None = None
        self._last: Future[None] | None = None

    def submit(self, job: Callable[[duckdb.DuckDBPyConnection], int],
               deferred: tuple[Checkpoint, list[Block]] | None = None) -> None:
        """Queue job(cursor) after the previous one; the job returns how many logs it wrote.

        `deferred`: the span's checkpoint and blocks, written when its commit unit commits (`CommitUnit.defer`).
        """
        self._wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ogwatch-writer")
        self._last = self._pool.submit(self._run, job, deferred)

    def _run(self, job: Callable[[duckdb.DuckDBPyConnection], int],
             deferred: tuple[Checkpoint, list[Block]] | None) -> None:
        logs = job(self._unit.cursor())
        if deferred is not None:
            self._unit.defer(*deferred)
        self._unit.wrote(logs)

    def _wait(self) -> None:
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def _on_thread(self, fn: Callable[[], None]) -> None:
        if self._pool is None:
            fn()
        else:
            self._pool.submit(fn).result()

    def commit(self) -> None:
        """Wait for the queued writes and commit them (before the caller uses the store itself)."""
        self._wait()
        self._on_thread(self._unit.commit)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        failed: BaseException | None = None
        try:
            try:
                self._wait()  # the last queued write
            except BaseException as err:  # noqa: BLE001 - rolled back below, then raised (unless one is in flight)
                failed = err if exc is None else None
                if exc is None:
                    kind, exc, tb = type(err), err, err.__traceback__
            self._on_thread(lambda: self._unit.__exit__(kind, exc, tb))  # commit, or roll back on an error
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        if failed is not None:
            raise failed
