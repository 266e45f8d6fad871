"""Rule settlement_stall: no settlement on a chain for `max_seconds` of chain time (head-block time minus the
last settlement's block time) while TEEs are active there. Critical after `critical_seconds`.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time, flag

NAME = "settlement_stall"


def _active_tees(ctx: RuleContext) -> dict[int, int]:
    out: dict[int, int] = {}
    for r in ctx.query("tee_current").to_dict("records"):
        if flag(r["active"]):
            out[int(r["chain_id"])] = out.get(int(r["chain_id"]), 0) + 1
    return out


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every chain whose last settlement is too old (chain time) while it has active TEEs."""
    tees = _active_tees(ctx)
    out = []
    for r in ctx.query("settlement_backlog").to_dict("records"):
        chain, since = int(r["chain_id"]), float(r["seconds_since_last"])
        if since <= float(ctx.params["max_seconds"]) or tees.get(chain, 0) < int(ctx.params["min_active_tees"]):
            continue
        out.append(Finding(
            NAME, (chain,), "critical" if since > float(ctx.params["critical_seconds"]) else "warning",
            f"no settlement on chain {chain} for {int(since // 60)} min of chain time while {tees.get(chain, 0)} "
            "TEE(s) are active",
            {"chain_id": str(chain)}, {"backlog": r, "active_tees": tees.get(chain, 0)},
            None, None, as_time(r["head_time"])))
    return out


RULE = Rule(NAME, "No settlement for a while although TEEs are active.",
            {"enabled": True, "max_seconds": 1800.0, "critical_seconds": 7200.0, "min_active_tees": 1}, evaluate,
            {"settlement_backlog": ("chain_id", "seconds_since_last", "head_time"),
             "tee_current": ("chain_id", "active")})
