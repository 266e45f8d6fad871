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

from collectors import blob_check, runner
from collectors.concentration_jobs import concentration_jobs
from collectors.engine import Engine
from collectors.inference_callers import InferenceCallerJob, inference_caller_jobs
from ogwatch import memwatch
from ogwatch.config import Config
from ogwatch.errors import ConfigError
from ogwatch.maintenance import CHECK_SECONDS, Maintenance
from ogwatch.secrets import redact
from store import retention
from store.db import MEMORY_LIMIT_ENV, Store

log = logging.getLogger("ogwatch.service")
#: Overrides `[store] maintain_seconds` (how often the scheduler checkpoints, reopens the store and trims the C heap).
MAINTAIN_ENV = "OGWATCH_STORE_MAINTAIN_SECONDS"


def heartbeat(store: Store) -> int:
    """Record one numbered pulse of the scheduler (wall clock); returns its sequence number."""
    with store.transaction() as cur:
        row = cur.execute("SELECT coalesce(max(seq), 0) + 1 FROM service_heartbeats").fetchone()
        seq = int(row[0]) if row else 1
        cur.execute("INSERT INTO service_heartbeats VALUES (?, ?, ?)", [seq, os.getpid(), datetime.now(UTC)])
    return seq


def collect_tick(engine: Engine) -> None:
    """One scheduled collector tick; a failure is one redacted log line, and the job runs again next time."""
    try:
        stats = engine.tick()
        if stats.events or stats.reorg:
            log.info("%s/%s: blocks %s..%s, %s events%s", engine.t.source, engine.t.network, stats.from_block,
                     stats.to_block, stats.events, f", reorg {stats.reorg}" if stats.reorg else "")
    except Exception as exc:  # recorded in collector_health by the engine; keep the scheduler alive
        log.warning("%s/%s: tick failed: %s", engine.t.source, engine.t.network, redact(f"{type(exc).__name__}: {exc}"))


def build_scheduler(cfg: Config, store: Store) -> BackgroundScheduler:
    """All scheduled jobs: the heartbeat and one job per (collector source, network), never overlapping."""
    sched = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
    )
    now = datetime.now(UTC)
    sched.add_job(heartbeat, "interval", args=[store], seconds=cfg.service.heartbeat_seconds,
                  id="heartbeat", next_run_time=now)
    targets = runner.targets(cfg)
    shared = runner.pools(cfg, sorted({t.network for t in targets}))
    for eng in runner.engines(cfg, store, shared=shared):
        sched.add_job(collect_tick, "interval", args=[eng], seconds=cfg.networks[eng.t.network].poll_seconds,
                      id=f"collect:{eng.t.source}:{eng.t.network}", next_run_time=now)
    for job in runner.fee_jobs(cfg, store, shared):
        sched.add_job(fee_tick, "interval", args=[job], seconds=cfg.networks[job.network].poll_seconds,
                      id=f"fees-state:{job.network}", next_run_time=now)
    for bjob in blob_check.blob_jobs(cfg, store, shared):
        sched.add_job(blob_tick, "interval", args=[bjob], seconds=cfg.networks[bjob.network].poll_seconds,
                      id=f"blob-check:{bjob.network}", next_run_time=now)
    for ijob in inference_caller_jobs(cfg, store, shared):
        sched.add_job(inference_callers_tick, "interval", args=[ijob], seconds=cfg.networks[ijob.network].poll_seconds,
                      id=f"inference-callers:{ijob.network}", next_run_time=now)
    for cjob in concentration_jobs(cfg, store, shared):
        sched.add_job(cjob.scheduled_tick, "interval", seconds=cjob.interval_s, id=f"concentration:{cjob.network}",
                      next_run_time=now)
    add_alert_jobs(sched, cfg, store, now)
    keep = Maintenance(store, maintain_seconds(cfg), cfg.store.reopen_growth_mb)
    if keep.every_s > 0 or keep.growth_mb > 0:
        sched.add_job(keep.check, "interval", seconds=CHECK_SECONDS, id="store:maintenance")
    watch = memwatch.from_env(store.memory)
    if watch is not None:
        sched.add_job(watch.tick, "interval", seconds=watch.every_s, id="memwatch", next_run_time=now)
    if cfg.retention.enabled:
        sched.add_job(retention.prune_store, "interval", args=[store, retention_policy(cfg)], id="retention",
                      seconds=cfg.retention.every_seconds, next_run_time=now)
    return sched


