"""The verification, settlement and TEE rules on hand-built rows (the columns their named queries return)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from alerts.rules import BY_NAME, RuleContext

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HEADS = pd.DataFrame([{"chain_id": 10740, "head_block": 500, "head_time": pd.Timestamp(T0)}])


def run(rule: str, frames: dict[str, pd.DataFrame], **params: Any) -> list[Any]:
    r = BY_NAME[rule]
    seen: dict[str, dict[str, Any]] = {}

    def query(name: str, **p: Any) -> pd.DataFrame:
        seen[name] = p
        return frames.get(name, HEADS if name == "alerts_chain_heads" else pd.DataFrame())

    out = r.evaluate(RuleContext(query, T0, {**r.defaults, **params}, {}, {"prod_chains": "10740",
                                                                          "prod_callers": ""}))
    run.seen = seen  # type: ignore[attr-defined]
    return out


def test_merkle_mismatch_fires_per_mismatched_batch() -> None:
    rows = [{"chain_id": 10740, "block_number": b, "log_index": 0, "merkle_root": f"0x{b:064x}", "status": st,
             "reason": "root differs", "address": "0xrelay"} for b, st in ((40, "verified"), (41, "mismatch"),
                                                                           (42, "unavailable"))]
    (f,) = run("merkle_mismatch", {"settlement_blob_checks": pd.DataFrame(rows)})
    assert (f.severity, f.source_chain, f.source_block) == ("critical", 10740, 41)


def test_settlement_stall_needs_active_tees_and_uses_chain_time() -> None:
    backlog = pd.DataFrame([{"chain_id": 10740, "seconds_since_last": 4000, "head_time": pd.Timestamp(T0)}])
    tees = pd.DataFrame([{"chain_id": 10740, "active": True}, {"chain_id": 10740, "active": False}])
    (f,) = run("settlement_stall", {"settlement_backlog": backlog, "tee_current": tees})
    assert f.severity == "warning" and "for 66 min of chain time while 1 TEE(s) are active" in f.summary
    assert run("settlement_stall", {"settlement_backlog": backlog, "tee_current": tees.assign(active=False)}) == []
    assert run("settlement_stall", {"settlement_backlog": backlog, "tee_current": tees}, max_seconds=4000.0) == []
    (c,) = run("settlement_stall", {"settlement_backlog": backlog, "tee_current": tees}, critical_seconds=3000.0)
    assert c.severity == "critical"


def test_settlement_lag_p95_over_a_chain_time_window() -> None:
    stats = pd.DataFrame([{"chain_id": 10740, "mode": m, "n": 4, "lag_p95_s": 2685.0, "lag_max_s": 3000}
                          for m in ("all", "individual")])
    (f,) = run("settlement_lag", {"settlement_lag_stats": stats})
    assert f.severity == "warning" and f.summary.startswith("settlement lag p95 on chain 10740 is 2685 s (n = 4")
    assert run.seen["settlement_lag_stats"] == {"since": T0 - timedelta(days=1)}  # type: ignore[attr-defined]
    assert run("settlement_lag", {"settlement_lag_stats": stats}, min_n=5) == []


VIEW_REG, EVENTS_REG = "0xview", "0xohttp"
REGISTRIES = pd.DataFrame([{"chain_id": 10740, "registry": VIEW_REG, "pcr_source": "view"},
                           {"chain_id": 10740, "registry": EVENTS_REG, "pcr_source": "events"}])


def test_tee_health_revoked_pcr_and_stale_heartbeats() -> None:
    base = {"chain_id": 10740, "registry": VIEW_REG, "tee_type": 0, "pcr_hash": "0xp1", "active": True,
            "pcr_approved": True, "heartbeat_stale": False, "heartbeat_intervals_missed": 0,
            "read_ts": pd.Timestamp(T0)}
    rows = [{**base, "tee_id": "0xaa"}, {**base, "tee_id": "0xbb", "pcr_approved": False},
            {**base, "tee_id": "0xcc", "heartbeat_stale": True, "heartbeat_intervals_missed": 3},
            {**base, "tee_id": "0xdd", "active": False, "pcr_approved": False},
            {**base, "tee_id": "0xee", "heartbeat_stale": None, "pcr_approved": None}]
    frames = {"tee_current": pd.DataFrame(rows), "tee_registries": REGISTRIES}
    got = {(f.labels["tee_id"], f.severity) for f in run("tee_health", frames)}
    assert got == {("0xbb", "critical"), ("0xcc", "warning")}


def test_tee_health_events_registry_needs_an_indexed_revocation() -> None:
    """Without a PCR view, 'not approved' is a revocation only when an indexed PCRRevoked says so: a reading
    taken before the PCRApproved event was indexed (backfill, restart) must not fire and resolve later."""
    base = {"chain_id": 10740, "registry": EVENTS_REG, "tee_type": 0, "enabled": True, "pcr_approved": False,
            "heartbeat_stale": False, "heartbeat_intervals_missed": 0, "read_ts": pd.Timestamp(T0)}
    rows = [{**base, "tee_id": "0x01", "pcr_hash": "0xnotyet"}, {**base, "tee_id": "0x02", "pcr_hash": "0xgone"},
            {**base, "tee_id": "0x03", "pcr_hash": "0xgone", "tee_type": 1}]
    pcrs = pd.DataFrame([{"chain_id": 10740, "registry": EVENTS_REG, "pcr_hash": "0xgone", "tee_type": 0,
                          "approved": False},
                         {"chain_id": 10740, "registry": EVENTS_REG, "pcr_hash": "0xgone", "tee_type": 1,
                          "approved": True}])
    frames = {"tee_current": pd.DataFrame(rows), "tee_registries": REGISTRIES, "tee_pcrs": pcrs}
    assert {(f.labels["tee_id"], f.severity) for f in run("tee_health", frames)} == {("0x02", "critical")}
    assert run("tee_health", {**frames, "tee_pcrs": pcrs.iloc[:0]}) == []  # nothing indexed: nothing known


def test_vanilla_in_production_per_caller_never_simulations() -> None:
    rows = [{"chain_id": 10740, "caller": c, "kind": "llm", "mode": m, "is_simulation": sim, "production": prod,
             "inferences": n} for c, m, sim, prod, n in (
        ("0xA", "VANILLA", False, True, 3), ("0xA", "TEE", False, True, 9), ("0xB", "VANILLA", True, False, 5),
        ("0xC", "VANILLA", False, False, 7), (None, "VANILLA", False, True, 2))]
    got = {(f.labels["caller"], f.evidence["vanilla"]) for f in
           run("vanilla_production", {"verification_counts": pd.DataFrame(rows)})}
    assert got == {("0xA", 3), ("", 2)}
    assert run.seen["verification_counts"]["prod_chains"] == "10740"  # type: ignore[attr-defined]


def test_vanilla_share_threshold_and_n() -> None:
    modes = pd.DataFrame([{"scope": s, "mode": "VANILLA", "share": 0.3, "n": 40} for s in ("all", "production")])
    (f,) = run("vanilla_share", {"verification_modes": modes})
    assert f.severity == "critical" and "30.0% of production inference (n = 40)" in f.summary
    assert run("vanilla_share", {"verification_modes": modes}, min_n=41) == []
    assert run("vanilla_share", {"verification_modes": modes.assign(share=0.01)}) == []


def test_collector_rules_on_hand_built_health() -> None:
    health = pd.DataFrame([
        {"collector": "fees", "chain_id": 56, "ok": True, "lag_blocks": 10, "errors_1h": 0, "error": None,
         "last_error": None, "last_success": pd.Timestamp(T0 - timedelta(seconds=30))},
        {"collector": "tee", "chain_id": 10740, "ok": False, "lag_blocks": 900, "errors_1h": 12, "error": "boom",
         "last_error": "boom", "last_success": pd.Timestamp(T0 - timedelta(hours=2))}])
    (f,) = run("collector_failing", {"collector_health_latest": health})
    assert (f.labels["collector"], f.severity, f.summary) == ("tee", "critical", "collector tee on chain 10740: "
                                                              "failing (boom)")
    (s,) = run("stale_data", {"collector_health_latest": health})
    assert (s.labels["collector"], s.severity) == ("tee", "critical") and "no success for 7200 s" in s.summary


def test_concentration_per_entity_as_the_page_counts(tmp_path: Any) -> None:
    from ogwatch import config
    from store.db import Store

    cfg = config.parse({"networks": {"og": {"name": "og", "chain_id": 10740}},
                        "entities": [{"id": "v2", "entity": "Acme"}, {"id": "v3", "entity": "Acme"}]})
    vals = pd.DataFrame([{"chain_id": 10740, "source": "staking", "validator": v, "operator_address": v,
                          "consensus_pubkey": "", "moniker": v, "jailed": False, "status": "bonded", "tokens": str(p),
                          "power": str(p), "power_f": float(p), "changed_block": 1, "read_block": 5,
                          "read_time": pd.Timestamp(T0)} for v, p in (("v1", 40), ("v2", 35), ("v3", 25))])
    rule = BY_NAME["concentration"]
    with Store(tmp_path / "c.duckdb", serve=False) as store:
        def query(name: str, **p: Any) -> pd.DataFrame:
            return vals if name == "validators_current" else store.query(name, **p)

        (f,) = rule.evaluate(RuleContext(query, T0, rule.defaults, cfg=cfg))
        assert rule.evaluate(RuleContext(query, T0, {**rule.defaults, "min_nakamoto": 1, "max_hhi": 9000.0},
                                         cfg=cfg)) == []
    # per entity: Acme 60 %, v1 40 %: one entity holds more than 1/3; HHI 3,600 + 1,600
    assert (f.labels, f.severity) == ({"layer": "validators"}, "critical")
    assert f.summary == ("validators: Nakamoto coefficient (1/3) is 1 and HHI is 5,200 (highly concentrated) "
                         "over 2 entities")
