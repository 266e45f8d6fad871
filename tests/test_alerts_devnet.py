"""The fee rules end to end on the shared devnet: index it, run the fee watch, evaluate, deliver to a real
receiver; every fee hike in the simulator's ground truth is one fee-hike alert, received signed; the upgrade is
one control change and two ceiling changes; the one pending timelock schedule is one queued-change alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alerts import channels, delivery, evaluate
from alerts.rules import configured
from collectors import runner
from devnet import truth as truthmod
from devnet.world import TRUTH_FILE
from ogwatch import config
from store.db import Store
from tests.engine_helpers import backfill, world_config
from tests.test_alerts_receiver import SECRET, Receiver

pytestmark = pytest.mark.devnet
FEE_RULES = ("fee_hike", "ceiling_changed", "control_changed", "fee_queued", "fee_charged_mismatch",
             "trades_after_hike")


def truth_hikes(snapshot: Path) -> set[tuple[int, str, str, int]]:
    """(chain_id, market, field, block) of every successful fee increase the simulator made."""
    out = set()
    for r in truthmod.read(snapshot / TRUTH_FILE):
        i = r["intent"]
        if r["kind"] == "fee_set" and r["status"] == 1 and int(i["new"]) > int(i["old"]):
            out.add((int(r["chain_id"]), str(i["market"]).lower(), str(i["field"]), int(r["block"])))
    return out


def truth_after_hike(truth: list[dict[str, Any]], n: int) -> dict[tuple[int, str, int], list[str]]:
    """(chain_id, market, hike block) -> txs of the trades after the hike (truth order = chain order) within n
    blocks, on the same market."""
    out: dict[tuple[int, str, int], list[str]] = {}
    for i, h in enumerate(truth):
        hi = h["intent"]
        if h["kind"] != "fee_set" or h["status"] != 1 or int(hi["new"]) <= int(hi["old"]):
            continue
        txs = [t["tx"] for t in truth[i + 1:] if t["kind"] in ("trade", "batch_trade", "twin_create")
               and t["status"] == 1 and t["chain_id"] == h["chain_id"] and t["intent"].get("market") == hi["market"]
               and t["block"] <= h["block"] + n]
        if txs:
            out[(h["chain_id"], hi["market"].lower(), h["block"])] = sorted(txs)
    return out


def after_hike(rows: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> dict[tuple[int, str, int], list[str]]:
    """The same, from the trades_after_hike alerts' evidence."""
    out: dict[tuple[int, str, int], list[str]] = {}
    for _sev, lab, ev in rows:
        trades = ev["trades"]
        out[(int(lab["chain_id"]), lab["market"].lower(), int(trades[0]["hike_block"]))] = sorted(
            t["tx_hash"] for t in trades)
    return out


def check_control_alerts(rows: list[tuple[Any, ...]], snapshot: Path, world: Any) -> None:
    """The upgrade in truth is one critical control change and two critical ceiling changes (capped-but-upgradeable
    -> uncapped); the one timelock schedule neither cancelled nor executed is the one queued-change alert."""
    truth = list(truthmod.read(snapshot / TRUTH_FILE))
    (up,) = [r for r in truth if r["kind"] == "upgrade"]
    market = world.dep.get(up["intent"]["market_name"]).address
    by_rule: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    for rule, sev, labels, evidence in rows:
        by_rule.setdefault(rule, []).append((sev, json.loads(labels), json.loads(evidence)))
    (ctl,) = by_rule["control_changed"]
    assert (ctl[0], ctl[1]["market"], ctl[2]["control"]["implementation"]) == (
        "critical", market, up["intent"]["new_implementation"])
    assert sorted((s, lab["market"], lab["field"], lab["ceiling"]) for s, lab, _e in by_rule["ceiling_changed"]) == [
        ("critical", market, f, "uncapped") for f in ("protocolFeePercent", "subjectFeePercent")]
    cancelled = {r["intent"]["id"] for r in truth if r["kind"] == "timelock_cancel"}
    executed = {(r["intent"]["market_name"], r["intent"]["field"], r["intent"]["new"]) for r in truth
                if r["kind"] == "fee_set" and r["intent"].get("path") == "timelock" and r["status"] == 1}
    queued = {r["intent"]["id"] for r in truth if r["kind"] == "timelock_schedule"
              and r["intent"]["id"] not in cancelled
              and (r["intent"]["market_name"], r["intent"]["field"], r["intent"]["new"]) not in executed}
    assert {e["queued"]["operation_id"] for _s, _lab, e in by_rule["fee_queued"]} == queued
    assert after_hike(by_rule.pop("trades_after_hike", [])) == truth_after_hike(truth, 3)
    assert set(by_rule) == {"control_changed", "ceiling_changed", "fee_queued"}  # no fee_charged_mismatch


