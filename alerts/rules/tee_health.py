"""Rule tee_health: an enabled TEE runs a PCR measurement that is no longer approved (critical), or has missed
its heartbeats (warning; `heartbeat_stale` from the TEE watch, judged on chain time). Enabled, not active: the
registry's `active` already requires fresh heartbeats and an approved PCR, so no active TEE is ever unhealthy.

The outcome depends on indexed data only, never on when a reading ran. Liveness is the registry's own state at
the reading's block, aged by that block's time. PCR approval is taken as revoked only on positive evidence: the
registry's `getApprovedPCRs` view at the read block, or, for a registry without that view (the OHTTP one, whose
approval is replayed from indexed events), an indexed `PCRRevoked` that is the PCR's latest event. A PCR that is
merely not yet seen approved (its `PCRApproved` not indexed when the reading ran, during a backfill or after a
restart) is not a revocation: the crash run found alerts that fired on such readings and resolved later.
"""

from __future__ import annotations

from typing import Any

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, as_time, flag

NAME = "tee_health"


def _revoked_pcrs(ctx: RuleContext) -> set[tuple[int, str, str, int]]:
    """(chain, registry, pcr hash, TEE type) of every PCR whose latest stored state is 'not approved'."""
    return {(int(p["chain_id"]), str(p["registry"]), str(p["pcr_hash"]), int(p["tee_type"]))
            for p in ctx.query("tee_pcrs").to_dict("records") if flag(p["approved"]) is False}


def _from_view(ctx: RuleContext) -> set[tuple[int, str]]:
    """(chain, registry) whose latest reading took PCR approval from the registry's own view."""
    return {(int(r["chain_id"]), str(r["registry"])) for r in ctx.query("tee_registries").to_dict("records")
            if r["pcr_source"] == "view"}


def is_revoked(r: dict[Any, Any], view: set[tuple[int, str]], revoked: set[tuple[int, str, str, int]]) -> bool:
    """Whether a TEE's PCR is known revoked: not approved per the view, or revoked per the indexed events."""
    if flag(r["pcr_approved"]) is not False:
        return False
    chain, registry = int(r["chain_id"]), str(r["registry"])
    return (chain, registry) in view or (chain, registry, str(r["pcr_hash"]), int(r["tee_type"])) in revoked


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every enabled TEE with a revoked PCR or stale heartbeats."""
    out = []
    tees = ctx.query("tee_current").to_dict("records")
    view, pcrs = (_from_view(ctx), _revoked_pcrs(ctx)) if tees else (set(), set())
    for r in tees:
        if not flag(r["enabled"] if "enabled" in r else r["active"]):
            continue
        revoked = is_revoked(r, view, pcrs)
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
            {"tee_current": ("chain_id", "registry", "tee_id", "tee_type", "pcr_hash", "enabled", "pcr_approved",
                             "heartbeat_stale", "heartbeat_intervals_missed", "read_ts"),
             "tee_pcrs": ("chain_id", "registry", "pcr_hash", "tee_type", "approved"),
             "tee_registries": ("chain_id", "registry", "pcr_source")})
