"""The engine's backfill plumbing without a node: commit units and the writer thread commit or roll back
whole, the plain-INSERT path of a span's rows is taken only when no row can conflict (re-writing a span
stays harmless), and a span fetched ahead is handed over only to the span it was fetched for."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from collectors import engine_pipeline
from collectors.decode import COLUMNS, to_arrow
from collectors.engine_pipeline import CommitUnit, Fetched, Prefetcher, Writer
from store import chainwrite
from store.chainwrite import Checkpoint
from store.db import Store

CHAIN = 31337


def trade_rows(lo: int, hi: int, per_block: int = 3) -> list[dict[str, Any]]:
    rows = []
    for n in range(lo, hi + 1):
        for i in range(per_block):
            row: dict[str, Any] = dict.fromkeys(COLUMNS["trades"])
            row.update(block_number=n, block_hash=f"0x{n:064x}", block_ts=1_700_000_000 + n, tx_hash=f"0x{i:064x}",
                       tx_index=i, log_index=i, address="0x" + "11" * 20, event="Trade", trader="0x" + "22" * 20,
                       twin_id="0x" + "33" * 16, is_buy=bool(i % 2))
            for col in ("share_amount", "eth_amount", "protocol_eth_amount", "subject_eth_amount", "supply"):
                row[col], row[col + "_f"] = str(2**255), float(2**255)
            rows.append(row)
    return rows


def write(cur: Any, lo: int, hi: int, *, distinct: bool = True) -> None:
    cp = Checkpoint("fees", CHAIN, "0xgenesis", hi, f"0x{hi:064x}")
    blocks = [(n, f"0x{n:064x}", f"0x{n - 1:064x}", 1_700_000_000 + n) for n in range(lo, hi + 1)]
    chainwrite.write_span(cur, cp, {"trades": to_arrow("trades", trade_rows(lo, hi), CHAIN)}, blocks, distinct=distinct)


def counts(store: Store) -> tuple[int, int, int | None]:
    with store.transaction() as cur:
        trades = cur.execute("SELECT count(*) FROM trades").fetchone()
        blocks = cur.execute("SELECT count(*) FROM blocks").fetchone()
        cp = chainwrite.get_checkpoint(cur, "fees", CHAIN)
    assert trades is not None and blocks is not None
    return int(trades[0]), int(blocks[0]), cp.block_number if cp else None


def test_commit_units_commit_whole_and_roll_back_whole(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        with CommitUnit(store, max_logs=10, max_seconds=60) as unit:
            write(unit.cursor(), 0, 1)
            unit.wrote(6)  # below max_logs: still open
            write(unit.cursor(), 2, 3)
            unit.wrote(6)  # full: committed
        assert counts(store) == (12, 4, 3)
        with pytest.raises(RuntimeError), CommitUnit(store, max_logs=100, max_seconds=60) as unit:
            write(unit.cursor(), 4, 5)
            unit.wrote(6)
            write(unit.cursor(), 6, 7)
            raise RuntimeError("crash inside the unit")
        assert counts(store) == (12, 4, 3)  # nothing of the failed unit, the checkpoint where it was


def test_writer_writes_in_order_off_the_main_thread_and_rolls_back_a_failed_unit(tmp_path: Path) -> None:
    threads: set[str] = set()

    def span(lo: int, hi: int, fail: bool = False) -> Any:
        def job(cur: Any) -> int:
            threads.add(threading.current_thread().name)
            if fail:
                raise OSError("disk full")
            write(cur, lo, hi)
            return 6
        return job

    with Store(tmp_path / "s.duckdb", serve=False) as store:
        with Writer(store, max_logs=100, max_seconds=60) as writer:
            writer.submit(span(0, 1))
            writer.submit(span(2, 3))
            writer.commit()  # as before a reorg: everything queued is committed
            writer.submit(span(4, 5))
        assert counts(store) == (18, 6, 5) and threading.current_thread().name not in threads
        with pytest.raises(OSError, match="disk full"), Writer(store, max_logs=100, max_seconds=60) as writer:
            writer.submit(span(6, 7))
            writer.submit(span(8, 9, fail=True))  # raised by the next call, or when the writer closes
            writer.submit(span(10, 11))
        assert counts(store) == (18, 6, 5)  # the whole failed unit is rolled back


def deferred_span(lo: int, hi: int, fail: bool = False) -> tuple[Any, tuple[Checkpoint, list[Any]]]:
    """A writer job writing a span's rows only, and the span's checkpoint and blocks for its commit unit."""
    def job(cur: Any) -> int:
        if fail:
            raise OSError("disk full")
        chainwrite.write_rows(cur, {"trades": to_arrow("trades", trade_rows(lo, hi), CHAIN)}, distinct=True)
        return 3 * (hi - lo + 1)
    cp = Checkpoint("fees", CHAIN, "0xgenesis", hi, f"0x{hi:064x}")
    return job, (cp, [(n, f"0x{n:064x}", f"0x{n - 1:064x}", 1_700_000_000 + n) for n in range(lo, hi + 1)])


def test_deferred_blocks_and_checkpoint_commit_with_their_unit(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        with Writer(store, max_logs=12, max_seconds=60) as writer:
            writer.submit(*deferred_span(0, 1))  # 6 logs: the unit stays open
            writer.submit(*deferred_span(2, 3))  # 12: committed, with all 4 blocks and the checkpoint at 3
            writer.commit()  # nothing open: a no-op
            assert counts(store) == (12, 4, 3)
            writer.submit(*deferred_span(4, 5))
        assert counts(store) == (18, 6, 5)  # the writer's close commits the open unit's blocks and checkpoint
        with store.transaction() as cur:
            hashes = chainwrite.stored_hashes(cur, CHAIN, 5, 10)
        assert hashes == [(n, f"0x{n:064x}") for n in range(5, -1, -1)]
        with pytest.raises(OSError, match="disk full"), Writer(store, max_logs=100, max_seconds=60) as writer:
            writer.submit(*deferred_span(6, 7))
            writer.submit(*deferred_span(8, 9, fail=True))
        assert counts(store) == (18, 6, 5)  # rows, blocks and checkpoint of the failed unit all rolled back


def test_a_failing_flush_rolls_the_unit_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(cur: Any, cp: Checkpoint, blocks: list[Any]) -> None:
        raise OSError("disk full at commit")

    with Store(tmp_path / "s.duckdb", serve=False) as store:
        unit = CommitUnit(store, max_logs=6, max_seconds=60)
        job, (cp, blocks) = deferred_span(0, 1)
        job(unit.cursor())
        unit.defer(cp, blocks)
        monkeypatch.setattr(chainwrite, "write_blocks", broken)
        with pytest.raises(OSError, match="at commit"):
            unit.wrote(6)  # full: the flush fails, the unit is rolled back
        assert counts(store) == (0, 0, None)
        monkeypatch.undo()
        with CommitUnit(store, max_logs=100, max_seconds=60) as again:  # the store is usable afterwards
            job(again.cursor())
            again.defer(cp, blocks)
        assert counts(store) == (6, 2, 1)


def test_rewriting_stored_spans_is_harmless_on_every_path(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        for distinct in (True, False, True):
            with store.transaction() as cur:
                write(cur, 0, 4, distinct=distinct)  # the second and third time every row is already stored
                write(cur, 3, 6, distinct=distinct)  # overlaps: falls back to INSERT OR IGNORE
        assert counts(store) == (21, 7, 6)
        with store.transaction() as cur:
            exact = cur.execute("SELECT DISTINCT share_amount FROM trades").fetchall()
        assert exact == [(str(2**255),)]


def test_plain_insert_only_when_the_block_range_is_empty(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb", serve=False) as store, store.transaction() as cur:
        seen: list[str] = []
        cur_proxy = _Recording(cur, seen)
        rows = to_arrow("trades", trade_rows(10, 11), CHAIN)
        chainwrite.insert_span_rows(cur_proxy, "trades", rows, distinct=True)  # type: ignore[arg-type]
        chainwrite.insert_span_rows(cur_proxy, "trades", rows, distinct=True)  # type: ignore[arg-type]
        inserts = [s.split(" INTO")[0] for s in seen if "INTO" in s]
        assert inserts == ["INSERT", "INSERT OR IGNORE"]
        assert cur.execute("SELECT count(*) FROM trades").fetchone() == (6,)


class _Recording:
    """A cursor that records the SQL it runs."""

    def __init__(self, cur: Any, seen: list[str]):
        self._cur, self._seen = cur, seen

    def execute(self, sql: str, *args: Any) -> Any:
        self._seen.append(sql)
        return self._cur.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def test_prefetcher_hands_over_only_the_span_it_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[tuple[int, int]] = []

    def fake(pool: Any, addresses: list[str], topics: list[str], lo: int, hi: int) -> Fetched:
        fetched.append((lo, hi))
        if lo == 666:
            raise ConnectionError("node gone")
        return Fetched(lo, hi, {}, [], 0, {}, False)

    monkeypatch.setattr(engine_pipeline, "fetch_span", fake)
    ahead = Prefetcher()
    try:
        assert ahead.take(5) is None  # nothing in flight
        ahead.start(None, [], [], 10, 19)  # type: ignore[arg-type]
        got = ahead.take(10)
        assert got is not None and (got.lo, got.hi) == (10, 19)
        ahead.start(None, [], [], 20, 29)  # type: ignore[arg-type]
        assert ahead.take(25) is None and ahead.take(20) is None  # another span: dropped, not handed over
        ahead.start(None, [], [], 666, 700)  # type: ignore[arg-type]
        with pytest.raises(ConnectionError):
            ahead.take(666)
        ahead.start(None, [], [], 666, 700)  # type: ignore[arg-type]
        ahead.drain()  # a dropped fetch's error is not raised
    finally:
        ahead.close()
    assert fetched == [(10, 19), (20, 29), (666, 700), (666, 700)]
