"""Alert state on fake time: firing/resolved/retracted transitions, grouping windows, silences, routing, and
the fee rules on hand-built rows and on real fee-change rows in a store (retracted by a recorded reorg)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alerts import evaluate
from alerts.model import Finding
from alerts.rules import BY_NAME, Rule, RuleContext, configured
from ogwatch import config
from ogwatch.errors import ConfigError
from store import chainwrite
from store.db import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ONE = 10**18
MARKET = "0x1111111111111111111111111111111111111111"


def cfg_of(routes: list[dict[str, Any]] | None = None, rules: dict[str, Any] | None = None,
           **alerts: Any) -> config.Config:
    return config.parse({
        "networks": {"local": {"name": "l", "chain_id": 31337}},
        "webhooks": {"hook": {"url_env": "OGW_T_HOOK_URL", "secret_env": "OGW_T_SECRET"},
                     "crit": {"url_env": "OGW_T_CRIT_URL", "kind": "slack"}},
        "alerts": {"routes": routes if routes is not None else [{"channel": "hook"}], **alerts},
        "rules": rules or {}})


class Scripted:
    """A rule whose findings the test sets."""

    def __init__(self) -> None:
        self.now: list[Finding] = []
        self.rule = Rule("scripted", "test", {"enabled": True}, lambda ctx: list(self.now))

    def find(self, *keys: str, severity: str = "warning", **labels: str) -> None:
        self.now = [Finding("scripted", (k,), severity, f"thing {k}", {"thing": k, **labels}) for k in keys]


def outbox(store: Store) -> list[dict[str, Any]]:
    rows = store.cursor().execute("SELECT channel, seq, kind, body FROM outbox ORDER BY channel, seq").fetchall()
    return [{"channel": c, "seq": s, "kind": k, "body": json.loads(b)} for c, s, k, b in rows]


def statuses(msg: dict[str, Any]) -> dict[str, str]:
    return {a["summary"]: a["status"] for a in msg["body"]["alerts"]}


def run(store: Store, cfg: config.Config, sc: Scripted, t: float) -> evaluate.PassResult:
    return evaluate.run_pass(store, cfg, T0 + timedelta(seconds=t), [(sc.rule, {"enabled": True})])


def test_grouping_windows_resolved_and_repeat(tmp_path: Path) -> None:
    cfg = cfg_of(group_wait_seconds=30, group_interval_seconds=300, repeat_interval_seconds=3600)
    sc = Scripted()
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        sc.find("a")
        assert run(store, cfg, sc, 0).fired and outbox(store) == []  # group_wait
        sc.find("a", "b")
        run(store, cfg, sc, 20)
        assert outbox(store) == []
        run(store, cfg, sc, 30)  # one notification carries both
        (m1,) = outbox(store)
        assert (m1["kind"], m1["seq"], statuses(m1)) == ("firing", 1, {"thing a": "firing", "thing b": "firing"})
        sc.find("b")
        assert run(store, cfg, sc, 60).resolved  # resolved, but the group waits for group_interval
        assert len(outbox(store)) == 1
        run(store, cfg, sc, 330)
        m2 = outbox(store)[1]
        assert (m2["kind"], m2["seq"], statuses(m2)) == ("resolved", 2, {"thing a": "resolved", "thing b": "firing"})
        run(store, cfg, sc, 330 + 3599)
        assert len(outbox(store)) == 2
        run(store, cfg, sc, 330 + 3600)
        m3 = outbox(store)[2]
        assert (m3["kind"], statuses(m3)) == ("repeat", {"thing b": "firing"})
        history = store.cursor().execute("SELECT transition FROM alert_history ORDER BY seq").fetchall()
        assert [h[0] for h in history] == ["firing", "firing", "resolved"]


def test_critical_skips_group_wait_and_routes_by_severity(tmp_path: Path) -> None:
    cfg = cfg_of([{"channel": "hook"}, {"channel": "crit", "min_severity": "critical"}], group_wait_seconds=600)
    sc = Scripted()
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        sc.find("x", severity="critical")
        run(store, cfg, sc, 0)
        assert [(m["channel"], m["seq"], m["kind"]) for m in outbox(store)] == [("crit", 1, "firing"),
                                                                                 ("hook", 1, "firing")]
        sc.now.append(Finding("scripted", ("y",), "warning", "thing y", {"thing": "y"}))
        run(store, cfg, sc, 1)
        assert len(outbox(store)) == 2  # a warning waits group_interval on hook and never goes to crit


def test_silence_mutes_until_expiry(tmp_path: Path) -> None:
    cfg = cfg_of(group_wait_seconds=0, silences=[{"rule": "scripted", "matchers": {"thing": "a"},
                                                  "until": (T0 + timedelta(hours=1)).isoformat()}])
    sc = Scripted()
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        sc.find("a")
        run(store, cfg, sc, 0)
        assert outbox(store) == []
        assert store.cursor().execute("SELECT silenced FROM alerts").fetchall() == [(True,)]
        run(store, cfg, sc, 3599)
        assert outbox(store) == []
        run(store, cfg, sc, 3600)  # expired: now it is news
        (m,) = outbox(store)
        assert statuses(m) == {"thing a": "firing"}


def test_stored_silence_from_the_table(tmp_path: Path) -> None:
    cfg, sc = cfg_of(group_wait_seconds=0), Scripted()
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO silences VALUES ('s1', '*', '{}', ?, ?, '')", [T0, T0 + timedelta(minutes=5)])
        sc.find("a")
        run(store, cfg, sc, 0)
        assert outbox(store) == []
        run(store, cfg, sc, 300)
        assert len(outbox(store)) == 1


def test_rule_config_errors_are_one_line_each() -> None:
    with pytest.raises(ConfigError) as err:
        configured(cfg_of(rules={"nope": {}, "fee_hike": {"warning_points": "x", "bogus": 1}}))
    assert sorted(err.value.problems) == sorted([
        "rules.nope: unknown rule (known: " + ", ".join(BY_NAME) + ")",
        "rules.fee_hike.warning_points: must be float (got 'x')",
        "rules.fee_hike.bogus: unknown key (known: critical_points, enabled, warning_points, window_seconds)"])
    names = [r.name for r, _p in configured(cfg_of(rules={"stale_data": {"enabled": False}}))]
    assert "stale_data" not in names and "fee_hike" in names


# ---- fee rules -----------------------------------------------------------------------------------------

def frames(changes: list[dict[str, Any]], ceiling: str | None = "capped") -> dict[str, pd.DataFrame]:
    return {
        "fee_changes": pd.DataFrame(changes),
        "fee_markets": pd.DataFrame([{"chain_id": 1, "address": MARKET, "protocol_ceiling": ceiling,
                                      "subject_ceiling": "capped"}]),
        "alerts_chain_heads": pd.DataFrame([{"chain_id": 1, "head_block": 200,
                                             "head_time": pd.Timestamp(T0 + timedelta(days=2))}]),
    }


def change(old: float, new: float, block: int, days_before_head: float, fld: str = "protocolFeePercent") -> dict:
    return {"chain_id": 1, "address": MARKET, "field": fld, "old": str(int(Decimal(str(old)) * ONE / 100)),
            "new": str(int(Decimal(str(new)) * ONE / 100)), "block_number": block,
            "block_time": pd.Timestamp(T0 + timedelta(days=2 - days_before_head))}


def test_fee_hike_severity_window_and_decreases() -> None:
    rows = [change(1, 1.2, 10, 0.1), change(1.2, 2, 11, 0.1), change(2, 5, 12, 0.1), change(5, 4, 13, 0.1),
            change(1, 9, 14, 1.5), change(1, 1.1, 15, 0.2, "protocolFeeDestination")]
    data = frames(rows)
    got = BY_NAME["fee_hike"].evaluate(RuleContext(lambda name, **p: data[name], T0, BY_NAME["fee_hike"].defaults))
    assert [(f.source_block, f.severity) for f in got] == [(10, "info"), (11, "warning"), (12, "critical")]
    assert got[2].summary == f"{MARKET}: protocol fee raised 2 % -> 5 % at block 12 (capped)"
    unbounded = frames([change(1, 1.1, 10, 0.1)], ceiling="uncapped")
    (f,) = BY_NAME["fee_hike"].evaluate(RuleContext(lambda name, **p: unbounded[name], T0,
                                                    BY_NAME["fee_hike"].defaults, {(1, MARKET): "Twin"}))
    assert f.severity == "critical" and f.summary.startswith("Twin: protocol fee raised 1 % -> 1.1 %")


def _write_change(store: Store, block: int, old: int, new: int) -> None:
    with store.transaction() as cur:
        for n in range(block - 1, block + 2):
            cur.execute("INSERT OR IGNORE INTO blocks VALUES (1, ?, ?, ?, ?)",
                        [n, f"0x{n:064x}", f"0x{n - 1:064x}", T0 + timedelta(seconds=12 * n)])
        cur.execute("INSERT INTO fee_changes (chain_id, address, field, old, new, old_f, new_f, block_number, "
                    "block_from, tx_hash, path, detected_by, precision, detected_at) VALUES (1, ?, "
                    "'protocolFeePercent', ?, ?, ?, ?, ?, ?, '0xabc', 'direct', 'event', 'tx', ?)",
                    [MARKET, str(old), str(new), float(old), float(new), block, block, T0])


def test_fee_hike_on_stored_rows_fires_then_a_reorg_retracts_it(tmp_path: Path) -> None:
    cfg = cfg_of(group_wait_seconds=0, rules={"fee_hike": {"window_seconds": 0.0}})
    rules = [(r, p) for r, p in configured(cfg) if r.name == "fee_hike"]
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        _write_change(store, 100, ONE // 100, 2 * ONE // 100)  # +1 point: a warning
        res = evaluate.run_pass(store, cfg, T0, rules)
        assert len(res.fired) == 1 and res.notifications == 1
        (m1,) = outbox(store)
        (a,) = m1["body"]["alerts"]
        assert (m1["kind"], a["severity"], a["source_block"]) == ("firing", "warning", 100)
        assert a["evidence"]["change"]["tx_hash"] == "0xabc" and m1["body"]["fingerprint"] == a["fingerprint"]
        with store.transaction() as cur:
            chainwrite.rollback_above(cur, 1, 99, f"0x{99:064x}", f"0x{101:064x}", "0xnew")
        res = evaluate.run_pass(store, cfg, T0 + timedelta(seconds=1), rules)
        assert res.retracted == [a["fingerprint"]] and res.resolved == []
        m2 = outbox(store)[1]
        assert (m2["kind"], m2["seq"], statuses(m2)) == ("retracted", 2, {a["summary"]: "retracted"})
        assert store.cursor().execute("SELECT count(*) FROM alerts").fetchall() == [(1,)]  # history survives


# ---- the registry: every rule has its config block and runs on a real (empty) store ---------------------

@pytest.mark.parametrize("rule", list(BY_NAME.values()), ids=list(BY_NAME))
def test_every_rule_has_its_config_block_and_is_quiet_on_an_empty_store(rule: Rule, tmp_path: Path) -> None:
    import tomllib

    from tests.conftest import ROOT

    example = tomllib.loads((ROOT / "config.example.toml").read_text())["rules"]
    assert example[rule.name] == rule.defaults
    assert (ROOT / "alerts" / "rules" / f"{rule.name}.py").exists()
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        assert rule.evaluate(RuleContext(store.query, T0, rule.defaults)) == []
        for name, columns in rule.reads.items():  # the watches' queries still have what the rule reads
            from store import queries

            wanted = {k: None for k in queries.get(name).params}
            assert set(columns) <= set(store.query(name, **wanted).columns), name


def test_alert_queries_run_on_an_empty_store(tmp_path: Path) -> None:
    from store import queries

    names = [n for n in queries.REGISTRY if n.startswith("alerts_")]
    params: dict[str, Any] = {"since": T0, "now": T0, "limit": 10}
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        for name in names:
            wanted = {k: params.get(k) for k in queries.get(name).params}
            assert store.query(name, **wanted).empty
    assert len(names) >= 10


def test_the_scheduler_gets_the_alert_jobs(tmp_path: Path) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from ogwatch import service

    sched = BackgroundScheduler(timezone="UTC")
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        service.add_alert_jobs(sched, cfg_of(heartbeat_channel="hook"), store, T0)
        assert sorted(j.id for j in sched.get_jobs()) == ["alerts:deliver", "alerts:evaluate", "alerts:heartbeat"]
        with pytest.raises(ConfigError):
            service.add_alert_jobs(sched, cfg_of(rules={"nope": {}}), store, T0)


def test_alert_config_errors_are_one_line_each(tmp_path: Path) -> None:
    from tests.conftest import ogwatch, write_config

    cfg = write_config(tmp_path, '[webhooks.a]\nurl_env = "A_URL"\n[alerts]\nroutes = [{ channel = "nope" }]\n'
                                 'silences = [{ until = 2026-01-01T00:00:00 }]\n')
    out = ogwatch("--config", str(cfg), "check", "--offline")
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()  # the tmp path's long segment is masked as key-like: compare the end
    assert line.endswith("config.toml: webhooks.a: a generic webhook needs secret_env (its Standard Webhooks "
                         "signing secret)")
    ok = cfg_of(silences=[{"until": datetime(2026, 1, 1)}])  # a local date-time is UTC
    assert ok.alerts.silences[0].until == T0
    with pytest.raises(ConfigError) as err:
        cfg_of([{"channel": "nope"}])
    assert err.value.problems == ["config: alerts.routes[0]: unknown webhook 'nope'"]
