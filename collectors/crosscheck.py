"""Cross-checking a network's RPC URLs: heads, and the hash of a common block, before indexing up to it.

A network with two or more RPC URLs (and `cross_check_heads` not set to false) gets one `CrossCheck`. A
round asks every URL for its head (`eth_blockNumber`), then for block C = min(heads) - confirmations
(`eth_getBlockByNumber`). A block hash commits to every block below it, so URLs that agree on C share all
history up to C, and the network's engines then index at most up to C. When the hashes differ (or a URL
has no block C although its head is above it), no engine advances at all: the fork point is unknown, and
fetching even below C from the wrong URL would look like a reorg and remove stored rows. Indexing waits;
nothing is removed. Every round is one `collector_health` row (collector `rpc_crosscheck`) naming each URL
(redacted) with what it said, which the `rpc_disagreement` alert rule reads.

A URL whose head trails the highest by more than `cross_check_max_lag` blocks is reported too, but indexing
still follows the slowest URL that answers: a URL claiming a head far ahead must not push the others out
of the comparison. A URL that does not answer is left out of the round (the pool fails over for
availability); fewer than two answering URLs means the round cannot vouch for anything, which is reported.
Rounds are shared by the network's engines and its fee-state job (collectors/runner.py FeeJob, which reads
nothing while the URLs disagree): at most one per `min_interval` seconds, two single calls per URL.
`ogwatch check` runs one `survey` without a store (collectors/probe.py). With one URL nothing of this runs.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.engine import Engine, Target, TickStats
from collectors.pool import RpcPool
from collectors.rpc import RpcClient, RpcError
from ogwatch.config import Config
from store import chainwrite
from store.db import Store

log = logging.getLogger("ogwatch.crosscheck")
COLLECTOR = "rpc_crosscheck"  # the health row's collector name; alerts/rules/rpc_disagreement.py reads it
HOLD = -1  # an `until` below every block: the engine fetches nothing and its checkpoint stays
ROUND_TIMEOUT_S = 10.0  # a round holds the network's collectors: a hanging URL is left out after this


@dataclass(frozen=True)
class Answer:
    """What one URL said in a round (its URL redacted)."""

    url: str
    head: int | None = None
    block_hash: str | None = None  # of the common block; None: no such block, or not asked
    error: str | None = None

    def said(self) -> str:
        """One short phrase for the health row."""
        if self.error:
            return f"{self.url} did not answer ({self.error})"
        return f"{self.url} head {self.head} hash {short(self.block_hash)}"


@dataclass(frozen=True)
class Verdict:
    """A round's outcome: how far engines may index (`limit`, None: unchecked), and what was wrong."""

    block: int | None
    limit: int | None
    problems: tuple[str, ...]
    answers: tuple[Answer, ...]

    @property
    def ok(self) -> bool:
        """No disagreement, no lag beyond tolerance, at least two URLs answered."""
        return not self.problems

    @property
    def head(self) -> int | None:
        """The highest head any URL claimed."""
        heads = [a.head for a in self.answers if a.head is not None]
        return max(heads) if heads else None


def short(block_hash: str | None) -> str:
    """A hash shortened for a health line (`none` when the URL had no such block)."""
    return "none" if block_hash is None else f"{block_hash[:12]}.."


def common_block(heads: list[int], confirmations: int) -> int:
    """The block every URL claims to have, `confirmations` deep below the lowest head."""
    return min(heads) - confirmations


def judge(block: int, answers: list[Answer], max_lag: int) -> Verdict:
    """Compare the answering URLs' hashes of `block` and their heads; pure (unit-tested without a node)."""
    heard = [a for a in answers if a.error is None and a.head is not None]
    problems = _lags(heard, max_lag)
    if len(heard) < 2:
        problems.insert(0, f"cannot cross-check: {len(heard)} of {len(answers)} URLs answered: "
                           + "; ".join(a.said() for a in answers))
        return Verdict(block, None, tuple(problems), tuple(answers))
    hashes = {a.block_hash for a in heard}
    if len(hashes) > 1 or None in hashes:
        problems.insert(0, f"hashes differ at block {block}: " + "; ".join(a.said() for a in answers)
                        + "; indexing held")
        return Verdict(block, HOLD, tuple(problems), tuple(answers))
    return Verdict(block, max(block, HOLD), tuple(problems), tuple(answers))


def _lags(heard: list[Answer], max_lag: int) -> list[str]:
    """One line per URL whose head trails the highest by more than `max_lag` blocks."""
    top = max((a.head or 0 for a in heard), default=0)
    return [f"lags: {a.url} head {a.head} is {top - a.head} blocks behind the highest ({top})"
            for a in heard if a.head is not None and top - a.head > max_lag]


