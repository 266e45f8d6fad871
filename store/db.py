"""The one module that opens DuckDB, and the process policy around its file lock.

Policy (DuckDB: one writing process or many reading processes, never both):
- **Writer** (`Store`): the scheduler, or a one-shot CLI write, opens the file read-write for as
  long as it runs, migrates it, and serves every other process's reads through `store.owner`
  (per-request cursors, so reads and writes proceed together inside the one process).
- **Readers** (`Reader`): the dashboard and CLI read commands ask the announced owner; when no owner
  is announced they open the file read-only for one query and close it at once.
- Any lock conflict (a writer starting while a direct reader holds the file, or the reverse) is
  retried with jittered backoff up to a bounded wait, then reported as `StoreBusy`.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pyarrow as pa

from store import migrate, queries
from store.errors import StoreBusy, StoreError, StoreMissing
from store.owner import OwnerInfo, OwnerServer, OwnerUnavailable, ask_owner, ask_owner_many, read_owner
from store.owner_batch import MAX_BATCH, Answer

if TYPE_CHECKING:  # pandas loads on first .to_pandas(); a collector process need not pay its memory
    import pandas as pd

DEFAULT_PATH = Path("data/ogwatch.duckdb")
WRITER_WAIT_S = 30.0  # a starting writer outwaits direct readers, which hold the file for milliseconds
READER_WAIT_S = 10.0  # a reader outwaits an owner that is starting up or shutting down
#: The writer's DuckDB memory limit (buffer pool, indexes, query memory; beyond it DuckDB evicts or spills to
#: `<db>.tmp`). DuckDB's own default is 80 % of RAM, which lets a long-running scheduler grow with the file.
MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT = "OGWATCH_STORE_MEMORY_LIMIT", "512MB"
#: The owner's GIL switch interval. Its read service shares the GIL with the writer's jobs (alert rules,
#: decoding); at Python's default 5 ms each hand-over of the GIL to a serving thread can wait 5 ms, and a
#: request needs a dozen of them (measured: 1-row reads p50 45 ms / p95 240 ms beside one busy thread, 10-19 /
#: 20-75 ms at 0.5 ms).
OWNER_SWITCH_INTERVAL_S = 0.0005
T = TypeVar("T")


def _is_lock_error(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _retry_locked(what: Callable[[], T], wait_s: float, path: Path) -> T:
    deadline = time.monotonic() + wait_s
    delay = 0.01
    while True:
        try:
            return what()
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreBusy(f"{path} stayed locked by another process for {wait_s:.0f} s") from exc
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 0.25)


def run_named(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pa.Table:
    """Execute one registered query with bound parameters."""
    q = queries.get(name)
    bound = queries.bind(q, params)
    return con.sql(q.sql, params=bound).to_arrow_table()


class Store:
    """The writing process's handle: read-write connection, migrations, transactions, read service."""

    def __init__(self, path: Path | str = DEFAULT_PATH, *, wait_s: float = WRITER_WAIT_S, serve: bool = True,
                 memory_limit: str | None = None):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path.parent}: {exc.strerror}") from exc
        self._limit = memory_limit or os.environ.get(MEMORY_LIMIT_ENV, "").strip() or DEFAULT_MEMORY_LIMIT
        self._con = _retry_locked(self._connect, wait_s, self.path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._gen, self._reads, self._reopening, self._closing = 0, 0, False, False  # see reopen(), close()
        self._gate = threading.Condition()
        try:
            self.applied = migrate.migrate(self._con)
        except StoreError:
            self._con.close()
            raise
        self._server: OwnerServer | None = None
        if serve:
            self._server = OwnerServer(self.path, self.query_arrow)
            sys.setswitchinterval(min(sys.getswitchinterval(), OWNER_SWITCH_INTERVAL_S))
            try:
                self._server.start()
            except OSError as exc:  # a full or read-only data/: one line, not a traceback
                self._con.close()
                raise StoreError(f"cannot write beside {self.path}: {exc.strerror or exc}") from exc

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), config={"memory_limit": self._limit})

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not shared across threads)."""
        cur = getattr(self._local, "cur", None)
        if cur is None or getattr(self._local, "gen", -1) != self._gen:
            cur = self._local.cur = self._con.cursor()
            self._local.gen = self._gen
        return cur

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor for one read; a reopen waits for the reads in flight and holds new ones back."""
        with self._gate:
            while self._reopening:
                self._gate.wait()
            if self._closing:
                raise StoreError(f"{self.path} is closing: no more reads")
            self._reads += 1
            cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()
            with self._gate:
                self._reads -= 1
                self._gate.notify_all()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing write: rows and checkpoints land together or not at all."""
        with self._write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            try:
                cur.execute("COMMIT")
            except duckdb.Error as exc:  # a full or failing disk: nothing of this transaction is kept
                raise StoreError(f"cannot write to {self.path}: {exc}") from exc

    def query_arrow(self, name: str, params: dict[str, Any]) -> pa.Table:
        """Run a named query on a fresh cursor (used by this process and by the read service)."""
        with self._reading() as cur:
            return run_named(cur, name, params)

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run a named query and return a DataFrame."""
        return self.query_arrow(name, params).to_pandas()

    def fetch(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of one parameterised read outside a transaction, on a fresh cursor (safe across a reopen)."""
        with self._reading() as cur:
            return cur.execute(sql, params or []).fetchall()

    def memory(self) -> dict[str, Any]:
        """DuckDB's own memory accounting (diagnostics): its limit, and bytes in memory and on temp by tag."""
        with self._reading() as cur:
            limit = cur.execute("SELECT current_setting('memory_limit')").fetchone()
            tags = cur.execute("SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() "
                               "WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0").fetchall()
        return {"memory_limit": limit[0] if limit else None,
                "mb_by_tag": {str(t): round(int(m) / 2**20, 1) for t, m, _ in tags},
                "temp_mb": round(sum(int(x) for *_, x in tags) / 2**20, 1)}

    def reopen(self) -> None:
        """Checkpoint, close and reopen the database between writes and reads. Readers in other processes keep
        asking this process (its announcement stays), which holds new reads back for the moment it takes.

        Why: besides the rows written since the last checkpoint, DuckDB keeps per-database state that grows with
        the queries run (measured: +30-70 MB over 2,500-9,000 dashboard and alert queries on the soak's store,
        none of it in `duckdb_memory()`, all of it returned on close). A long-running scheduler reopens on a
        schedule (ogwatch/service.py) to give that back. Other threads' cursors are replaced on their next use
        (`cursor()` checks the generation); a read on such a cursor outside a transaction at that very moment
        fails once and its job retries on its next run.
        """
        with self._write_lock:
            with self._gate:
                self._reopening = True
                while self._reads:
                    self._gate.wait()
            try:
                try:
                    self._con.close()  # checkpoints, and closes every cursor made from it
                finally:  # even when the checkpoint failed (a full disk): the store must stay usable
                    self._con = _retry_locked(self._connect, WRITER_WAIT_S, self.path)
                    self._gen += 1
            finally:
                with self._gate:
                    self._reopening = False
                    self._gate.notify_all()

    def close(self) -> None:
        """Stop serving reads, wait for the reads in flight (the server's handler threads may still be in one),
        then release the file. DuckDB refuses to close a connection another thread is calling into."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        with self._gate:
            self._closing = True
            while self._reads:
                self._gate.wait()
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Reader:
    """A reading process's handle: asks the owner if one is announced, else reads the file directly."""

    def __init__(self, path: Path | str = DEFAULT_PATH, *, wait_s: float = READER_WAIT_S):
        self.path = Path(path)
        self.wait_s = wait_s
        self.last_route = ""

    def query_arrow(self, name: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run a named query wherever it can run now, within the bounded wait."""
        params = _checked(name, params)  # fail fast on bad input, before any I/O
        return self._route(name, lambda info, t: ask_owner(info, name, params, t), lambda: self._direct(name, params))

    def query_many(self, batch: Sequence[tuple[str, Mapping[str, Any] | None]]) -> list[Answer]:
        """Several named queries at once: one request to the owner (which runs them concurrently), or one
        read-only open of the file. One `Answer` per query, in order: its table or its own error. A bad name or
        parameter anywhere is refused before any I/O (one StoreError naming it)."""
        asked = [(name, _checked(name, params)) for name, params in batch]
        if len(asked) > MAX_BATCH:
            raise StoreError(f"{len(asked)} queries in one batch: at most {MAX_BATCH}")
        what = f"{len(asked)} queries"
        return [] if not asked else self._route(what, lambda info, t: ask_owner_many(info, asked, t),
                                                lambda: self._direct_many(asked))

    def _route(self, what: str, owner: Callable[[OwnerInfo, float], T], direct: Callable[[], T]) -> T:
        """Ask the owner if one is announced, else read the file directly; retry either within the wait."""
        deadline = time.monotonic() + self.wait_s
        while True:
            info = read_owner(self.path)
            if info is not None:
                try:
                    self.last_route = "owner"
                    return owner(info, max(1.0, deadline - time.monotonic()))
                except OwnerUnavailable:
                    pass
            else:
                try:
                    self.last_route = "direct"
                    return direct()
                except StoreBusy:
                    pass
            if time.monotonic() >= deadline:
                raise StoreBusy(f"no answer for {what}: {self.path} is locked and its owner does not answer")
            time.sleep(0.02 + random.random() * 0.05)

    def _direct(self, name: str, params: dict[str, Any]) -> pa.Table:
        if not self.path.exists():
            raise StoreMissing(f"no store at {self.path} yet: start the collectors (ogwatch run)")
        con = _retry_locked(lambda: duckdb.connect(str(self.path), read_only=True), 0.0, self.path)
        try:
            return run_named(con, name, params)
        except duckdb.CatalogException as exc:
            raise StoreMissing(f"{self.path} has no schema yet: start the collectors (ogwatch run)") from exc
        finally:
            con.close()

    def _direct_many(self, batch: list[tuple[str, dict[str, Any]]]) -> list[Answer]:
        if not self.path.exists():
            raise StoreMissing(f"no store at {self.path} yet: start the collectors (ogwatch run)")
        con = _retry_locked(lambda: duckdb.connect(str(self.path), read_only=True), 0.0, self.path)
        try:
            return [_answer(con, self.path, name, params) for name, params in batch]
        finally:
            con.close()

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run a named query and return a DataFrame."""
        return self.query_arrow(name, params).to_pandas()


def _checked(name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters as sent (datetimes as ISO text), after checking them against the named query."""
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in (params or {}).items()}
    queries.bind(queries.get(name), out)
    return out


def _answer(con: duckdb.DuckDBPyConnection, path: Path, name: str, params: dict[str, Any]) -> Answer:
    """One query of a direct batch: its table, or the error it raised (as a StoreError)."""
    try:
        return Answer(name, run_named(con, name, params))
    except duckdb.CatalogException:
        return Answer(name, None, StoreMissing(f"{path} has no schema yet: start the collectors (ogwatch run)"))
    except (StoreError, duckdb.Error) as exc:
        return Answer(name, None, exc if isinstance(exc, StoreError) else StoreError(f"query {name} failed: {exc}"))
