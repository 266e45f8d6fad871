"""Reliable JSON-RPC for collectors: several URLs with failover, bounded retries with jittered backoff.

Transient failures (transport, 408/425/429/5xx, torn or malformed answers) are retried with
exponential backoff and jitter, moving to the next URL each time; anything else is raised at once.
A range the node refuses as too large is reported as `RangeTooLarge` so the caller can split it.
Counters (calls, retries, failovers) feed the data-health record. The clock is injectable.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from collectors.rpc import RpcClient, RpcError

# JSON-RPC codes providers use for "too many results / too large / range too wide". -32005 is
# unambiguous; the generic ones (-32000, -32600, -32602, -32603) also mean it only with a hint.
_RANGE_CODES = {-32005}
_GENERIC_CODES = {-32000, -32600, -32602, -32603, -32001}
_RANGE_HINT = re.compile(r"more than|too many|limit|range|size|exceed|too large|max results|timeout", re.I)


class RangeTooLarge(Exception):
    """The node refused a block range (too many results, response too large, or timed out)."""


def is_range_refusal(err: RpcError) -> bool:
    """Whether an error means "ask for less", judged by code and status first, message as a hint."""
    if err.kind == "http" and err.status == 413:
        return True
    if err.kind == "rpc":
        return err.code in _RANGE_CODES or (err.code in _GENERIC_CODES and bool(_RANGE_HINT.search(str(err))))
    return False


@dataclass
class Counters:
    """What the pool did, for the health record."""

    calls: int = 0
    retries: int = 0
    failovers: int = 0

    def snapshot(self) -> dict[str, int]:
        """A copy as a dict."""
        return {"calls": self.calls, "retries": self.retries, "failovers": self.failovers}


@dataclass
class RpcPool:
    """JSON-RPC over one or more URLs of the same network."""

    urls: list[str]
    timeout: float = 20.0
    max_retries: int = 6
    base_delay: float = 0.1
    max_delay: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    counters: Counters = field(default_factory=Counters)
    capabilities: dict[str, Any] | None = None  # detected once (collectors.capabilities)

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("RpcPool needs at least one URL")
        self._clients = [RpcClient(u, timeout=self.timeout) for u in self.urls]
        self._current = 0
        self._lock = threading.Lock()
        self._rng = random.Random()

    @property
    def shown_url(self) -> str:
        """The URL in use, redacted."""
        return self._clients[self._current].shown_url

    def call(self, method: str, params: list[Any] | None = None, *, range_call: bool = False) -> Any:
        """One call with retries and failover; `range_call` turns range refusals into RangeTooLarge."""
        return self._with_retries(lambda c: c.call(method, params or []), range_call)

    def batch(self, calls: list[tuple[str, list[Any]]], *, range_call: bool = False) -> list[Any]:
        """A batch with retries and failover (the whole batch is retried)."""
        return self._with_retries(lambda c: c.batch(calls), range_call)

    def _with_retries(self, fn: Callable[[RpcClient], Any], range_call: bool) -> Any:
        attempt = 0
        while True:
            client = self._clients[self._current]
            with self._lock:
                self.counters.calls += 1
            try:
                return fn(client)
            except RpcError as err:
                if range_call and (is_range_refusal(err) or (err.kind == "transport" and "no answer" in str(err))):
                    raise RangeTooLarge(str(err)) from err
                if not (err.transient or err.kind == "malformed") or attempt >= self.max_retries:
                    raise
                attempt += 1
                self._backoff(attempt, err)

    def _backoff(self, attempt: int, err: RpcError) -> None:
        with self._lock:
            self.counters.retries += 1
            if len(self._clients) > 1:
                self._current = (self._current + 1) % len(self._clients)
                self.counters.failovers += 1
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        self.sleep(delay * (0.5 + self._rng.random()))  # full jitter around the exponential step
