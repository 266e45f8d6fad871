"""Rule settlement_lag: the p95 settlement lag (block time minus signer timestamp) over the last
`window_seconds` of chain time is above `max_p95_seconds`, with at least `min_n` samples. One alert per chain.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, head_times, window_start

NAME = "settlement_lag"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every chain whose p95 lag over the window is too high."""
    since = window_start(ctx, float(ctx.params["window_seconds"]))
    heads = head_times(ctx)
    out = []
    for r in ctx.query("settlement_lag_stats", since=since).to_dict("records"):
        if r["mode"] != "all" or int(r["n"]) < int(ctx.params["min_n"]):
            continue
        p95 = float(r["lag_p95_s"])
        if p95 <= float(ctx.params["max_p95_seconds"]):
            continue
        chain = int(r["chain_id"])
        out.append(Finding(
            NAME, (chain,), "critical" if p95 > float(ctx.params["critical_p95_seconds"]) else "warning",
            f"settlement lag p95 on chain {chain} is {p95:.0f} s (n = {int(r['n'])}, max {r['lag_max_s']} s)",
            {"chain_id": str(chain)}, {"lag": r, "since": since}, None, None, heads.get(chain)))
    return out


RULE = Rule(NAME, "Settlement lag p95 above a threshold.",
            {"enabled": True, "window_seconds": 86400.0, "max_p95_seconds": 900.0, "critical_p95_seconds": 3600.0,
             "min_n": 3}, evaluate,
            {"settlement_lag_stats": ("chain_id", "mode", "n", "lag_p95_s", "lag_max_s")})
