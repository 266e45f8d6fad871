"""The non-fee alert rules on the shared devnet, held against the simulator's ground truth.

A store is indexed from the devnet (OG EVM settlements, TEE registries, validators, Walrus blob checks, the
alpha inference source and its caller job). With thresholds the devnet's facts cross, a production-tagged caller
and BNB's collectors pointed at a closed port, every rule fires on exactly what truth.jsonl and the node predict,
and its notifications reach a real receiver on 127.0.0.1 that checks the Standard Webhooks signatures. The busy,
harmless case is the same devnet indexed up to the block before its first incident (the tampered batch, the PCR
revocation, the clock jump that stales heartbeats): with thresholds its facts stay within and no production-tagged
caller, nothing fires although all the activity before that block is there, the Vanilla rules as strict as before.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alerts import channels, delivery, evaluate
from alerts.rules import configured
from collectors import blob_check, runner
from collectors.concentration_jobs import concentration_jobs
from collectors.inference_callers import inference_caller_jobs
from devnet.world import World
from ogwatch import config
from store.db import Store
from tests import concentration_helpers as ch
from tests.engine_helpers import world_config
from tests.test_alerts_receiver import SECRET, Receiver
from tests.test_verification_truth import inferences

pytestmark = pytest.mark.devnet
RULES = ("vanilla_production", "vanilla_share", "settlement_stall", "settlement_lag", "merkle_mismatch",
         "tee_health", "concentration", "collector_failing", "stale_data")


def index(world: Any, path: Path, until: int | None = None) -> Path:
    """OG EVM (up to `until`, default the head) and alpha indexed, blob-checked, the registries and validators
    read at OG EVM's last indexed block, the callers derived."""
    cfg = ch.og_config(ch.og_toml(world, path))
    with Store(path, serve=False) as store:
        pools = runner.pools(cfg, [ch.NET, "alpha"])
        for eng in runner.engines(cfg, store, [ch.NET, "alpha"], shared=pools):
            while eng.tick(until if eng.t.network == ch.NET else None).spans:
                pass
        for bjob in blob_check.blob_jobs(cfg, store, pools):
            bjob.tick()
        for job in concentration_jobs(cfg, store, pools):
            assert job.tees is not None and job.validators is not None
            job.tees.tick(until)
            job.validators.tick(until)
        for cjob in inference_caller_jobs(cfg, store, pools):
            cjob.run_all()
    return path


