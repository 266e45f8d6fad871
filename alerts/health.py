"""Is the monitor alive? The scheduler's heartbeat, the last evaluation pass and delivery, on the wall clock.

Used by `ogwatch alerts health` (exit 1 when stale) and the alerts page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from alerts.rules.base import Runner, as_time
from ogwatch.config import Config


def _age(ts: Any, now: datetime) -> float | None:
    t = as_time(ts)
    return None if t is None else (now - t).total_seconds()


def check(query: Runner, cfg: Config, now: datetime) -> dict[str, Any]:
    """{'ok': bool, 'lines': [...], ...}: stale when the heartbeat or the last evaluation is too old."""
    limit = cfg.alerts.stale_after_seconds
    beat = query("service_heartbeat").to_dict("records")[0]
    runs = query("alerts_last_run").to_dict("records")
    deliveries = query("alerts_delivery_summary").to_dict("records")
    beat_age = _age(beat["last_at"], now)
    eval_age = _age(runs[0]["evaluated_at"], now) if runs else None
    eval_limit = max(limit, 3 * cfg.alerts.evaluate_seconds)
    problems = []
    if beat_age is None or beat_age > limit:
        problems.append("scheduler heartbeat " + ("never seen" if beat_age is None else f"{beat_age:.0f} s old")
                        + f" (limit {limit:.0f} s)")
    if eval_age is None or eval_age > eval_limit:
        problems.append("alert evaluation " + ("never ran" if eval_age is None else f"{eval_age:.0f} s old")
                        + f" (limit {eval_limit:.0f} s)")
    dead = sum(int(d["dead"]) for d in deliveries)
    lines = problems or [f"ok: heartbeat {beat_age:.0f} s old, last evaluation {eval_age:.0f} s old"]
    if dead:
        lines.append(f"{dead} notification(s) dead-lettered: `ogwatch alerts replay`")
    pending = [d for d in deliveries if not pd.isna(d["oldest_pending"])]
    return {"ok": not problems, "lines": [("stale: " + p) if p in problems else p for p in lines],
            "heartbeat_age_s": beat_age, "evaluation_age_s": eval_age, "dead_letters": dead,
            "channels_pending": [d["channel"] for d in pending]}
