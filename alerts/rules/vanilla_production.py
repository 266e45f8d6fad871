"""Rule vanilla_production: Vanilla inferences (a signed record, no proof) counted as production (a production
network, or a production-tagged caller; simulations never count), per (chain, caller). Critical.
Only inferences in the last `window_seconds` of chain time (0: all).
"""

from __future__ import annotations

import pandas as pd

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, flag, head_times, market_label, window_start

NAME = "vanilla_production"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every production caller with Vanilla inferences in the window."""
    since = window_start(ctx, float(ctx.params["window_seconds"]))
    heads = head_times(ctx)
    df = ctx.query("verification_counts", since=since, **ctx.production)
    totals: dict[tuple[int, str], int] = {}
    for r in df.to_dict("records"):
        if r["mode"] == "VANILLA" and flag(r["production"]) and not flag(r["is_simulation"]):
            key = (int(r["chain_id"]), "" if pd.isna(r["caller"]) else str(r["caller"]))
            totals[key] = totals.get(key, 0) + int(r["inferences"])
    return [Finding(
        NAME, (chain, caller.lower()), "critical",
        f"{n} Vanilla inference(s) in production from {market_label(ctx, chain, caller) if caller else 'direct calls'}"
        f" on chain {chain}",
        {"chain_id": str(chain), "caller": caller}, {"vanilla": n, "since": since}, None, None, heads.get(chain))
        for (chain, caller), n in sorted(totals.items()) if n >= int(ctx.params["min_inferences"])]


RULE = Rule(NAME, "Vanilla inference counted as production.",
            {"enabled": True, "window_seconds": 86400.0, "min_inferences": 1}, evaluate,
            {"verification_counts": ("chain_id", "caller", "mode", "production", "is_simulation", "inferences")})
