"""The collector engine: plan block spans from a checkpoint, fetch, decode, write; survive reorgs.

One `Engine` per (source, network). A tick indexes from checkpoint + 1 up to head - confirmations
in bounded spans (at most `max_spans` per tick, span size adapting to what the node accepts). Before
extending, the parent hash of the next block must equal the checkpoint's hash; if not, the fork
point is found against our stored block hashes, everything above it is removed and recorded, and
indexing resumes from there. Rows and the checkpoint of a span are written in one transaction, which
may hold several spans (a commit unit, collectors.engine_pipeline; their blocks and the last checkpoint
are written once, as it commits): fewer commits on a backfill, and a crash still leaves rows and
checkpoint consistent. While a span is decoded and written, the next one
is fetched on a worker thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from collectors import capabilities, decode_span, fetch
from collectors.engine_pipeline import Fetched, Prefetcher, Writer, fetch_span
from collectors.pool import RpcPool
from ogwatch.errors import OgwatchError
from ogwatch.secrets import redact
from store import chainwrite
from store.chainwrite import Checkpoint
from store.db import Store

log = logging.getLogger("ogwatch.engine")
FIRST_SPAN = 10  # blocks
TARGET_LOGS_PER_SPAN = 4_000  # bounds a span's memory (parsed JSON + rows; two spans are in flight at once)
LOG_UNIT = 2_000  # hex digits of log data that count as one more log when sizing spans
COMMIT_LOGS, COMMIT_SECONDS = 20_000, 2.0  # a commit unit (several spans in one transaction) ends at either


class GenesisChanged(OgwatchError):
    """The node's genesis differs from the one our checkpoints were made on."""


@dataclass(frozen=True)
class Target:
    """What one engine indexes: a source's contracts and topics on one network."""

    source: str
    network: str
    chain_id: int
    addresses: list[str]
    topics: list[str]
    start_block: int = 0
    confirmations: int = 2
    reset_on_new_genesis: bool = False