@pytest.fixture(scope="module")
def indexed(devnet_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole devnet indexed."""
    return index(devnet_world, tmp_path_factory.mktemp("rules") / "ogwatch.duckdb")


def rules_config(world: Any, path: Path, rules: dict[str, dict[str, Any]], harmless: bool = False) -> config.Config:
    """The world's config on `path` with one webhook channel taking every rule, and these thresholds."""
    raw: dict[str, Any] = json.loads(ch.og_config(ch.og_toml(world, path)).model_dump_json())
    if harmless:
        for c in raw["contracts"]:
            c["tags"] = [t for t in c.get("tags", []) if t != "production"]
    else:  # the world's config lists no [[callers]]: tag the simulator's production caller contract
        raw["callers"] = [{"network": "alpha", "address": world.dep.get("caller_prod").address,
                           "label": "caller prod", "tags": ["production"]}]
    raw["webhooks"] = {"hook": {"url_env": "OGW_T_HOOK_URL", "secret_env": "OGW_T_SECRET", "allow_private": True}}
    raw["alerts"] = {"routes": [{"channel": "hook", "rules": list(RULES)}], "group_wait_seconds": 0}
    raw["rules"] = rules
    return config.parse(raw)


def run(cfg: config.Config, path: Path, now: datetime) -> tuple[list[dict[str, Any]], Any, dict[str, int]]:
    """One evaluation pass of the non-fee rules, then delivery; (alerts, pass result, delivery counts)."""
    with Store(path, serve=False) as store:
        rules = [(r, p) for r, p in configured(cfg) if r.name in RULES]
        res = evaluate.run_pass(store, cfg, now, rules)
        cur = store.cursor().execute("SELECT rule, severity, labels, evidence, fingerprint FROM alerts")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        sent = delivery.Worker(store, channels.channels(cfg)).deliver_due()
    return rows, res, sent


def og_head(world: World) -> tuple[int, int]:
    """OG EVM's head block and its time, from the node."""
    head = world.chains[ch.NET].rpc("eth_getBlockByNumber", "latest", False)
    return int(head["number"], 16), int(head["timestamp"], 16)


def block_ts(world: World, number: int) -> int:
    """A block's time, from the node."""
    return int(world.chains[ch.NET].rpc("eth_getBlockByNumber", hex(number), False)["timestamp"], 16)


def settlement_truth(world: World, snapshot: Path) -> dict[str, Any]:
    """What the truth says of settlements: seconds from the last one to the head, every lag, tampered batches."""
    recs = [r for r in ch.records(snapshot) if r["status"] == 1]
    settled = [r for r in recs if r["kind"] in ("settlement_individual", "settlement_batch", "settlement_v1")]
    lags = [r["intent"]["lag"] for r in recs if r["kind"] == "settlement_individual"]
    lags += [x for r in recs if r["kind"] == "settlement_batch" and not r["intent"]["tampered"]
             for x in r["intent"]["lags"]]
    return {"gap": og_head(world)[1] - block_ts(world, max(r["block"] for r in settled)), "lags": lags,
            "tampered": {r["block"] for r in recs if r["kind"] == "settlement_batch" and r["intent"]["tampered"]}}


def unhealthy_tees(world: World, snapshot: Path, block: int | None = None) -> set[tuple[str, str]]:
    """(tee_id, pcr|heartbeat) of every enabled TEE with a revoked PCR or a heartbeat older than the registry's
    1800 s, replayed from the truth at a block's time (default: the head)."""
    t = ch.tee_truth(snapshot, block)
    now = og_head(world)[1] if block is None else block_ts(world, block)
    out = set()
    for tee_id, tee in t.tees.items():
        if not tee["enabled"]:
            continue
        if not t.approved_of(tee):
            out.add((tee_id, "pcr"))
        elif now - tee["last_heartbeat_at"] > 1800:
            out.add((tee_id, "heartbeat"))
    return out


def nakamoto(weights: list[int]) -> int:
    """The fewest holders with more than a third of the total."""
    total, run_sum = sum(weights), 0
    for i, w in enumerate(sorted(weights, reverse=True), 1):
        run_sum += w
        if run_sum * 3 > total:
            return i
    return len(weights)


def production_inferences(world: World, snapshot: Path) -> tuple[dict[str, int], int]:
    """(production-tagged caller (lower-case) -> its Vanilla inferences, all their inferences), no simulations."""
    prod = {world.dep.get(n).address.lower() for n in ("caller_prod", "workflow")}
    out: dict[str, int] = {}
    mine = [i for i in inferences(snapshot, world) if i.caller in prod and not i.simulation]
    for i in mine:
        if i.caller is not None and i.mode == "VANILLA":
            out[i.caller] = out.get(i.caller, 0) + 1
    return out, len(mine)


def fail_on_closed_port(world: World, path: Path) -> set[tuple[str, str]]:
    """Tick BNB's collectors against a closed port on 127.0.0.1; (collector, chain_id) of each."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = world_config(world, path, urls={"bsc": f"http://127.0.0.1:{port}"})
    out = set()
    with Store(path, serve=False) as store:
        for eng in runner.engines(cfg, store, ["bsc"]):
            with pytest.raises(Exception):  # noqa: B017 - any transport error; the engine records it
                eng.tick()
            out.add((eng.t.source, str(cfg.networks["bsc"].chain_id)))
    return out


def firing_rules(gap: int, lags: list[int]) -> dict[str, dict[str, Any]]:
    """Thresholds the devnet's facts cross (windows 0: all of the devnet's history counts)."""
    return {"vanilla_production": {"window_seconds": 0.0},
            "vanilla_share": {"window_seconds": 0.0, "max_share": 0.0, "min_n": 1},
            "settlement_stall": {"max_seconds": float(gap - 1), "critical_seconds": float(gap + 1)},
            "settlement_lag": {"window_seconds": 0.0, "max_p95_seconds": float(min(lags)),
                               "min_n": len(lags)},
            "concentration": {"min_nakamoto": 3}}


def harmless_rules(gap: int, lags: list[int]) -> dict[str, dict[str, Any]]:
    """Thresholds the devnet's facts stay within; the Vanilla rules as strict as before (no production caller)."""
    return {"vanilla_production": {"window_seconds": 0.0},
            "vanilla_share": {"window_seconds": 0.0, "max_share": 0.0, "min_n": 1},
            "settlement_stall": {"max_seconds": float(gap)},
            "settlement_lag": {"window_seconds": 0.0, "max_p95_seconds": float(max(lags))},
            "concentration": {"min_nakamoto": 1, "max_hhi": 10000.0}}


def by_rule(rows: list[dict[str, Any]]) -> dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    for r in rows:
        out.setdefault(r["rule"], []).append((r["severity"], json.loads(r["labels"]), json.loads(r["evidence"])))
    return out


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A signature-checking receiver on 127.0.0.1 behind the channel's env vars."""
    rx = Receiver()
    monkeypatch.setenv("OGW_T_HOOK_URL", rx.url)
    monkeypatch.setenv("OGW_T_SECRET", SECRET)
    yield rx
    rx.close()


def check_settlement_and_tees(got: dict[str, Any], world: World, snapshot: Path, st: dict[str, Any]) -> None:
    chain = str(world.chains[ch.NET].chain_id)
    ((sev, lab, ev),) = got["settlement_stall"]
    assert (sev, lab["chain_id"], ev["backlog"]["seconds_since_last"]) == ("warning", chain, st["gap"])
    ((_s, lab, ev),) = got["settlement_lag"]
    assert (lab["chain_id"], ev["lag"]["n"], ev["lag"]["lag_max_s"]) == (chain, len(st["lags"]), max(st["lags"]))
    assert {(lab["chain_id"], e["batch"]["block_number"]) for s, lab, e in got["merkle_mismatch"]} == {
        (chain, b) for b in st["tampered"]}
    assert {(lab["tee_id"], "pcr" if s == "critical" else "heartbeat") for s, lab, _e in got["tee_health"]} == (
        unhealthy_tees(world, snapshot))


