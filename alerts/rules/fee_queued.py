"""Rule fee_queued: a fee change is scheduled on a timelock that controls a market (neither executed nor
cancelled). Critical when the operation's eta is within `critical_within_seconds` of the chain's head time.
Resolves when the operation is executed or cancelled.
"""

from __future__ import annotations

from datetime import timedelta

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time, head_times, market_label

NAME = "fee_queued"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every queued fee change of a watched market."""
    heads = head_times(ctx)
    out = []
    for r in ctx.query("fee_queued").to_dict("records"):
        chain, market = int(r["chain_id"]), str(r["address"])
        head, eta = heads.get(chain), as_time(r["eta_time"])
        soon = head is not None and eta is not None and eta - head <= timedelta(
            seconds=float(ctx.params["critical_within_seconds"]))
        label = market_label(ctx, chain, market)
        out.append(Finding(
            NAME, (chain, str(r["timelock"]).lower(), r["operation_id"], int(r["call_index"])),
            "critical" if soon else "warning",
            f"{label}: {r['field']} change to {r['new_value']} queued on timelock {r['timelock']}"
            + (f", executable from {eta:%Y-%m-%d %H:%M:%S} UTC" if eta else ""),
            {"chain_id": str(chain), "market": market, "field": str(r["field"])},
            {"queued": r}, chain, int(r["scheduled_block"]), head))
    return out


RULE = Rule(NAME, "A fee change is queued on a timelock that controls a market.",
            {"enabled": True, "critical_within_seconds": 3600.0}, evaluate)
