"""Rule rpc_disagreement: a network's RPC URLs disagree (different block hashes: critical), one lags the
others by more than the network's `cross_check_max_lag`, or too few answer to cross-check (warning).

Reads the cross-check's rounds (collectors/crosscheck.py), which are `collector_health` rows of the
`rpc_crosscheck` collector; the generic collector rules leave those rows to this one. Fires when the
latest round found a problem and at least `min_rounds_1h` rounds did in the last hour; resolves with the
first clean round.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext

NAME = "rpc_disagreement"
COLLECTOR = "rpc_crosscheck"  # the health rows' collector name, as written by collectors/crosscheck.py


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every chain whose latest cross-check round found its URLs disagreeing, lagging or silent."""
    out = []
    for r in ctx.query("collector_health_latest").to_dict("records"):
        if r["collector"] != COLLECTOR or bool(r["ok"]) or int(r["errors_1h"] or 0) < int(ctx.params["min_rounds_1h"]):
            continue
        problem = str(r["error"] or "cross-check failed")
        out.append(Finding(
            NAME, (int(r["chain_id"]),), "critical" if problem.startswith("hashes differ") else "warning",
            f"RPC URLs of chain {r['chain_id']}: {problem}",
            {"chain_id": str(r["chain_id"])},
            {"health": r}))
    return out


RULE = Rule(NAME, "A network's RPC URLs disagree on block hashes, or one lags the others.",
            {"enabled": True, "min_rounds_1h": 1}, evaluate,
            {"collector_health_latest": ("collector", "chain_id", "ok", "error", "errors_1h")})
