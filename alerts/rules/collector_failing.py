"""Rule collector_failing: a collector's latest tick failed, or it lags the chain head by more than
`max_lag_blocks`. Resolves when it is back. Critical after `critical_errors_1h` failed ticks in an hour.
"""

from __future__ import annotations

import pandas as pd

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext
from alerts.rules.rpc_disagreement import COLLECTOR as CROSSCHECK

NAME = "collector_failing"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every failing or lagging collector, by its latest tick."""
    out = []
    for r in ctx.query("collector_health_latest").to_dict("records"):
        if r["collector"] == CROSSCHECK:  # the RPC cross-check's rounds: rule rpc_disagreement
            continue
        lag = None if pd.isna(r["lag_blocks"]) else int(r["lag_blocks"])
        failing = not bool(r["ok"])
        lagging = lag is not None and lag > int(ctx.params["max_lag_blocks"])
        if not (failing or lagging):
            continue
        errors = int(r["errors_1h"] or 0)
        what = f"failing ({r['last_error'] or r['error'] or 'error'})" if failing else f"{lag} blocks behind the head"
        out.append(Finding(
            NAME, (r["collector"], int(r["chain_id"])),
            "critical" if errors >= int(ctx.params["critical_errors_1h"]) else "warning",
            f"collector {r['collector']} on chain {r['chain_id']}: {what}",
            {"collector": str(r["collector"]), "chain_id": str(r["chain_id"])},
            {"health": r}))
    return out


RULE = Rule(NAME, "A collector is failing or lagging the chain head.",
            {"enabled": True, "max_lag_blocks": 500, "critical_errors_1h": 10}, evaluate)