@dataclass
class TickStats:
    """What one tick did."""

    head: int = 0
    from_block: int | None = None
    to_block: int | None = None
    blocks: int = 0
    events: int = 0
    spans: int = 0
    splits: int = 0
    decode_errors: int = 0
    reorg: dict[str, Any] | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Engine:
    """Indexes one Target into the store through one RPC pool."""

    def __init__(self, store: Store, pool: RpcPool, target: Target, *, span: int = 2000, max_spans: int = 20):
        self.store, self.pool, self.t = store, pool, target
        # Start small and let the log count steer: a first span of `span` blocks on a busy chain could
        # return hundreds of MB at once; probing density first keeps memory bounded.
        self.span, self.max_span, self.max_spans = min(span, FIRST_SPAN), span, max_spans
        self._genesis: str | None = None

    # ---- one tick -------------------------------------------------------------------------
    def tick(self, until: int | None = None, max_spans: int | None = None) -> TickStats:
        """Index what is confirmed (or up to `until`), at most `max_spans` spans; returns stats."""
        started, stats = time.monotonic(), TickStats()
        calls0 = self.pool.counters.snapshot()
        try:
            self._tick(stats, until, max_spans or self.max_spans)
            self._health(stats, calls0, started, None)
        except Exception as exc:
            self._health(stats, calls0, started, redact(f"{type(exc).__name__}: {exc}"))
            raise
        return stats

    def _tick(self, stats: TickStats, until: int | None, max_spans: int) -> None:
        head_hex, genesis, latest = self.pool.batch([("eth_blockNumber", []), ("eth_getBlockByNumber", ["0x0", False]),
                                                     ("eth_getBlockByNumber", ["latest", False])])
        stats.head = int(head_hex, 16)
        stats.extra["head_ts"] = datetime.fromtimestamp(int(latest["timestamp"], 16), UTC)
        self._capabilities(stats.head)
        cp = self._checkpoint(genesis["hash"])
        target = stats.head - self.t.confirmations if until is None else min(until, stats.head)
        ahead = Prefetcher()
        try:
            with Writer(self.store, COMMIT_LOGS, COMMIT_SECONDS) as writer:
                nxt = cp.block_number + 1 if cp else self.t.start_block
                for left in range(max_spans - 1, -1, -1):  # a reorg pass counts too: a flapping node cannot hold a tick
                    if nxt > target:
                        break
                    f = ahead.take(nxt) or self._fetch(nxt, min(target, nxt + self.span - 1))
                    cp = self._span(cp, genesis["hash"], f, stats, writer, ahead, target if left else -1)
                    nxt = cp.block_number + 1 if cp else self.t.start_block
        finally:
            ahead.close()

    def _fetch(self, lo: int, hi: int) -> Fetched:
        return fetch_span(self.pool, self.t.addresses, self.t.topics, lo, hi)

    def _capabilities(self, head: int) -> None:
        """Detect the node's capabilities once per pool and store them."""
        if self.pool.capabilities is None:
            self.pool.capabilities = capabilities.detect(self.pool, head)
            self._store_capabilities()

    def _store_capabilities(self, cur: Any = None, caps: dict[str, Any] | None = None) -> None:
        """Record the capabilities (or `caps`), in the caller's open transaction when given one."""
        if cur is not None:
            caps = caps or self.pool.capabilities or {}
            chainwrite.record_capabilities(cur, self.t.chain_id, self.pool.shown_url, caps)
            return
        with self.store.transaction() as own:
            self._store_capabilities(own, caps)

    def _checkpoint(self, genesis: str) -> Checkpoint | None:
        with self.store.transaction() as cur:
            cp = chainwrite.get_checkpoint(cur, self.t.source, self.t.chain_id)
            if cp is None or cp.genesis_hash == genesis:
                return cp
            if not self.t.reset_on_new_genesis:
                raise GenesisChanged(f"{self.t.network}: the node's genesis {genesis[:12]}.. differs from the "
                                     f"indexed chain's {cp.genesis_hash[:12]}..: wrong URL or a reset chain; refusing")
            log.warning("%s: new genesis (devnet restarted): forgetting chain %s", self.t.network, self.t.chain_id)
            chainwrite.forget_chain(cur, self.t.chain_id)
            return None

    # ---- one span ---------------------------------------------------------------------------
    def _span(self, cp: Checkpoint | None, genesis: str, f: Fetched, stats: TickStats, writer: Writer,
              ahead: Prefetcher, target: int) -> Checkpoint | None:
        """Check continuity, then decode one fetched span and queue its write (the next one is fetched meanwhile)."""
        if cp is not None and f.ends[f.lo]["parentHash"] != cp.block_hash:
            writer.commit()
            ahead.drain()
            stats.reorg = self._reorg(cp, f.ends[f.lo]["parentHash"])
            return self._reload()
        if f.moved:
            return cp  # the chain moved under us mid-span; the next pass sees the reorg
        self._adapt(f.splits, f.raw)
        if f.hi < target:  # the node serves the next span while this one is decoded and written
            ahead.start(self.pool, self.t.addresses, self.t.topics, f.hi + 1, min(target, f.hi + self.span))
        if f.raw and self.pool.capabilities and not self.pool.capabilities["block_timestamps_in_logs"] \
                and "blockTimestamp" in f.raw[0]:
            self.pool.capabilities["block_timestamps_in_logs"] = True
            caps = dict(self.pool.capabilities)

            def record(cur: Any) -> int:
                self._store_capabilities(cur, caps)
                return 0
            writer.submit(record)
        decoded = decode_span.decode_span(f.raw, f.timestamps, self.t.chain_id, consume=True)  # frees f.raw
        new_cp = Checkpoint(self.t.source, self.t.chain_id, genesis, f.hi, f.ends[f.hi]["hash"])
        blocks = self._blocks(decoded.blocks, f.ends)
        frames, n_logs, errors, distinct = decoded.frames, decoded.logs, decoded.errors, decoded.distinct
        del decoded  # only the Arrow tables go on to the writer

        def write(cur: Any) -> int:
            chainwrite.write_rows(cur, frames, distinct=distinct)
            self._decode_errors(cur, errors)
            return n_logs
        writer.submit(write, (new_cp, blocks))  # blocks and checkpoint: once per commit unit, before it commits
        stats.from_block = f.lo if stats.from_block is None else stats.from_block
        stats.to_block, stats.blocks = f.hi, stats.blocks + f.hi - f.lo + 1
        stats.events += n_logs - len(errors)
        stats.spans, stats.splits, stats.decode_errors = stats.spans + 1, stats.splits + f.splits, \
            stats.decode_errors + len(errors)
        return new_cp

    def _adapt(self, splits: int, raw: list[dict[str, Any]]) -> None:
        """Shrink the span after the node refused one or returned much; grow it back (at most 2x a span) otherwise.

        A log counts by its size (a 2.6 kB inference log weighs as much as three 0.5 kB trades), since
        memory is what the span size bounds.
        """
        weight = sum(len(lg["data"]) for lg in raw) // LOG_UNIT + len(raw)
        if splits:
            self.span = max(1, self.span // (2 ** min(splits, 4)))
        elif weight > TARGET_LOGS_PER_SPAN:  # bounded memory: a span's rows are held until they are written
            self.span = max(1, self.span * TARGET_LOGS_PER_SPAN // weight)
        else:  # grow toward the target density; density can jump, so never more than 2x at once
            grow = 2.0 if weight == 0 else min(2.0, TARGET_LOGS_PER_SPAN / weight)
            self.span = min(self.max_span, max(self.span + 1, int(self.span * grow)))

    @staticmethod
    def _blocks(logged: dict[int, tuple[str, int | None]],
                ends: dict[int, dict[str, Any]]) -> list[tuple[int, str, str, int]]:
        out = {n: (n, h["hash"], h["parentHash"], int(h["timestamp"], 16)) for n, h in ends.items()}
        for n, (hsh, ts) in logged.items():  # parent hash unknown for log blocks: empty string, never used
            out.setdefault(n, (n, hsh, "", ts or 0))
        return sorted(out.values())

    def _decode_errors(self, cur: Any, errors: list[Any]) -> None:
        for e in errors:
            lg = e.log
            cur.execute("INSERT OR IGNORE INTO decode_errors VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [self.t.chain_id, lg["block_number"], lg["log_index"], lg["tx_hash"], lg["address"],
                         lg["topics"][0] if lg["topics"] else None, e.reason])

    # ---- reorgs ---------------------------------------------------------------------------
    def _reorg(self, cp: Checkpoint, node_parent: str) -> dict[str, Any]:
        """Find the last block both chains share, remove everything above it, record what went."""
        fork_block, fork_hash, below = -1, None, cp.block_number
        while fork_hash is None:
            with self.store.transaction() as cur:
                ours = chainwrite.stored_hashes(cur, self.t.chain_id, below, 64)
            if not ours:
                break
            theirs = fetch.headers(self.pool, [n for n, _ in ours])
            match = next(((n, h) for n, h in ours if theirs[n]["hash"] == h), None)
            if match:
                fork_block, fork_hash = match
            below = ours[-1][0] - 1
        with self.store.transaction() as cur:
            removed = chainwrite.rollback_above(cur, self.t.chain_id, fork_block, fork_hash, cp.block_hash, node_parent)
        log.warning("%s: reorg below block %s; fork point %s; removed %s", self.t.network, cp.block_number + 1,
                    fork_block, removed)
        return {"fork_block": fork_block, "removed": removed}

    def _reload(self) -> Checkpoint | None:
        with self.store.transaction() as cur:
            return chainwrite.get_checkpoint(cur, self.t.source, self.t.chain_id)

    # ---- health -----------------------------------------------------------------------------
    def _health(self, stats: TickStats, calls0: dict[str, int], started: float, error: str | None) -> None:
        stats.seconds = time.monotonic() - started
        now = self.pool.counters.snapshot()
        indexed = None
        try:
            with self.store.transaction() as cur:
                cp = chainwrite.get_checkpoint(cur, self.t.source, self.t.chain_id)
                indexed = cp.block_number if cp else None
                chainwrite.record_health(cur, {
                    "collector": self.t.source, "chain_id": self.t.chain_id, "observed_at": datetime.now(UTC),
                    "ok": error is None, "head_block": stats.head or None, "indexed_block": indexed, "error": error,
                    "head_ts": stats.extra.get("head_ts"),
                    "events": stats.events, "blocks": stats.blocks, "rpc_calls": now["calls"] - calls0["calls"],
                    "retries": now["retries"] - calls0["retries"], "duration_ms": stats.seconds * 1000})
        except Exception as exc:  # health must never hide the real error
            log.error("could not record health for %s/%s: %s", self.t.source, self.t.network, exc)
