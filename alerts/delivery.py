"""The delivery worker: sends the outbox at least once per notification, until a receiver answers 2xx.

Each attempt is recorded (outcome, status, redacted error, duration). A failure (non-2xx, a redirect, which
is never followed, a connection error, a timeout, an unsafe URL) schedules the next attempt by `SCHEDULE_S`
on the injectable clock; after the last one the notification is dead-lettered until `replay`. The
webhook-id is the outbox row's id, so retries, restarts and replays never mint a second id for one message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from standardwebhooks.webhooks import Webhook

from alerts import http, payloads, ssrf
from alerts.channels import Channel, Clock, MissingSecret, SystemClock, monotonic_ms
from ogwatch.secrets import redact
from store.db import Store

log = logging.getLogger("ogwatch.alerts")
# Delay before attempt n+1 after n attempts: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (~27.6 h).
SCHEDULE_S = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


@dataclass(frozen=True)
class Outcome:
    """One attempt's result."""

    outcome: str          # delivered | failed | timeout | refused
    status_code: int | None
    error: str
    duration_ms: float


@dataclass(frozen=True)
class Pending:
    """An outbox row due for an attempt."""

    id: str
    channel: str
    body: str
    attempts: int
    kind: str = "firing"


def _headers(ch: Channel, msg_id: str, body: str) -> dict[str, str]:
    headers = {"content-type": "application/json", "user-agent": "ogwatch-alerts", "webhook-id": msg_id}
    if ch.kind == "generic":
        now = datetime.now().astimezone()  # the signature's timestamp is the real send time, whatever the clock
        headers["webhook-timestamp"] = str(int(now.timestamp()))
        try:
            headers["webhook-signature"] = Webhook(ch.secret()).sign(msg_id, now, body)
        except (ValueError, TypeError) as exc:
            raise ssrf.UnsafeURL(f"webhook {ch.name}: {ch.secret_env} is not a base64 signing secret "
                                 f"(whsec_...): {type(exc).__name__}") from None
    return headers


def send(ch: Channel, msg_id: str, body: str, timeout_s: float | None = None) -> Outcome:
    """One HTTP attempt: guard, render, sign, POST without following redirects."""
    start = time.monotonic()
    limit = timeout_s or ch.timeout_s
    try:
        url = ch.url()
        ip = ssrf.check(url, ch.allow_private, ch.name)
        data = payloads.render(ch.kind, body)
        resp = http.post(url, ip, data.encode(), _headers(ch, msg_id, data), limit)
    except (ssrf.UnsafeURL, MissingSecret) as exc:
        return Outcome("refused", None, redact(str(exc).strip("'\"")), monotonic_ms(start))
    except urllib3.exceptions.NewConnectionError as exc:  # (a ConnectTimeoutError subclass in urllib3 2)
        return Outcome("failed", None, redact(f"{type(exc).__name__}: {exc}")[:300], monotonic_ms(start))
    except urllib3.exceptions.TimeoutError:
        return Outcome("timeout", None, f"no answer within {limit:g} s", monotonic_ms(start))
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Outcome("failed", None, redact(f"{type(exc).__name__}: {exc}")[:300], monotonic_ms(start))
    ms = monotonic_ms(start)
    if 200 <= resp.status < 300:
        return Outcome("delivered", resp.status, "", ms)
    why = "redirect not followed" if 300 <= resp.status < 400 else redact(resp.text[:200])
    return Outcome("failed", resp.status, f"HTTP {resp.status}: {why}", ms)


class Worker:
    """Delivers due outbox rows; a new Worker on the same store picks up exactly where another stopped."""

    def __init__(self, store: Store, channels: dict[str, Channel], clock: Clock | None = None,
                 schedule: tuple[float, ...] = SCHEDULE_S, timeout_s: float | None = None, log_failures: bool = True):
        self.store, self.channels, self.clock = store, channels, clock or SystemClock()
        self.schedule, self.timeout_s, self.log_failures = schedule, timeout_s, log_failures

    def due(self, limit: int = 100) -> list[Pending]:
        """Pending rows whose next attempt is due, oldest first."""
        rows = self.store.fetch(
            "SELECT id, channel, body, attempts, kind FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
            "ORDER BY created_at, channel, seq LIMIT ?", [self.clock.now(), limit])
        return [Pending(str(i), str(c), str(b), int(a), str(k)) for i, c, b, a, k in rows]

    def deliver_due(self, limit: int = 100) -> dict[str, int]:
        """Attempt every due row once; returns counts by outcome."""
        counts: dict[str, int] = {}
        for p in self.due(limit):
            out = self.attempt(p)
            counts[out.outcome] = counts.get(out.outcome, 0) + 1
        return counts

    def attempt(self, p: Pending) -> Outcome:
        """One attempt of one row, then its record and the row's next state, in one transaction."""
        ch = self.channels.get(p.channel)
        if ch is None:
            out = Outcome("refused", None, f"webhook {p.channel} is no longer configured", 0.0)
        else:
            out = send(ch, p.id, p.body, self.timeout_s)
        self._record(p, out, self.clock.now())
        if out.outcome != "delivered" and self.log_failures:
            log.warning("webhook %s: %s attempt %s failed: %s", p.channel, p.id, p.attempts + 1, out.error)
        return out

    def _record(self, p: Pending, out: Outcome, now: datetime) -> None:
        n = p.attempts + 1  # position in the schedule (a replay starts it again; attempt numbers go on)
        with self.store.transaction() as cur:
            cur.execute("INSERT INTO delivery_attempts SELECT ?, coalesce(max(attempt), 0) + 1, ?, ?, ?, ?, ? "
                        "FROM delivery_attempts WHERE message_id = ?",
                        [p.id, now, out.outcome, out.status_code, out.error or None, out.duration_ms, p.id])
            if out.outcome == "delivered":
                cur.execute("UPDATE outbox SET status='delivered', attempts=?, delivered_at=?, last_error=NULL "
                            "WHERE id=?", [n, now, p.id])
            elif p.kind == "heartbeat":  # a late heartbeat proves nothing: never retried, the next one follows
                cur.execute("UPDATE outbox SET status='expired', attempts=?, last_error=? WHERE id=?",
                            [n, out.error, p.id])
            elif n < len(self.schedule):
                cur.execute("UPDATE outbox SET attempts=?, next_attempt_at=?, last_error=? WHERE id=?",
                            [n, now + timedelta(seconds=self.schedule[n]), out.error, p.id])
            else:
                cur.execute("UPDATE outbox SET status='dead', attempts=?, last_error=? WHERE id=?",
                            [n, out.error, p.id])
                cur.execute("INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?, ?, ?, NULL)",
                            [p.id, p.channel, now, n, out.error])


def replay(store: Store, now: datetime, channel: str | None = None, message_id: str | None = None) -> list[str]:
    """Put dead letters back in the outbox, due now, with their own ids (the attempt count restarts)."""
    with store.transaction() as cur:
        rows = cur.execute("SELECT message_id FROM dead_letters WHERE replayed_at IS NULL AND (? IS NULL OR channel=?) "
                           "AND (? IS NULL OR message_id=?) ORDER BY dead_at", [channel, channel, message_id,
                                                                                 message_id]).fetchall()
        ids = [str(r[0]) for r in rows]
        for i in ids:
            cur.execute("UPDATE outbox SET status='pending', attempts=0, next_attempt_at=? WHERE id=?", [now, i])
            cur.execute("UPDATE dead_letters SET replayed_at=? WHERE message_id=?", [now, i])
    return ids
