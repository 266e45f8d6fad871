"""Rule stale_data: a collector has not succeeded for `max_age_seconds` of wall time (the monitor's own
staleness uses the wall clock, never chain time). Critical after `critical_age_seconds`.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time
from alerts.rules.rpc_disagreement import COLLECTOR as CROSSCHECK

NAME = "stale_data"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every collector whose last success is too old (or that never succeeded)."""
    out = []
    for r in ctx.query("collector_health_latest").to_dict("records"):
        if r["collector"] == CROSSCHECK:  # the RPC cross-check's rounds: rule rpc_disagreement
            continue
        last = as_time(r["last_success"])
        age = None if last is None else (ctx.now - last).total_seconds()
        if age is not None and age <= float(ctx.params["max_age_seconds"]):
            continue
        critical = age is None or age > float(ctx.params["critical_age_seconds"])
        when = "never succeeded" if age is None else f"no success for {int(age)} s"
        out.append(Finding(
            NAME, (r["collector"], int(r["chain_id"])), "critical" if critical else "warning",
            f"collector {r['collector']} on chain {r['chain_id']}: {when}",
            {"collector": str(r["collector"]), "chain_id": str(r["chain_id"])},
            {"last_success": r["last_success"], "age_seconds": age}))
    return out


RULE = Rule(NAME, "A collector's data is stale (wall clock).",
            {"enabled": True, "max_age_seconds": 600.0, "critical_age_seconds": 3600.0}, evaluate)