def survey(clients: list[RpcClient], confirmations: int, max_lag: int) -> Verdict:
    """One round without a store: every URL's head, then every URL's hash of the common block, judged."""
    heads = [_ask(c, "eth_blockNumber", []) for c in clients]
    known = [int(h, 16) for h, err in heads if err is None]
    block = common_block(known, confirmations) if known else HOLD
    return judge(block, [_answer(c, h, err, block) for c, (h, err) in zip(clients, heads, strict=True)], max_lag)


def _answer(client: RpcClient, head: Any, err: str | None, block: int) -> Answer:
    if err is not None:
        return Answer(client.shown_url, error=err)
    found, err = _ask(client, "eth_getBlockByNumber", [hex(max(block, 0)), False])
    if err is not None:
        return Answer(client.shown_url, int(head, 16), error=err)
    ok = isinstance(found, dict) and found.get("number") == hex(max(block, 0)) and bool(found.get("hash"))
    return Answer(client.shown_url, int(head, 16), str(found["hash"]) if ok else None)


def _ask(client: RpcClient, method: str, params: list[Any]) -> tuple[Any, str | None]:
    """(result, None) or (None, the redacted error); an answer of the wrong shape counts as an error."""
    try:
        result = client.call(method, params)
        if method == "eth_blockNumber":
            int(result, 16)
        return result, None
    except RpcError as exc:
        return None, str(exc).removeprefix(f"{client.shown_url}: ")
    except (TypeError, ValueError):
        return None, f"{method} answered {str(result)[:40]!r}, not a hex number"


class CrossCheck:
    """One network's URLs compared, at most once per `min_interval` seconds, shared by its engines."""

    def __init__(self, store: Store, network: str, chain_id: int, urls: list[str], *, confirmations: int,
                 max_lag: int, min_interval: float, timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.store, self.network, self.chain_id = store, network, chain_id
        self.confirmations, self.max_lag, self.min_interval = confirmations, max_lag, min_interval
        self._clients = [RpcClient(u, timeout=timeout) for u in urls]
        self._clock, self._lock = clock, threading.Lock()
        self.last: Verdict | None = None
        self._at = float("-inf")

    def limit(self) -> int | None:
        """The highest block the network's engines may index now (None: no limit from the cross-check)."""
        with self._lock:
            if self.last is None or self._clock() - self._at >= self.min_interval:
                self.last, self._at = self.round(), self._clock()
            return self.last.limit

    def round(self) -> Verdict:
        """Ask every URL, judge, record one health row; returns the verdict."""
        started = time.monotonic()
        verdict = survey(self._clients, self.confirmations, self.max_lag)
        calls = len(verdict.answers) + sum(a.head is not None for a in verdict.answers)
        self._record(verdict, time.monotonic() - started, calls)
        if not verdict.ok:
            log.warning("%s: RPC cross-check: %s", self.network, " | ".join(verdict.problems))
        return verdict

    def _record(self, v: Verdict, seconds: float, calls: int) -> None:
        with self.store.transaction() as cur:
            chainwrite.record_health(cur, {
                "collector": COLLECTOR, "chain_id": self.chain_id, "observed_at": datetime.now(UTC), "ok": v.ok,
                "head_block": v.head, "indexed_block": None, "events": 0, "blocks": 0, "rpc_calls": calls,
                "retries": 0, "duration_ms": seconds * 1000,
                "error": None if v.ok else " | ".join(v.problems)})


class CheckedEngine(Engine):
    """An engine that never indexes past the block its network's URLs last agreed on."""

    def __init__(self, store: Store, pool: RpcPool, target: Target, *, guard: CrossCheck, **kw: Any):
        super().__init__(store, pool, target, **kw)
        self.guard = guard

    def tick(self, until: int | None = None, max_spans: int | None = None) -> TickStats:
        """Ask the cross-check (a shared, cached round) for the limit, then tick up to it."""
        limit = self.guard.limit()
        if limit is not None:
            until = limit if until is None else min(until, limit)
        return super().tick(until, max_spans)


def guard(cfg: Config, store: Store, key: str, pool: RpcPool) -> CrossCheck | None:
    """The network's CrossCheck, one per (pool, store) so that its engines and state jobs share rounds;
    None with fewer than two URLs or cross-checking off."""
    net = cfg.networks[key]
    if not (net.cross_checked and len(pool.urls) >= 2):
        return None
    with _SHARED_LOCK:
        found = _SHARED.get((id(pool), id(store)))
        if found is None:
            # Half a poll: the network's engines, ticking once per poll, share one round.
            found = CrossCheck(store, key, net.chain_id, list(pool.urls), confirmations=net.confirmations,
                               max_lag=net.cross_check_max_lag, min_interval=net.poll_seconds / 2,
                               timeout=min(pool.timeout, ROUND_TIMEOUT_S))
            _SHARED[(id(pool), id(store))] = found
            weakref.finalize(pool, _SHARED.pop, (id(pool), id(store)), None)  # ids are unique while the pool lives
    return found


_SHARED: dict[tuple[int, int], CrossCheck] = {}
_SHARED_LOCK = threading.Lock()
