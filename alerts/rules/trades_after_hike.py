"""Rule trades_after_hike: trades executed within `n_blocks` after a fee increase on their market (traders who
may not have seen the new fee). One alert per hike; warning, critical from `critical_trades` trades.
Fires while the hike is within `window_blocks` of the chain's head block (0: while its data exists).
"""

from __future__ import annotations

from typing import Any

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, fee_percent, head_times, market_label
from alerts.rules.charged import head_blocks, market_data, markets
from analysis.charged_fees import after_hike

NAME = "trades_after_hike"


def _pct(value: Any) -> str:
    p = fee_percent(value)
    return str(value) if p is None else f"{p.normalize():f} %"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """One finding per hike followed by trades within n_blocks."""
    n, window = int(ctx.params["n_blocks"]), int(ctx.params["window_blocks"])
    times, heads = head_times(ctx), head_blocks(ctx)
    out = []
    for chain, address in markets(ctx):
        trades, timeline = market_data(ctx, chain, address)
        if trades.empty:
            continue
        hits = after_hike(trades, timeline, n)
        for (fld, block, old, new), part in hits.groupby(["field", "hike_block", "old", "new"], sort=True):
            if window > 0 and chain in heads and int(str(block)) <= heads[chain] - window:
                continue
            count = len(part)
            out.append(Finding(
                NAME, (chain, address.lower(), fld, int(str(block)), old, new),
                "critical" if count >= int(ctx.params["critical_trades"]) else "warning",
                f"{market_label(ctx, chain, address)}: {count} trade(s) within {n} block(s) after the {fld} hike"
                f" {_pct(old)} -> {_pct(new)} at block {block}",
                {"chain_id": str(chain), "market": address, "field": str(fld)},
                {"trades": part.to_dict("records")}, chain, int(str(block)), times.get(chain)))
    return out


RULE = Rule(NAME, "Trades right after a fee hike.",
            {"enabled": True, "n_blocks": 3, "critical_trades": 5, "window_blocks": 7200}, evaluate)
