"""Retention prunes old operational rows and never evidence (events, fee changes, alerts, outbox ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ogwatch import config as configmod
from ogwatch.errors import ConfigError
from ogwatch.service import build_scheduler, retention_policy
from store import retention
from store.db import Store
from tests.conftest import write_config

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EVIDENCE = ("market_events", "fee_changes", "alerts", "alert_history", "outbox", "dead_letters", "checkpoints",
            "blocks")


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _operational(cur) -> None:
    health = [("fees", 1, ago(40), True), ("fees", 1, ago(20), True), ("fees", 1, ago(10), False),
              ("fees", 1, ago(0.05), True),
              # only old rows: the latest (a failure) and the latest success stay
              ("inference", 1, ago(40), True), ("inference", 1, ago(35), True), ("inference", 1, ago(30), False)]
    cur.executemany("INSERT INTO collector_health (collector, chain_id, observed_at, ok) VALUES (?, ?, ?, ?)", health)
    cur.executemany("INSERT INTO service_heartbeats VALUES (?, 1, ?)",
                    [(1, ago(30)), (2, ago(20)), (3, ago(8)), (4, ago(1)), (5, ago(0.01))])
    cur.executemany("INSERT INTO alert_runs VALUES (?, 3, 0, 0, '{}')", [(ago(60),), (ago(45),), (ago(2),)])
    outbox = [("m-delivered", 1, "delivered"), ("m-pending", 2, "pending"), ("m-dead", 3, "dead")]
    cur.executemany("INSERT INTO outbox (id, channel, seq, kind, group_key, fingerprints, body, created_at, status, "
                    "attempts, next_attempt_at) VALUES (?, 'hook', ?, 'firing', 'g', '[\"fp\"]', '{}', ?, ?, 2, ?)",
                    [(i, s, ago(50), st, ago(50)) for i, s, st in outbox])
    cur.executemany("INSERT INTO delivery_attempts VALUES (?, ?, ?, 'failed', 500, 'HTTP 500', 3.0)",
                    [(m, n, ago(50 - n)) for m, _, _ in outbox for n in (1, 2)])
    cur.execute("INSERT INTO dead_letters VALUES ('m-dead', 'hook', ?, 2, 'HTTP 500', NULL)", [ago(48)])


def _market_state(cur) -> None:
    cur.executemany("INSERT INTO blocks VALUES (1, ?, ?, ?, ?)",
                    [(b, f"0x{b:064x}", f"0x{b - 1:064x}", ago(40 if b <= 50 else 0.1)) for b in range(10, 70, 10)])
    values = {10: "a", 20: "a", 30: "a", 40: "b", 50: "b", 60: "b"}
    cur.executemany("INSERT INTO market_state VALUES (1, '0xM', ?, 'protocolFeePercent', ?, 0)",
                    list(values.items()))
    # an unchanged destination read on every tick, some old, some recent
    cur.executemany("INSERT INTO market_state VALUES (1, '0xM', ?, 'owner', NULL, NULL)", [(b,) for b in values])


def _evidence(cur) -> None:
    cur.execute("INSERT INTO market_events VALUES (1, 20, '0xh', 1, '0xt', 0, 0, '0xM', 'ProtocolFeePercentSet', "
                "'protocolFeePercent', '5', 5.0)")
    cur.execute("INSERT INTO fee_changes (chain_id, address, field, old, new, block_number, block_from, path, "
                "detected_by, precision, detected_at) VALUES (1, '0xM', 'protocolFeePercent', 'a', 'b', 40, 40, "
                "'direct', 'event', 'tx', ?)", [ago(40)])
    cur.execute("INSERT INTO alerts (fingerprint, rule, severity, status, group_key, summary, labels, evidence, "
                "first_fired_at, last_seen_at) VALUES ('fp', 'fee_hike', 'critical', 'resolved', 'g', 's', '{}', "
                "'[]', ?, ?)", [ago(50), ago(49)])
    cur.execute("INSERT INTO alert_history VALUES (1, 'fp', ?, 'firing', '')", [ago(50)])
    cur.execute("INSERT INTO checkpoints VALUES ('fees', 1, '0xg', 60, '0xh', ?)", [ago(40)])


def _counts(cur, tables) -> dict[str, int]:
    return {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "r.duckdb", serve=False) as s:
        with s.transaction() as cur:
            _operational(cur)
            _market_state(cur)
            _evidence(cur)
        yield s


def test_old_operational_rows_pruned_evidence_kept(store) -> None:
    cur = store.cursor()
    evidence = _counts(cur, EVIDENCE)
    done = retention.prune_store(store, retention.Policy(), NOW)
    assert _counts(cur, EVIDENCE) == evidence
    health = cur.execute("SELECT collector, observed_at FROM collector_health ORDER BY collector, observed_at")
    assert health.fetchall() == [("fees", ago(0.05)), ("inference", ago(35)), ("inference", ago(30))]
    assert [r[0] for r in cur.execute("SELECT seq FROM service_heartbeats ORDER BY seq").fetchall()] == [4, 5]
    assert cur.execute("SELECT count(*) FROM alert_runs").fetchone()[0] == 1
    attempts = cur.execute("SELECT DISTINCT message_id FROM delivery_attempts").fetchall()
    assert attempts == [("m-pending",)]  # finished notifications lose their attempt log, never their outbox row
    assert cur.execute("SELECT id, status, attempts FROM outbox ORDER BY seq").fetchall() == [
        ("m-delivered", "delivered", 2), ("m-pending", "pending", 2), ("m-dead", "dead", 2)]
    fee = cur.execute("SELECT block_number, value FROM market_state WHERE field = 'protocolFeePercent' "
                      "ORDER BY block_number").fetchall()
    assert fee == [(10, "a"), (30, "a"), (40, "b"), (60, "b")]  # each run's ends: the change at 30..40 stays
    owner = cur.execute("SELECT block_number FROM market_state WHERE field = 'owner' ORDER BY 1").fetchall()
    assert owner == [(10,), (60,)]
    assert (done.collector_health, done.service_heartbeats, done.alert_runs, done.delivery_attempts,
            done.market_state) == (4, 3, 2, 4, 6)


def test_second_pass_and_heartbeat_sequence(store) -> None:
    retention.prune_store(store, retention.Policy(), NOW)
    assert retention.prune_store(store, retention.Policy(), NOW).total == 0
    later = retention.prune_store(store, retention.Policy(), NOW + timedelta(days=30))
    cur = store.cursor()
    assert later.service_heartbeats == 1
    assert cur.execute("SELECT max(seq) FROM service_heartbeats").fetchone()[0] == 5  # the sequence goes on


def test_policy_from_config_and_scheduled_job(tmp_path) -> None:
    path = write_config(tmp_path, extra="\n[retention]\ncollector_health_days = 2\nevery_seconds = 600\n")
    cfg = configmod.load(path)
    policy = retention_policy(cfg)
    assert policy.collector_health_days == 2 and policy.delivery_attempts_days == 30
    with Store(cfg.store.path, serve=False) as s:
        sched = build_scheduler(cfg, s)
        job = sched.get_job("retention")
        assert job is not None and job.trigger.interval == timedelta(seconds=600)
    off = configmod.load(write_config(tmp_path, extra="\n[retention]\nenabled = false\n"))
    with Store(off.store.path, serve=False) as s:
        assert build_scheduler(off, s).get_job("retention") is None


def test_bad_retention_setting_is_one_line(tmp_path) -> None:
    with pytest.raises(ConfigError) as err:
        configmod.load(write_config(tmp_path, extra="\n[retention]\nalert_runs_days = 0.01\nkeep = 1\n"))
    lines = err.value.problems
    assert any(line.endswith("retention.alert_runs_days: Input should be greater than or equal to 1 (got 0.01)")
               for line in lines), lines
    assert any(line.endswith("retention.keep: unknown key") for line in lines), lines