def start_before(job: runner.FeeJob, block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch's first reading at `block`, as if it had been running before the scenario began (a watch
    started later sees only later changes: state has no memory of earlier values)."""
    plan = job.state._plan

    def early(head: int) -> Any:
        tk = plan(head)
        tk.target = block
        return tk

    monkeypatch.setattr(job.state, "_plan", early)
    job.state.tick()
    job.control.tick(block)
    monkeypatch.setattr(job.state, "_plan", plan)


def with_alerts(cfg: config.Config) -> config.Config:
    raw: dict[str, Any] = json.loads(cfg.model_dump_json())
    raw["webhooks"] = {"hook": {"url_env": "OGW_T_HOOK_URL", "secret_env": "OGW_T_SECRET", "allow_private": True}}
    raw["alerts"] = {"routes": [{"channel": "hook", "rules": ["fee_hike"]}], "group_wait_seconds": 0,
                     "group_by": ["rule", "chain_id", "market"]}
    raw["rules"] = {"fee_hike": {"window_seconds": 0.0}, "trades_after_hike": {"window_blocks": 0}}
    return config.parse(raw)


def test_every_fee_hike_in_truth_is_one_alert(devnet_world, devnet_snapshot, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    rx = Receiver()
    monkeypatch.setenv("OGW_T_HOOK_URL", rx.url)
    monkeypatch.setenv("OGW_T_SECRET", SECRET)
    path = tmp_path / "e.duckdb"
    cfg = with_alerts(world_config(devnet_world, path))
    backfill(cfg, path)
    try:
        with Store(path, serve=False) as store:
            ts = runner.targets(cfg)
            first: dict[int, int] = {}
            for c, _m, _f, b in truth_hikes(devnet_snapshot):
                first[c] = min(b, first.get(c, b))
            for job in runner.fee_jobs(cfg, store, runner.pools(cfg, sorted({t.network for t in ts}))):
                start_before(job, first[cfg.networks[job.network].chain_id] - 1, monkeypatch)
                job.tick()
            rules = [(r, p) for r, p in configured(cfg) if r.name in FEE_RULES]
            res = evaluate.run_pass(store, cfg, datetime.now(UTC), rules)
            other = store.cursor().execute(
                "SELECT rule, severity, labels, evidence FROM alerts WHERE rule <> 'fee_hike'").fetchall()
            sent = delivery.Worker(store, channels.channels(cfg)).deliver_due()
            alerts = store.cursor().execute("SELECT labels, source_chain, source_block, status FROM alerts "
                                            "WHERE rule = 'fee_hike'").fetchall()
        got = {(int(c), json.loads(lab)["market"].lower(), json.loads(lab)["field"], int(b))
               for lab, c, b, _s in alerts}
        assert got == truth_hikes(devnet_snapshot)
        assert len(alerts) + len(other) == len(res.fired) == res.findings
        check_control_alerts(other, devnet_snapshot, devnet_world)
        assert sent == {"delivered": res.notifications}
        received = [a["fingerprint"] for r in rx.accepted() for a in r.json["alerts"]]
        assert len(received) == len(set(received)) == len(alerts)
    finally:
        rx.close()
