"""The verification summaries (migration 0010) keep every verification query's answer equal to the rows' own.

Random inference rows on two chains (NULL callers and block times, simulations, mixed-case addresses, a mode
outside the three) are written through the inference-caller job's own write path; the summaries advance in
bounded steps, take late rows below the watermark, and follow reorg rollbacks (store/chainwrite.rollback_above)
below and above the watermark. At every stage the six queries return frames equal (values and dtypes) to the
SQL they had before the summaries (tests/test_verification_summary_ref.py) for unaligned, hour- and
day-aligned `since`, a chain filter, production networks and production callers (by caller and, for direct
calls, by sender key), and every summary table equals one rebuilt from the rows under the watermark.
"""

# ruff: noqa: S608 - table names and SQL from store.verification_summary; values are bound
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from collectors.inference_callers import COLUMNS, InferenceCallerJob
from collectors.pool import RpcPool
from store import chainwrite, queries
from store import verification_summary as vs
from store.db import Store
from tests.test_verification_summary_ref import REFERENCE

CHAINS = (10740, 10744)
T0 = 1_795_000_000 - 1_795_000_000 % 86400 + 5000  # a UTC day start plus 5,000 s
CALLERS = ("0xAbC0000000000000000000000000000000000001", "0xabc0000000000000000000000000000000000002",
           "0xABC0000000000000000000000000000000000003", None)
SENDERS = ("0x5E00000000000000000000000000000000000001", "0x5e00000000000000000000000000000000000002",
           "0x5E00000000000000000000000000000000000003", "0x5e00000000000000000000000000000000000004", None)
_PROD_CALLERS = f"10744:{CALLERS[0].lower()},10740:{SENDERS[1].upper()},bad"  # a caller; a direct sender's key
CASES = (  # (chain_id, since, prod_chains, prod_callers): unaligned, hour- and day-aligned and future `since`
    (None, None, "", ""),
    (None, T0 + 3 * 3600 + 1037.5, "10740", ""),
    (10744, T0 + 3 * 3600 + 1037.5, "", _PROD_CALLERS),
    (None, T0 + 31 * 3600 - 5000, "", _PROD_CALLERS),
    (10740, T0 + 86400 - 5000, "10744", f"10740:{CALLERS[2].lower()}"),
    (None, T0 + 50 * 3600 + 61, "10740", _PROD_CALLERS),
    (None, None, "", _PROD_CALLERS),
    (10740, None, "10740", f"10740:{CALLERS[2].lower()}"),
    (None, T0 + 900 * 211, "", _PROD_CALLERS),
)


def _rows(rng: random.Random, chain: int, blocks: range) -> list[tuple[Any, ...]]:
    out = []
    for b in blocks:
        ts = None if b % 37 == 0 else T0 + b * 211 + rng.randint(0, 150)
        for li in range(rng.randint(0, 3)):
            kind = rng.choice(("ml", "llm"))
            mode = rng.choice(("VANILLA", "VANILLA", "TEE", "ZKML", "MYSTERY"))
            values = {"chain_id": chain, "block_number": b, "block_ts": ts, "tx_hash": f"0x{chain}{b:08x}{li}",
                      "tx_index": li, "log_index": li * 2, "position": 0, "inference_id": f"id{b}-{li}",
                      "kind": kind, "mode_int": 0, "mode": mode, "model": rng.choice(("m1", "m2", "Qm3")),
                      "is_simulation": rng.random() < 0.15, "result_log_index": li * 2 + 1 if li else None,
                      "workflow_log_index": None, "workflow": None, "sender": rng.choice(SENDERS),
                      "caller": rng.choice(CALLERS), "caller_precision": rng.choice(("trace", "tx_to")),
                      "resolved_at": datetime.now(UTC)}
            out.append(tuple(values[c] for c in COLUMNS))
    return out


def _insert_logs(cur: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> None:
    """The rows' source inference logs."""
    cur.register("_new", pd.DataFrame(rows, columns=list(COLUMNS)))
    cur.execute("""INSERT OR IGNORE INTO inferences SELECT chain_id, block_number, printf('0x%064x', block_number),
                   block_ts, tx_hash, tx_index, log_index, '0xhub', 'Ev', inference_id, kind, 0, mode, model,
                   is_simulation FROM _new""")
    cur.unregister("_new")


def _insert_calls(cur: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]], logs: bool = True) -> None:
    """Rows straight into `inference_calls` (as a seeder or an older version would leave them)."""
    if logs:
        _insert_logs(cur, rows)
    cur.register("_new", pd.DataFrame(rows, columns=list(COLUMNS)))
    cur.execute("INSERT INTO inference_calls SELECT * FROM _new")
    cur.unregister("_new")


