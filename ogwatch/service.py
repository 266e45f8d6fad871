"""The scheduler process: owns the store, runs collectors, alert rules and delivery on a schedule.

It sits above collectors and alerts, so neither knows the other. While it runs it is the store's
single writer and serves every other process's reads (see store/db.py for the policy).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from ogwatch.config import Config
from store.db import Store

log = logging.getLogger("ogwatch.service")


def heartbeat(store: Store) -> int:
    """Record one numbered pulse of the scheduler (wall clock); returns its sequence number."""
    with store.transaction() as cur:
        row = cur.execute("SELECT coalesce(max(seq), 0) + 1 FROM service_heartbeats").fetchone()
        seq = int(row[0]) if row else 1
        cur.execute("INSERT INTO service_heartbeats VALUES (?, ?, ?)", [seq, os.getpid(), datetime.now(UTC)])
    return seq


def build_scheduler(cfg: Config, store: Store) -> BackgroundScheduler:
    """All scheduled jobs; a job that raises is logged by APScheduler and runs again next time."""
    sched = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    )
    sched.add_job(heartbeat, "interval", args=[store], seconds=cfg.service.heartbeat_seconds,
                  id="heartbeat", next_run_time=datetime.now(UTC))
    return sched


def run(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set), then shut down cleanly."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    store = Store(cfg.store.path)
    log.info("store %s ready (schema migrations applied: %s)", store.path, store.applied or "none")
    sched = build_scheduler(cfg, store)
    sched.start()
    try:
        stop.wait()
    finally:
        sched.shutdown(wait=True)
        last = store.query("service_heartbeat")["last_seq"].iloc[0]
        store.close()
        log.info("scheduler stopped; last heartbeat seq %s", last)
