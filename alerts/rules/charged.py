"""Shared by the charged-fee rules: every fee market's per-trade check from the store's own rows.

Uses analysis/charged_fees.py (pure) over the `charged_*` named queries. Rates before a market's first
known step would need a historical state read (RPC), which alerts never make: those trades stay `unknown-rate`
and never alert.
"""

from __future__ import annotations

import pandas as pd

from alerts.rules.base import RuleContext
from analysis.charged_fees import Timeline, rate_timeline

QUERIES = ("charged_trades", "charged_setter_events", "charged_fee_changes", "charged_fee_readings")


def markets(ctx: RuleContext) -> list[tuple[int, str]]:
    """(chain_id, address) of every watched fee market."""
    df = ctx.query("fee_markets")
    return [(int(r["chain_id"]), str(r["address"])) for r in df.to_dict("records")]


def market_data(ctx: RuleContext, chain_id: int, address: str) -> tuple[pd.DataFrame, Timeline]:
    """One market's trades and its rate timeline."""
    frames = {n: ctx.query(n, chain_id=chain_id, address=address) for n in QUERIES}
    timeline = rate_timeline(frames["charged_setter_events"], frames["charged_fee_changes"],
                             frames["charged_fee_readings"])
    return frames["charged_trades"], timeline


def head_blocks(ctx: RuleContext) -> dict[int, int]:
    """Each chain's highest indexed block."""
    df = ctx.query("alerts_chain_heads")
    return {int(r["chain_id"]): int(r["head_block"]) for r in df.to_dict("records")}