def _write(store: Store, job: InferenceCallerJob, rows: list[tuple[Any, ...]]) -> None:
    """The job's write path: the source logs first (rows are written only while their log is stored)."""
    with store.transaction() as cur:
        _insert_logs(cur, rows)
        job._write(cur, rows)


def _frames(store: Store) -> Iterator[tuple[str, dict[str, Any], pd.DataFrame, pd.DataFrame]]:
    cur = store.cursor()
    for name, ref in REFERENCE.items():
        for i, (chain_id, since, chains, callers) in enumerate(CASES):
            params = {"chain_id": chain_id, "since": None if since is None else datetime.fromtimestamp(since, UTC),
                      "prod_chains": chains, "prod_callers": callers}
            if name == "verification_coverage":
                params = {"chain_id": chain_id}
            if name == "verification_mode_series":
                params["bucket"] = ("hour", "day")[i % 2]
            bound = queries.bind(ref, params)
            yield name, params, cur.sql(queries.get(name).sql, params=bound).df(), cur.sql(ref.sql, params=bound).df()


def _assert_equal_answers(store: Store) -> int:
    compared = 0
    for name, params, new, old in _frames(store):
        if name == "verification_by_caller":  # ties in n across chains have no defined order, then or now
            new, old = (f.sort_values(["chain_id", "caller"], na_position="first").reset_index(drop=True)
                        for f in (new, old))
        assert list(new.dtypes) == list(old.dtypes), (name, params)
        pd.testing.assert_frame_equal(new, old, check_exact=True, obj=f"{name} {params}")
        compared += 1
    return compared


def _assert_summaries_exact(cur: duckdb.DuckDBPyConnection) -> None:
    """Every summary table holds exactly the aggregate of the rows under each chain's watermark."""
    covered = ("(SELECT c.* FROM inference_calls c JOIN verification_summary_state w ON w.chain_id = c.chain_id "
               "AND c.block_number <= w.watermark)")
    wants = {t.name: t.aggregate(covered) for t in vs.TIME_TABLES}
    wants[vs.SENDERS] = vs._PAIR_AGG.format(source=covered)
    for table, col, seconds in vs.SENDER_HISTOGRAMS:
        wants[table] = (f"SELECT chain_id, caller, last_ts // {seconds} * {seconds} AS {col}, count(*) AS pairs "
                        f"FROM ({wants[vs.SENDERS]}) GROUP BY ALL")
    wants["verification_coverage_counts"] = vs._COVERAGE_AGG.format(source=covered, low=-1, high=2**62)
    for table, sql in wants.items():
        have = cur.execute(f"SELECT * FROM {table} ORDER BY ALL").df()
        want = cur.execute(f"SELECT * FROM ({sql}) ORDER BY ALL").df()
        pd.testing.assert_frame_equal(have, want, check_dtype=False, obj=table)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, dict[int, InferenceCallerJob]]]:
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        pool = RpcPool(["http://127.0.0.1:9"])
        yield store, {c: InferenceCallerJob(store, pool, c, ["0xhub"], []) for c in CHAINS}


