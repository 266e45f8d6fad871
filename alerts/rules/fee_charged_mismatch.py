"""Rule fee_charged_mismatch: trades of a market paid a fee other than the configured rate in effect at their
position (expected = amount * rate // 1e18, as Solidity floors). One alert per market, critical; the evidence
lists the mismatched trades (up to `max_evidence`). Only trades in the last `window_blocks` blocks (0: all).
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, head_times, market_label
from alerts.rules.charged import head_blocks, market_data, markets
from analysis.charged_fees import check_trades

NAME = "fee_charged_mismatch"
SHOWN = ["block_number", "tx_hash", "log_index", "protocol_rate", "protocol_expected", "protocol_charged",
         "subject_rate", "subject_expected", "subject_charged"]


def evaluate(ctx: RuleContext) -> list[Finding]:
    """One finding per market with at least one mismatched trade in the window."""
    window, heads, times = int(ctx.params["window_blocks"]), head_blocks(ctx), head_times(ctx)
    out = []
    for chain, address in markets(ctx):
        trades, timeline = market_data(ctx, chain, address)
        if trades.empty:
            continue
        checked = check_trades(trades, timeline)
        bad = checked[checked["verdict"] == "mismatch"]
        if window > 0 and chain in heads:
            bad = bad[bad["block_number"] > heads[chain] - window]
        if bad.empty:
            continue
        last = int(bad["block_number"].max())
        out.append(Finding(
            NAME, (chain, address.lower()), "critical",
            f"{market_label(ctx, chain, address)}: {len(bad)} trade(s) charged a fee other than the configured rate"
            f" (last at block {last})",
            {"chain_id": str(chain), "market": address},
            {"mismatched": len(bad), "trades": bad[SHOWN].head(int(ctx.params["max_evidence"])).to_dict("records")},
            chain, last, times.get(chain)))
    return out


RULE = Rule(NAME, "Trades charged a fee other than the configured rate.",
            {"enabled": True, "window_blocks": 0, "max_evidence": 20}, evaluate)
