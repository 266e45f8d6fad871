"""Rule fee_hike: a market's protocol or subject fee went up (critical when nothing caps the new fee).

Severity by size in percentage points (`warning_points`, `critical_points`); critical whatever the size when
the fee's ceiling is `uncapped` or `capped-but-upgradeable`. A hike stays firing for `window_seconds` of chain
time after its block (0: until the data is gone), then resolves.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time, fee_percent, head_times, market_label, within

NAME = "fee_hike"
FEES = {"protocolFeePercent": ("protocol", "protocol_ceiling"), "subjectFeePercent": ("subject", "subject_ceiling")}
UNBOUNDED = ("uncapped", "capped-but-upgradeable")


def _ceilings(ctx: RuleContext) -> dict[tuple[int, str, str], str]:
    out: dict[tuple[int, str, str], str] = {}
    for r in ctx.query("fee_markets").to_dict("records"):
        for fld, (_short, col) in FEES.items():
            if isinstance(r.get(col), str):
                out[(int(r["chain_id"]), str(r["address"]).lower(), fld)] = r[col]
    return out


def severity(points: Decimal, ceiling: str | None, params: dict[str, float]) -> str:
    """critical when unbounded or at least `critical_points`; warning from `warning_points`; else info."""
    if ceiling in UNBOUNDED or points >= Decimal(str(params["critical_points"])):
        return "critical"
    return "warning" if points >= Decimal(str(params["warning_points"])) else "info"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every fee increase within the window of its chain's head time."""
    changes = ctx.query("fee_changes")
    heads, ceilings = head_times(ctx), _ceilings(ctx)
    out = []
    for r in changes.to_dict("records"):
        if r["field"] not in FEES or pd.isna(r["old"]) or pd.isna(r["new"]):
            continue
        old, new = fee_percent(r["old"]), fee_percent(r["new"])
        if old is None or new is None or new <= old:
            continue
        chain, addr, block_time = int(r["chain_id"]), str(r["address"]), as_time(r["block_time"])
        if not within(float(ctx.params["window_seconds"]), block_time, heads.get(chain)):
            continue
        ceiling = ceilings.get((chain, addr.lower(), r["field"]))
        short = FEES[r["field"]][0]
        label = market_label(ctx, chain, addr)
        out.append(Finding(
            NAME, (chain, addr.lower(), r["field"], int(r["block_number"]), r["old"], r["new"]),
            severity(new - old, ceiling, ctx.params),
            f"{label}: {short} fee raised {old.normalize():f} % -> {new.normalize():f} % at block {r['block_number']}"
            + (f" ({ceiling})" if ceiling else ""),
            {"chain_id": str(chain), "market": addr, "field": r["field"], "ceiling": ceiling or "unknown"},
            {"change": r, "ceiling": ceiling, "old_percent": f"{old:f}", "new_percent": f"{new:f}"},
            chain, int(r["block_number"]), heads.get(chain)))
    return out


RULE = Rule(NAME, "A market's protocol or subject fee went up.",
            {"enabled": True, "warning_points": 0.5, "critical_points": 2.0, "window_seconds": 86400.0}, evaluate)