def test_summaries_follow_writes_late_rows_and_rollbacks(world: tuple[Store, dict[int, InferenceCallerJob]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store, jobs = world
    rng = random.Random(9)
    first = {c: _rows(rng, c, range(1, 700)) for c in CHAINS}
    with store.transaction() as cur:  # no watermark yet: every answer comes from the rows
        for c in CHAINS:
            _insert_calls(cur, first[c])
    assert _assert_equal_answers(store) == len(REFERENCE) * len(CASES)
    monkeypatch.setattr(vs, "ADVANCE_ROWS", 300)  # bounded steps: the watermark stops mid-chain
    for c in CHAINS:
        _write(store, jobs[c], _rows(rng, c, range(700, 760)))
    with store.transaction() as cur:
        marks = {c: vs.watermark(cur, c) for c in CHAINS}
        top = {c: cur.execute("SELECT max(block_number) FROM inference_calls WHERE chain_id = ?", [c]).fetchone()
               for c in CHAINS}
        _assert_summaries_exact(cur)
    assert all(m is not None and 0 < m < int(top[c][0]) for c, m in marks.items()), (marks, top)  # type: ignore[index]
    _assert_equal_answers(store)
    monkeypatch.setattr(vs, "ADVANCE_ROWS", 100_000)
    for c in CHAINS:  # late rows below the watermark (new blocks of an old range), then the rest
        late = [r for r in _rows(rng, c, range(1, 900)) if r[1] % 5 == 0 and r[5] == 0]
        with store.transaction() as cur:
            low, have = vs.watermark(cur, c), set(cur.execute("SELECT DISTINCT block_number FROM inference_calls "
                                                              "WHERE chain_id = ?", [c]).fetchall())
        assert low is not None and any(r[1] <= low and (r[1],) not in have for r in late)
        _write(store, jobs[c], late)
    with store.transaction() as cur:
        for c in CHAINS:
            last = cur.execute("SELECT max(block_number) FROM inference_calls WHERE chain_id = ?", [c]).fetchone()
            assert last is not None and vs.watermark(cur, c) == last[0]
        _assert_summaries_exact(cur)
        _insert_calls(cur, _rows(rng, CHAINS[1], range(900, 1000)))  # rows above the watermark, not folded yet
    _assert_equal_answers(store)
    with store.transaction() as cur:  # a reorg below the watermark, then one above it
        assert cur.execute("SELECT sum(unmatched), count(*) FROM verification_coverage_counts").fetchall() == [(0, 2)]
        high = vs.watermark(cur, CHAINS[1])
        chainwrite.rollback_above(cur, CHAINS[0], 512, "0xfork", "0xold", "0xnew")
        assert vs.watermark(cur, CHAINS[0]) == 512
        chainwrite.rollback_above(cur, CHAINS[1], 950, "0xfork", "0xold", "0xnew")
        assert vs.watermark(cur, CHAINS[1]) == high
        _assert_summaries_exact(cur)
    _assert_equal_answers(store)
    _write(store, jobs[CHAINS[0]], _rows(rng, CHAINS[0], range(513, 640)))  # the new branch
    with store.transaction() as cur:
        last = cur.execute("SELECT max(block_number) FROM inference_calls WHERE chain_id = ?", [CHAINS[0]]).fetchone()
        assert last is not None and vs.watermark(cur, CHAINS[0]) == last[0] > 600
        _assert_summaries_exact(cur)
        chainwrite.forget_chain(cur, CHAINS[1])
        assert vs.watermark(cur, CHAINS[1]) is None
        _assert_summaries_exact(cur)
    _assert_equal_answers(store)


def test_an_existing_store_is_filled_in_bounded_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(random.Random(3), CHAINS[0], range(1, 400))
    monkeypatch.setattr(vs, "ADVANCE_ROWS", 150)
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        with store.transaction() as cur:  # some without their source log: coverage counts them from the rows
            _insert_calls(cur, [r for r in rows if r[1] % 3], logs=True)
            _insert_calls(cur, [r for r in rows if not r[1] % 3], logs=False)
        job = InferenceCallerJob(store, RpcPool(["http://127.0.0.1:9"]), CHAINS[0], ["0xhub"], [])
        marks: list[int | None] = []
        folded = [0]
        while not marks or marks[-1] != max(r[1] for r in rows):  # the job's idle ticks advance it step by step
            assert job.tick() == 0 and len(marks) < 10
            with store.transaction() as cur:
                marks.append(vs.watermark(cur, CHAINS[0]))
                total = cur.execute("SELECT sum(n) FROM verification_mode_hours").fetchone()
                folded.append(int(total[0]) if total else 0)
        steps = [b - a for a, b in zip(folded, folded[1:], strict=False)]
        assert folded[-1] == len(rows) and all(150 <= d <= 153 for d in steps[:-1]) and 0 < steps[-1] <= 153
        with store.transaction() as cur:
            _assert_summaries_exact(cur)
        _assert_equal_answers(store)
    assert vs.main([]) == 2 and vs.main([str(tmp_path / "none.duckdb")]) == 2
    assert not (tmp_path / "none.duckdb").exists()
    assert vs.main([str(tmp_path / "s.duckdb")]) == 0  # the one-off fill, with nothing left to fold


def test_seeded_store_summaries_equal_the_rows(tmp_path: Path) -> None:
    from bench.seed_store import seed

    seed(tmp_path / "seeded.duckdb", 0.002, 7, datetime(2026, 11, 25, 21, 30, tzinfo=UTC), show=False)
    with Store(tmp_path / "seeded.duckdb", serve=False) as store:
        with store.transaction() as cur:
            _assert_summaries_exact(cur)
            assert vs.watermark(cur, 10740) == cur.execute("SELECT max(block_number) FROM inference_calls"
                                                           ).fetchone()[0]  # type: ignore[index]
        cur = store.cursor()
        since = {"since": datetime(2026, 11, 25, 21, 30, tzinfo=UTC) - timedelta(minutes=97)}
        for name, ref in REFERENCE.items():
            params = ({"prod_chains": "10740"} | since | ({"bucket": "hour"} if "series" in name else {})
                      if "coverage" not in name else {})
            bound = queries.bind(ref, params)
            pd.testing.assert_frame_equal(cur.sql(queries.get(name).sql, params=bound).df(),
                                          cur.sql(ref.sql, params=bound).df(), check_exact=True)
