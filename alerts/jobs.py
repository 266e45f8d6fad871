"""The scheduler's alert jobs: evaluate, deliver, heartbeat webhook. Each logs one redacted line on failure
and runs again next time (the service registers them; alerts never know about the scheduler)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alerts import channels, delivery, evaluate
from alerts.rules import configured
from ogwatch.config import Config
from ogwatch.secrets import redact
from store.db import Store

log = logging.getLogger("ogwatch.alerts")


@dataclass
class AlertJobs:
    """Bound jobs over one store and config (rules are checked when this is built)."""

    store: Store
    cfg: Config
    clock: channels.Clock = field(default_factory=channels.SystemClock)

    def __post_init__(self) -> None:
        self.rules = configured(self.cfg)  # a bad [rules.*] block stops the service at start, not later
        self.worker = delivery.Worker(self.store, channels.channels(self.cfg), self.clock)
        self._delivering = threading.Lock()  # the deliver job and a pass's immediate delivery never overlap

    def evaluate(self) -> None:
        """One evaluation pass."""
        try:
            res = evaluate.run_pass(self.store, self.cfg, self.clock.now(), self.rules)
            if res.fired or res.resolved or res.retracted:
                log.info("alerts: %s fired, %s resolved, %s retracted, %s notification(s)", len(res.fired),
                         len(res.resolved), len(res.retracted), res.notifications)
        except Exception as exc:
            log.warning("alerts: evaluation failed: %s", redact(f"{type(exc).__name__}: {exc}"))
            return
        if res.notifications:  # send now rather than at the next delivery tick: a critical alert is news
            self.deliver()

    def deliver(self) -> None:
        """One delivery round over the due outbox rows."""
        if not self._delivering.acquire(blocking=False):
            return  # a round is already running (slow receivers): it, or the next tick, sends what is due
        try:
            self.worker.deliver_due()
        except Exception as exc:
            log.warning("alerts: delivery failed: %s", redact(f"{type(exc).__name__}: {exc}"))
        finally:
            self._delivering.release()

    def heartbeat(self) -> None:
        """Queue one heartbeat message (the receivers' dead-man's switch)."""
        try:
            evaluate.heartbeat(self.store, self.cfg.alerts.heartbeat_channel, datetime.now(UTC))
        except Exception as exc:
            log.warning("alerts: heartbeat failed: %s", redact(f"{type(exc).__name__}: {exc}"))
