"""Rule tee_health: an enabled TEE runs a PCR measurement that is no longer approved (critical), or has missed
its heartbeats (warning; `heartbeat_stale` from the TEE watch, judged on chain time). Enabled, not active: the
registry's `active` already requires fresh heartbeats and an approved PCR, so no active TEE is ever unhealthy.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time, flag

NAME = "tee_health"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every enabled TEE with a revoked PCR or stale heartbeats."""
    out = []
    for r in ctx.query("tee_current").to_dict("records"):
        if not flag(r["enabled"] if "enabled" in r else r["active"]):
            continue
        revoked = flag(r["pcr_approved"]) is False
        stale = flag(r["heartbeat_stale"]) is True
        if not (revoked or stale):
            continue
        chain, tee = int(r["chain_id"]), str(r["tee_id"])
        what = [w for w, on in (("runs a revoked PCR", revoked), (
            f"missed heartbeats ({r['heartbeat_intervals_missed']} interval(s))", stale)) if on]
        out.append(Finding(
            NAME, (chain, tee, "pcr" if revoked else "heartbeat"), "critical" if revoked else "warning",
            f"TEE {tee[:18]} on chain {chain}: {' and '.join(what)}",
            {"chain_id": str(chain), "tee_id": tee}, {"tee": r}, None, None, as_time(r["read_ts"])))
    return out


RULE = Rule(NAME, "A TEE runs a revoked PCR or misses heartbeats.", {"enabled": True}, evaluate,
            {"tee_current": ("chain_id", "tee_id", "enabled", "pcr_approved", "heartbeat_stale",
                             "heartbeat_intervals_missed", "read_ts")})