def maintain_seconds(cfg: Config) -> float:
    """The store maintenance interval: `[store] maintain_seconds`, or the environment's override (benchmarks)."""
    raw = os.environ.get(MAINTAIN_ENV, "").strip()
    if not raw:
        return cfg.store.maintain_seconds
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise ConfigError([f"{MAINTAIN_ENV}={raw!r}: expected seconds between 0 and 86400"])
    return value


def retention_policy(cfg: Config) -> retention.Policy:
    """The retention policy of the config (store/retention.py)."""
    return retention.Policy(**cfg.retention.model_dump(exclude={"enabled", "every_seconds"}))


def add_alert_jobs(sched: BackgroundScheduler, cfg: Config, store: Store, now: datetime) -> None:
    """Alert rules, webhook delivery and the optional heartbeat webhook (alerts/jobs.py)."""
    from alerts.jobs import AlertJobs

    jobs = AlertJobs(store, cfg)
    sched.add_job(jobs.evaluate, "interval", seconds=cfg.alerts.evaluate_seconds, id="alerts:evaluate",
                  next_run_time=now)
    sched.add_job(jobs.deliver, "interval", seconds=cfg.alerts.deliver_seconds, id="alerts:deliver",
                  next_run_time=now)
    if cfg.alerts.heartbeat_channel:
        sched.add_job(jobs.heartbeat, "interval", seconds=cfg.alerts.heartbeat_seconds, id="alerts:heartbeat",
                      next_run_time=now)


def blob_tick(job: blob_check.BlobCheckJob) -> None:
    """One scheduled Walrus blob check of a network's unchecked settlement batches."""
    try:
        counts = job.tick()
        if counts:
            log.info("blob-check/%s: %s", job.network, ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    except Exception as exc:  # the next tick retries; the error is one redacted line
        log.warning("blob-check/%s: pass failed: %s", job.network, redact(f"{type(exc).__name__}: {exc}"))


def fee_tick(job: runner.FeeJob) -> None:
    """One scheduled fee-watch pass (state reads, change localisation, control and ceilings)."""
    try:
        found = job.tick()
        if found:
            log.info("fees/%s: %s fee change(s) found from state", job.network, found)
    except Exception as exc:  # the next tick retries; the error is one redacted line
        log.warning("fees/%s: state pass failed: %s", job.network, redact(f"{type(exc).__name__}: {exc}"))


def inference_callers_tick(job: InferenceCallerJob) -> None:
    """One scheduled pass deriving new inferences' pairings and callers (collectors/inference_callers.py)."""
    try:
        done = job.run_all()
        if done:
            log.info("inference-callers/%s: %s inference(s) resolved", job.network, done)
    except Exception as exc:  # the next tick retries; the error is one redacted line
        log.warning("inference-callers/%s: pass failed: %s", job.network, redact(f"{type(exc).__name__}: {exc}"))


def run(cfg: Config, stop: threading.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set), then shut down cleanly."""
    stop = stop or threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    maintain_seconds(cfg)  # a bad override is refused before the store is opened
    store = Store(cfg.store.path, memory_limit=os.environ.get(MEMORY_LIMIT_ENV, "").strip() or cfg.store.memory_limit)
    log.info("store %s ready (schema migrations applied: %s)", store.path, store.applied or "none")
    try:
        sched = build_scheduler(cfg, store)
    except BaseException:
        store.close()
        raise
    sched.start()
    try:
        stop.wait()
    finally:
        sched.shutdown(wait=True)
        last = store.query("service_heartbeat")["last_seq"].iloc[0]
        store.close()
        log.info("scheduler stopped; last heartbeat seq %s", last)
