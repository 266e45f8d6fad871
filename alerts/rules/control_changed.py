"""Rule control_changed: who controls a market changed (owner, owner kind, implementation upgrade,
upgradeability); critical on an implementation change. Fires for `window_seconds` of chain time.
"""

from __future__ import annotations

from typing import Any

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time, head_times, market_label, within

NAME = "control_changed"


def _what(r: dict[Any, Any]) -> list[str]:
    parts = []
    if r["prev_owner"] != r["owner"]:
        parts.append(f"owner {r['prev_owner']} ({r['prev_owner_kind']}) -> {r['owner']} ({r['owner_kind']})")
    if r["prev_implementation"] != r["implementation"]:
        parts.append(f"implementation {r['prev_implementation']} -> {r['implementation']}")
    if r["prev_upgradeable"] != r["upgradeable"]:
        parts.append(f"upgradeable {r['prev_upgradeable']} -> {r['upgradeable']}")
    return parts


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every control change within the window."""
    heads = head_times(ctx)
    out = []
    for r in ctx.query("alerts_control_changes").to_dict("records"):
        chain, addr = int(r["chain_id"]), str(r["address"])
        if not within(float(ctx.params["window_seconds"]), as_time(r["block_time"]), heads.get(chain)):
            continue
        what = _what(r)
        out.append(Finding(
            NAME, (chain, addr.lower(), int(r["block_number"])),
            "critical" if r["prev_implementation"] != r["implementation"] else "warning",
            f"{market_label(ctx, chain, addr)}: {'; '.join(what) or 'control changed'}"
            f" (found by block {r['block_number']})",
            {"chain_id": str(chain), "market": addr},
            {"control": r}, chain, int(r["block_number"]), heads.get(chain)))
    return out


RULE = Rule(NAME, "A market's owner, implementation or upgradeability changed.",
            {"enabled": True, "window_seconds": 86400.0}, evaluate)