def check_concentration(got: dict[str, Any], snapshot: Path, world: World) -> None:
    t, now = ch.tee_truth(snapshot), og_head(world)[1]
    active: dict[str, int] = {}
    for tee in t.tees.values():
        if t.active(tee, now):
            active[tee["owner"].lower()] = active.get(tee["owner"].lower(), 0) + 1
    powers = [p for p in ch.last_validator_powers(snapshot).values() if p > 0]
    want = {"validators": nakamoto(powers), "tee_active": nakamoto(list(active.values())),
            "tee_work": nakamoto(list(ch.work_truth(snapshot)[0].values()))}
    assert {lab["layer"]: e["metrics"]["nakamoto"]["1/3"] for _s, lab, e in got["concentration"]} == {
        k: v for k, v in want.items()}


def test_every_rule_fires_on_its_devnet_scenario(devnet_world: World, devnet_snapshot: Path, indexed: Path,
                                                 tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "s.duckdb"
    shutil.copy(indexed, path)
    st = settlement_truth(devnet_world, devnet_snapshot)
    broken = fail_on_closed_port(devnet_world, path)
    cfg = rules_config(devnet_world, path, firing_rules(st["gap"], st["lags"]))
    rows, res, sent = run(cfg, path, datetime.now(UTC))
    got = by_rule(rows)
    assert set(got) == set(RULES) and res.errors == {}
    vanilla, n = production_inferences(devnet_world, devnet_snapshot)
    assert {lab["caller"].lower(): e["vanilla"] for _s, lab, e in got["vanilla_production"]} == vanilla
    ((_s, _lab, share),) = got["vanilla_share"]
    assert (int(share["modes"]["inferences"]), int(share["modes"]["n"])) == (sum(vanilla.values()), n)
    check_settlement_and_tees(got, devnet_world, devnet_snapshot, st)
    check_concentration(got, devnet_snapshot, devnet_world)
    assert {(lab["collector"], lab["chain_id"]) for _s, lab, _e in got["collector_failing"]} == broken
    assert {(s, lab["collector"], lab["chain_id"]) for s, lab, _e in got["stale_data"]} == {
        ("critical", c, n) for c, n in broken}  # never succeeded; the others succeeded seconds ago
    assert sent == {"delivered": res.notifications} and res.notifications > 0
    assert receiver.seen and all(r.verified and r.answered == 200 for r in receiver.seen)
    received = [a["fingerprint"] for r in receiver.accepted() for a in r.json["alerts"]]
    assert sorted(received) == sorted(r["fingerprint"] for r in rows)


def before_incidents(snapshot: Path) -> int:
    """The last OG EVM block before the first incident in the truth: a tampered batch, a revoked PCR, a disabled
    TEE or a jump of the chain clock (heartbeats then go stale)."""
    recs = ch.records(snapshot)
    tampered = [r["block"] for r in recs if r["kind"] == "settlement_batch" and r["intent"]["tampered"]]
    revoked = [r["block"] for r in recs if r["kind"] in ("pcr_revoked", "tee_disabled")]
    return min(tampered + revoked) - 1


def test_busy_harmless_devnet_fires_nothing(devnet_world: World, devnet_snapshot: Path, tmp_path: Path,
                                            receiver: Receiver) -> None:
    block = before_incidents(devnet_snapshot)
    path = index(devnet_world, tmp_path / "s.duckdb", block)
    assert unhealthy_tees(devnet_world, devnet_snapshot, block) == set()
    st = settlement_truth(devnet_world, devnet_snapshot)
    cfg = rules_config(devnet_world, path, harmless_rules(st["gap"], st["lags"]), harmless=True)
    with Store(path, serve=False) as store:  # the activity is all there
        busy = {q: len(store.query(q)) for q in ("settlement_blob_checks", "tee_current", "collector_health_latest")}
        calls = store.cursor().execute("SELECT count(*) FROM inference_calls").fetchone()
    assert calls is not None and calls[0] == len(inferences(devnet_snapshot, devnet_world))
    recs = [r for r in ch.records(devnet_snapshot) if r["block"] <= block and r["status"] == 1]
    assert busy == {"settlement_blob_checks": sum(r["kind"] == "settlement_batch" for r in recs),
                    "tee_current": sum(r["kind"] == "tee_registered" for r in recs),
                    "collector_health_latest": 3}  # settlement and tee on OG EVM, inference on alpha
    rows, res, sent = run(cfg, path, datetime.now(UTC))
    assert (rows, res.findings, res.errors, sent, receiver.seen) == ([], 0, {}, {}, [])
