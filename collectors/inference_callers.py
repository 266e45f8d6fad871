"""The inference-caller job: derives one `inference_calls` row per indexed inference (migration 0006).

Each tick takes transactions whose inference logs have no derived row yet, asks the node (batched,
through the network's RpcPool) for each transaction (`from`, `to`) and, when the node has traces, its
call tree (`trace_transaction`, else `debug_traceTransaction` with the callTracer), pairs the logs
(collectors.verification_pairing) and writes the rows. Rows are inserted only while their source log is
still stored, so a reorg between reading and writing leaves nothing behind; a rolled-back block's rows
go with it (chain_id + block_number) and are derived again from the re-indexed logs. The rows written are
folded into the verification summaries in the same transaction (store/verification_summary.py), whose
watermark each tick also advances by a bounded step (an existing store's first passes).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd
from eth_utils import to_checksum_address

from collectors import capabilities
from collectors import verification_pairing as vp
from collectors.pool import RpcPool
from collectors.rpc import RpcError
from ogwatch.config import Config
from store import verification_summary as summary
from store.db import Store

log = logging.getLogger("ogwatch.collectors.inference_callers")
TXS_PER_TICK = 2000  # bounded work per tick; the next tick continues
COLUMNS = ("chain_id", "block_number", "block_ts", "tx_hash", "tx_index", "log_index", "position", "inference_id",
           "kind", "mode_int", "mode", "model", "is_simulation", "result_log_index", "workflow_log_index",
           "workflow", "sender", "caller", "caller_precision", "resolved_at")


@dataclass(frozen=True)
class PendingLog:
    """A stored inference log without a derived row yet."""

    block_number: int
    block_ts: int | None
    tx_hash: str
    tx_index: int
    log_index: int
    inference_id: str
    kind: str
    mode_int: int
    mode: str
    model: str
    is_simulation: bool | None


def _checksum(address: str | None) -> str | None:
    return to_checksum_address(address) if address else None


class InferenceCallerJob:
    """Resolves callers and pairings of one network's inferences."""

    def __init__(self, store: Store, pool: RpcPool, chain_id: int, hubs: list[str], precompiles: list[str],
                 network: str = ""):
        self.store, self.pool, self.chain_id, self.network = store, pool, chain_id, network
        self.hubs = {h.lower() for h in hubs}
        self.precompiles = {p.lower() for p in precompiles}

    def tick(self, limit: int = TXS_PER_TICK) -> int:
        """One bounded pass over up to `limit` transactions (oldest first); returns how many rows were written."""
        with self.store.transaction() as cur:
            pending = self._pending(cur, limit)
            results = self._results(cur, list(pending))
        if not pending:
            with self.store.transaction() as cur:  # an existing store's summaries, a bounded step per tick
                summary.advance(cur, self.chain_id, summary.ADVANCE_ROWS)
            return 0
        rows = self._derive(pending, results)
        with self.store.transaction() as cur:
            return self._write(cur, rows)

    def run_all(self, limit: int = TXS_PER_TICK) -> int:
        """Passes until nothing is left (a backfill); returns how many rows were written."""
        total = 0
        while True:
            done = self.tick(limit)
            total += done
            if done == 0:
                return total

    # ----- store -----

    def _pending(self, cur: duckdb.DuckDBPyConnection, limit: int) -> dict[str, list[PendingLog]]:
        rows = cur.execute("""
            WITH todo AS (
                SELECT i.tx_hash, min(i.block_number) AS b FROM inferences i
                WHERE i.chain_id = ? AND NOT EXISTS (
                    SELECT 1 FROM inference_calls c
                    WHERE c.chain_id = i.chain_id AND c.block_number = i.block_number AND c.log_index = i.log_index)
                GROUP BY i.tx_hash ORDER BY b LIMIT ?)
            SELECT i.block_number, coalesce(i.block_ts, epoch(k.ts)::BIGINT), i.tx_hash, i.tx_index, i.log_index,
                   i.inference_id, i.kind, i.mode_int, i.mode, i.model, i.is_simulation_result
            FROM inferences i JOIN todo t ON i.tx_hash = t.tx_hash AND i.block_number = t.b
            LEFT JOIN blocks k ON k.chain_id = i.chain_id AND k.number = i.block_number
            WHERE i.chain_id = ? ORDER BY i.block_number, i.log_index""",
                           [self.chain_id, limit, self.chain_id]).fetchall()
        out: dict[str, list[PendingLog]] = defaultdict(list)
        for r in rows:
            out[str(r[2])].append(PendingLog(int(r[0]), None if r[1] is None else int(r[1]), str(r[2]), int(r[3]),
                                             int(r[4]), str(r[5]), str(r[6]), int(r[7]), str(r[8]), str(r[9]),
                                             None if r[10] is None else bool(r[10])))
        return dict(out)

    def _results(self, cur: duckdb.DuckDBPyConnection, txs: list[str]) -> dict[str, list[tuple[Any, ...]]]:
        if not txs:
            return {}
        rows = cur.execute("""
            SELECT tx_hash, log_index, kind, event, address, is_simulation_result FROM inference_results
            WHERE chain_id = ? AND tx_hash IN (SELECT unnest(?::VARCHAR[])) ORDER BY log_index""",
                           [self.chain_id, txs]).fetchall()
        out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for r in rows:
            out[str(r[0])].append(r[1:])
        return dict(out)

    def _write(self, cur: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        df = pd.DataFrame(rows, columns=list(COLUMNS))
        cur.register("_calls", df)
        try:
            before = self._count(cur)
            # rows at or below the summaries' watermark (late ones) are folded in as they land; the rest by advance
            low = summary.watermark(cur, self.chain_id)
            cur.execute("""CREATE OR REPLACE TEMP TABLE _late AS SELECT chain_id, block_number, log_index FROM _calls r
                WHERE r.block_number <= ? AND NOT EXISTS (SELECT 1 FROM inference_calls c WHERE c.chain_id = r.chain_id
                      AND c.block_number = r.block_number AND c.log_index = r.log_index)""",
                        [-1 if low is None else low]).fetchall()
            cur.execute("""
                INSERT OR IGNORE INTO inference_calls SELECT r.* FROM _calls r
                JOIN inferences i ON i.chain_id = r.chain_id AND i.block_number = r.block_number
                 AND i.log_index = r.log_index AND i.tx_hash = r.tx_hash""").fetchall()
            after = self._count(cur)
            summary.fold(cur, "SELECT c.* FROM inference_calls c SEMI JOIN _late l ON l.chain_id = c.chain_id "
                              "AND l.block_number = c.block_number AND l.log_index = c.log_index", [])
        finally:
            cur.unregister("_calls")
            cur.execute("DROP TABLE IF EXISTS _late").fetchall()
        summary.advance(cur, self.chain_id, summary.ADVANCE_ROWS)
        return after - before

    def _count(self, cur: duckdb.DuckDBPyConnection) -> int:
        rows = cur.execute("SELECT count(*) FROM inference_calls WHERE chain_id = ?", [self.chain_id]).fetchall()
        return int(rows[0][0])

    # ----- node -----

    def _batch(self) -> int:
        if self.pool.capabilities is None:
            head = int(self.pool.call("eth_blockNumber"), 16)
            self.pool.capabilities = capabilities.detect(self.pool, head)
        return max(1, int(self.pool.capabilities.get("max_batch") or 1))

    def _chunks(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        size, out = self._batch(), []
        for i in range(0, len(calls), size):
            out += self.pool.batch(calls[i:i + size])
        return out

    def _traces(self, txs: list[str]) -> dict[str, list[vp.Call]]:
        """Call trees per transaction, from the best trace method the node has (empty when none works)."""
        caps = self.pool.capabilities or {}
        methods: list[tuple[str, Any, Any]] = []
        if caps.get("traces"):
            methods.append(("trace_transaction", lambda h: [h], vp.calls_from_parity))
        if caps.get("debug_trace"):
            methods.append(("debug_traceTransaction", lambda h: [h, {"tracer": "callTracer"}], vp.calls_from_tree))
        for method, params, parse in methods:
            try:
                answers = self._chunks([(method, params(h)) for h in txs])
                return {h: parse(a or ([] if method == "trace_transaction" else {})) for h, a in zip(txs, answers,
                                                                                                    strict=True)}
            except RpcError as exc:
                log.info("%s: %s failed (%s); trying the next way", self.network, method, exc)
        return {}

    def _derive(self, pending: dict[str, list[PendingLog]],
                results: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        txs = list(pending)
        self._batch()
        infos = self._chunks([("eth_getTransactionByHash", [h]) for h in txs])
        traces = self._traces(txs)
        now, rows = datetime.now(UTC), []
        for h, info in zip(txs, infos, strict=True):
            rows += self._tx_rows(pending[h], results.get(h, []), info or {}, traces.get(h), now)
        return rows

    def _tx_rows(self, logs: list[PendingLog], results: list[tuple[Any, ...]], info: dict[str, Any],
                 calls: list[vp.Call] | None, now: datetime) -> list[tuple[Any, ...]]:
        sender = str(info.get("from") or "").lower()
        res = [vp.ResultLog(int(li), str(k), str(ev), str(a)) for li, k, ev, a, _s in results]
        sim_of_result = {int(li): s for li, _k, _ev, _a, s in results}
        pairs = vp.pair([vp.InferenceLog(lg.log_index, lg.kind) for lg in logs], res)
        callers = vp.callers_from_calls(calls, self.hubs, self.precompiles, sender, len(logs)) if calls else None
        precision = "trace" if callers is not None else "tx_to"
        if callers is None:
            callers = [vp.caller_from_tx_to(info.get("to"), self.hubs, self.precompiles)] * len(logs)
        by_index = {lg.log_index: lg for lg in logs}
        out = []
        for p, caller in zip(pairs, callers, strict=True):
            lg = by_index[p.log_index]
            sim = lg.is_simulation if lg.is_simulation is not None else sim_of_result.get(p.result_log_index or -1)
            out.append((self.chain_id, lg.block_number, lg.block_ts, lg.tx_hash, lg.tx_index, lg.log_index,
                        p.position, lg.inference_id, lg.kind, lg.mode_int, lg.mode, lg.model, bool(sim),
                        p.result_log_index, p.workflow_log_index, p.workflow, _checksum(sender) if sender else None,
                        _checksum(caller), precision, now))
        return out


def inference_caller_jobs(cfg: Config, store: Store, shared: dict[str, RpcPool]) -> list[InferenceCallerJob]:
    """One job per network with an inference hub or precompile (sharing the engines' pools)."""
    out = []
    for key, net in cfg.networks.items():
        contracts = cfg.contracts_on(key)
        hubs = [c.address for c in contracts if c.kind == "inference_hub"]
        precompiles = [c.address for c in contracts if c.kind == "inference_precompile"]
        if (hubs or precompiles) and key in shared:
            out.append(InferenceCallerJob(store, shared[key], net.chain_id, hubs, precompiles, key))
    return out
