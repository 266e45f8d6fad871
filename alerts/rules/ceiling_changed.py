"""Rule ceiling_changed: a fee's ceiling verdict changed between two evaluations (a cap removed by an upgrade,
a new owner, a role change); critical when the new verdict is `uncapped` or `capped-but-upgradeable`.
Fires for `window_seconds` of chain time after the block of the new verdict.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time, head_times, market_label, within

NAME = "ceiling_changed"
UNBOUNDED = ("uncapped", "capped-but-upgradeable")


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every ceiling change within the window."""
    heads = head_times(ctx)
    out = []
    for r in ctx.query("alerts_ceiling_changes").to_dict("records"):
        chain, addr = int(r["chain_id"]), str(r["address"])
        if not within(float(ctx.params["window_seconds"]), as_time(r["block_time"]), heads.get(chain)):
            continue
        label = market_label(ctx, chain, addr)
        out.append(Finding(
            NAME, (chain, addr.lower(), r["field"], int(r["block_number"])),
            "critical" if r["label"] in UNBOUNDED else "warning",
            f"{label}: {r['field']} ceiling {r['prev_label']} -> {r['label']} (found by block {r['block_number']})",
            {"chain_id": str(chain), "market": addr, "field": str(r["field"]), "ceiling": str(r["label"])},
            {"ceiling": r}, chain, int(r["block_number"]), heads.get(chain)))
    return out


RULE = Rule(NAME, "A fee's ceiling was removed or changed.", {"enabled": True, "window_seconds": 86400.0}, evaluate)
