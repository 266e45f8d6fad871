"""Rule merkle_mismatch: a batch settlement's Merkle root does not match the tree rebuilt from its Walrus blob
(status `mismatch` in the blob check). Critical, one alert per batch; fires while the check says so.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, head_times

NAME = "merkle_mismatch"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every batch whose blob check found a different root."""
    heads = head_times(ctx)
    out = []
    for r in ctx.query("settlement_blob_checks").to_dict("records"):
        if r["status"] != "mismatch":
            continue
        chain, block = int(r["chain_id"]), int(r["block_number"])
        out.append(Finding(
            NAME, (chain, block, int(r["log_index"]), r["merkle_root"]), "critical",
            f"batch settlement at block {block} on chain {chain}: on-chain root {r['merkle_root']} does not match "
            f"the Walrus blob ({r['reason']})",
            {"chain_id": str(chain), "relay": str(r["address"])},
            {"batch": r}, chain, block, heads.get(chain)))
    return out


RULE = Rule(NAME, "A batch's Merkle root does not match its Walrus blob.", {"enabled": True}, evaluate,
            {"settlement_blob_checks": ("chain_id", "block_number", "log_index", "merkle_root", "status", "reason",
                                        "address")})
