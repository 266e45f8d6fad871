"""The derived inference rows in the store: reorg rollback trims them, and a vanished source log writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from collectors.inference_callers import COLUMNS, InferenceCallerJob
from collectors.pool import RpcPool
from store import chainwrite
from store.db import Store

CHAIN = 10744


def _inference(cur: duckdb.DuckDBPyConnection, block: int, log_index: int, tx: str) -> None:
    cur.execute("""INSERT INTO inferences VALUES (?, ?, ?, NULL, ?, 0, ?, '0xF4', 'ModelInferenceEvent', 'id', 'ml',
                   0, 'VANILLA', 'QmModel', false)""", [CHAIN, block, f"0x{block:064x}", tx, log_index])


def _row(block: int, log_index: int, tx: str) -> tuple[object, ...]:
    values = {"chain_id": CHAIN, "block_number": block, "block_ts": None, "tx_hash": tx, "tx_index": 0,
              "log_index": log_index, "position": 0, "inference_id": "id", "kind": "ml", "mode_int": 0,
              "mode": "VANILLA", "model": "QmModel", "is_simulation": False, "result_log_index": log_index + 1,
              "workflow_log_index": None, "workflow": None, "sender": None, "caller": None,
              "caller_precision": "tx_to", "resolved_at": datetime.now(UTC)}
    return tuple(values[c] for c in COLUMNS)


def test_rows_follow_their_source_logs(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        job = InferenceCallerJob(store, RpcPool(["http://127.0.0.1:9"]), CHAIN, ["0xhub"], ["0xf4"])
        with store.transaction() as cur:
            _inference(cur, 10, 0, "0xa")
            _inference(cur, 20, 0, "0xb")
            # the row of block 30 has no stored log (rolled back between read and write): it is not written
            assert job._write(cur, [_row(10, 0, "0xa"), _row(20, 0, "0xb"), _row(30, 0, "0xc")]) == 2
            assert job._write(cur, [_row(10, 0, "0xa")]) == 0  # written twice: nothing more
            assert ("inference_calls", "block_number") in chainwrite.chain_tables(cur)
            removed = chainwrite.rollback_above(cur, CHAIN, 15, "0xfork", "0xold", "0xnew")
            assert removed["inference_calls"] == 1 and removed["inferences"] == 1
            left = cur.execute("SELECT block_number FROM inference_calls").fetchall()
        assert left == [(10,)]
