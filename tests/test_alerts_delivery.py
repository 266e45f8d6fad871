"""Outbox delivery against a real receiver on 127.0.0.1: signatures, at-least-once with stable ids across
worker restarts, the full retry schedule on a fake clock, dead letters and replay, timeouts, formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts import channels, delivery, evaluate, outbox
from ogwatch import config
from store.db import Store
from tests.test_alerts_receiver import SECRET, Receiver

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, t: datetime = T0):
        self.t = t

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def make_cfg(kinds: dict[str, str] | None = None, allow_private: bool = True, **alerts: Any) -> config.Config:
    hooks = {name: {"url_env": f"OGW_T_{name.upper()}_URL", "kind": kind, "allow_private": allow_private,
                    **({"secret_env": "OGW_T_SECRET"} if kind == "generic" else {})}
             for name, kind in (kinds or {"hook": "generic"}).items()}
    return config.parse({"networks": {"local": {"name": "l", "chain_id": 31337}}, "webhooks": hooks,
                         "alerts": alerts})


@pytest.fixture
def rx(monkeypatch: pytest.MonkeyPatch):
    r = Receiver()
    for name in ("HOOK", "SLACK", "DISCORD"):
        monkeypatch.setenv(f"OGW_T_{name}_URL", r.url)
    monkeypatch.setenv("OGW_T_SECRET", SECRET)
    yield r
    r.close()


def queue(store: Store, n: int, channel: str = "hook", now: datetime = T0) -> list[str]:
    with store.transaction() as cur:
        return [outbox.enqueue(cur, channel, "firing", "rule=fee_hike",
                               [{"fingerprint": f"fp{i}", "rule": "fee_hike", "severity": "critical",
                                 "status": "firing", "summary": f"hike {i}"}], now) for i in range(n)]


def rows(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return store.cursor().execute(sql, list(params)).fetchall()


def test_at_least_once_with_stable_ids_across_restarts(rx: Receiver, tmp_path: Path) -> None:
    path, clock, cfg = tmp_path / "a.duckdb", FakeClock(), make_cfg()
    with Store(path, serve=False) as store:
        ids = queue(store, 3)
        rx.mode = "fail"
        assert delivery.Worker(store, channels.channels(cfg), clock).deliver_due() == {"failed": 3}
    rx.mode = "ok"
    clock.advance(4)
    with Store(path, serve=False) as store:  # a new worker on the same store, after a restart
        worker = delivery.Worker(store, channels.channels(cfg), clock)
        assert worker.deliver_due() == {}  # the 5 s retry is not due yet
        clock.advance(1)
        assert worker.deliver_due() == {"delivered": 3}
        assert worker.deliver_due() == {}
        attempts = rows(store, "SELECT message_id, attempt, outcome, status_code FROM delivery_attempts "
                               "ORDER BY message_id, attempt")
    assert sorted(attempts) == sorted([(i, 1, "failed", 500) for i in ids] + [(i, 2, "delivered", 200) for i in ids])
    got = [r.headers["webhook-id"] for r in rx.seen]
    assert sorted(got) == sorted(ids * 2)  # each notification resent with its own id, never a new one
    accepted = rx.accepted()
    assert sorted(r.headers["webhook-id"] for r in accepted) == sorted(ids)
    bodies = {r.headers["webhook-id"]: r.json for r in accepted}
    assert sorted(b["seq"] for b in bodies.values()) == [1, 2, 3]
    assert {b["id"] for b in bodies.values()} == set(ids)
    assert sorted(b["fingerprint"] for b in bodies.values()) == ["fp0", "fp1", "fp2"]


def test_full_schedule_on_fake_clock_then_dead_letter_and_replay(rx: Receiver, tmp_path: Path) -> None:
    clock, cfg = FakeClock(), make_cfg()
    rx.mode = "fail"
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        (msg,) = queue(store, 1)
        worker = delivery.Worker(store, channels.channels(cfg), clock)
        offsets = []
        for _ in range(40 * 6):  # 40 hours of fake time in 10-minute steps, plus exact due times
            due = rows(store, "SELECT next_attempt_at, status FROM outbox")[0]
            if due[1] != "pending":
                break
            step = min(600.0, max(0.0, (due[0] - clock.now()).total_seconds()))
            clock.advance(step)
            if worker.deliver_due():
                offsets.append((clock.now() - T0).total_seconds())
        assert offsets == [0, 5, 305, 2105, 9305, 27305, 63305, 99305]  # the schedule, cumulated (~27.6 h)
        assert rows(store, "SELECT status, attempts FROM outbox") == [("dead", 8)]
        assert rows(store, "SELECT message_id, attempts, replayed_at FROM dead_letters") == [(msg, 8, None)]
        assert [r[0] for r in rows(store, "SELECT outcome FROM delivery_attempts ORDER BY attempt")] == ["failed"] * 8
        clock.advance(30 * 3600 - 99305)  # the receiver comes back 30 hours after the first attempt
        rx.mode = "ok"
        assert worker.deliver_due() == {}
        assert delivery.replay(store, clock.now()) == [msg]
        assert worker.deliver_due() == {"delivered": 1}
        assert rows(store, "SELECT status FROM outbox") == [("delivered",)]
        assert rows(store, "SELECT max(attempt) FROM delivery_attempts") == [(9,)]
        assert delivery.replay(store, clock.now()) == []
    assert [r.headers["webhook-id"] for r in rx.seen] == [msg] * 9
    assert len(rx.accepted()) == 1


def test_a_slow_receiver_is_a_timeout(rx: Receiver, tmp_path: Path) -> None:
    rx.mode, rx.slow_s = "slow", 1.5
    clock = FakeClock()
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        queue(store, 1)
        worker = delivery.Worker(store, channels.channels(make_cfg()), clock, timeout_s=0.3)
        assert worker.deliver_due() == {"timeout": 1}
        (att,) = rows(store, "SELECT attempt, outcome, status_code, error FROM delivery_attempts")
        assert att == (1, "timeout", None, "no answer within 0.3 s")
        assert rows(store, "SELECT status, attempts, next_attempt_at FROM outbox") == [
            ("pending", 1, T0 + timedelta(seconds=5))]


def test_slack_and_discord_shapes(rx: Receiver, tmp_path: Path) -> None:
    cfg = make_cfg({"slack": "slack", "discord": "discord"})
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        ids = queue(store, 1, "slack") + queue(store, 1, "discord")
        assert delivery.Worker(store, channels.channels(cfg), FakeClock()).deliver_due() == {"delivered": 2}
    by_id = {r.headers["webhook-id"]: r for r in rx.seen}
    slack, discord = by_id[ids[0]], by_id[ids[1]]
    assert "webhook-signature" not in slack.headers
    s = slack.json
    assert set(s) == {"text", "blocks"} and s["text"].startswith(":rotating_light: ogwatch firing")
    assert [b["type"] for b in s["blocks"]] == ["header", "section", "context"]
    assert "[critical] firing: hike 0" in s["blocks"][1]["text"]["text"]
    assert f"id {ids[0]} · seq 1 · fingerprints fp0" == s["blocks"][2]["elements"][0]["text"]
    d = discord.json
    assert set(d) == {"content", "embeds", "allowed_mentions"} and len(d["embeds"]) == 1
    emb = d["embeds"][0]
    assert emb["color"] == 0xD0021B and emb["fields"][0]["value"] == "hike 0"
    assert emb["footer"]["text"] == f"id {ids[1]} · seq 1 · fingerprints fp0"


def test_heartbeat_is_a_signed_message(rx: Receiver, tmp_path: Path) -> None:
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        msg = evaluate.heartbeat(store, "hook", T0)
        assert delivery.Worker(store, channels.channels(make_cfg()), FakeClock()).deliver_due() == {"delivered": 1}
    (got,) = rx.accepted()
    assert got.headers["webhook-id"] == msg
    assert json.loads(got.body)["type"] == "ogwatch.heartbeat" and got.json["status"] == "alive"


def test_a_failed_heartbeat_is_not_retried(rx: Receiver, tmp_path: Path) -> None:
    rx.mode = "fail"
    clock = FakeClock()
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        evaluate.heartbeat(store, "hook", T0)
        worker = delivery.Worker(store, channels.channels(make_cfg()), clock)
        assert worker.deliver_due() == {"failed": 1}
        clock.advance(3600)
        assert worker.deliver_due() == {}
        assert rows(store, "SELECT status, attempts FROM outbox") == [("expired", 1)]
        assert rows(store, "SELECT count(*) FROM dead_letters") == [(0,)]


def test_errors_never_carry_the_secret_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rx = Receiver()
    secret_url = rx.url.replace("/hook", "/hooks/T0123/s3cr3tTOKENvalue123")
    rx.close()  # nobody listens any more: the connection error quotes the URL's parts
    monkeypatch.setenv("OGW_T_HOOK_URL", secret_url)
    monkeypatch.setenv("OGW_T_SECRET", SECRET)
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        queue(store, 1)
        assert delivery.Worker(store, channels.channels(make_cfg()), FakeClock()).deliver_due() == {"failed": 1}
        stored = " ".join(str(v) for r in rows(store, "SELECT * FROM delivery_attempts") for v in r)
        stored += " ".join(str(v) for r in rows(store, "SELECT * FROM outbox") for v in r)
    assert "NewConnectionError" in stored and "s3cr3tTOKENvalue123" not in stored and secret_url not in stored


def test_receiver_down_30_hours_everything_arrives(rx: Receiver, tmp_path: Path) -> None:
    """Notifications made at 0 h and at 20 h, receiver down until 30 h: the first is dead-lettered (its schedule
    ends at ~27.6 h) and replayed, the second is delivered by its own retry after recovery; nothing twice."""
    clock, cfg = FakeClock(), make_cfg()
    rx.mode = "fail"
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        worker = delivery.Worker(store, channels.channels(cfg), clock)
        (first,) = queue(store, 1)
        for step in range(40 * 6):  # 40 h in 10-minute steps
            if step == 20 * 6:
                (second,) = queue(store, 1, now=clock.now())
            if step == 30 * 6:
                rx.mode = "ok"
                assert delivery.replay(store, clock.now()) == [first]
            worker.deliver_due()
            clock.advance(600)
        status = dict(rows(store, "SELECT id, status FROM outbox"))
        dead = [r[0] for r in rows(store, "SELECT message_id FROM dead_letters")]
    assert status == {first: "delivered", second: "delivered"} and dead == [first]
    accepted = [r.headers["webhook-id"] for r in rx.accepted()]
    assert sorted(accepted) == sorted([first, second])
    assert {r.headers["webhook-id"] for r in rx.seen} == {first, second}  # retries only, never a new id


def test_scheduler_jobs_fire_a_rule_on_stored_health_and_send_at_once(rx: Receiver, tmp_path: Path) -> None:
    """The service's alert jobs end to end: a failing collector tick in the store, one evaluation, and the
    receiver already has the signed notification (no wait for the delivery tick)."""
    from alerts.jobs import AlertJobs

    cfg = config.parse({**json.loads(make_cfg(routes=[{"channel": "hook"}], group_wait_seconds=0)
                                     .model_dump_json()),
                        "rules": {"stale_data": {"enabled": False}}})
    with Store(tmp_path / "a.duckdb", serve=False) as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO collector_health (collector, chain_id, observed_at, ok, head_block, "
                        "indexed_block, error) VALUES ('fees', 56, ?, false, 100, 90, 'HTTP 502 from node')",
                        [datetime.now(UTC)])
        AlertJobs(store, cfg).evaluate()
    (got,) = rx.accepted()
    (a,) = got.json["alerts"]
    assert (got.json["kind"], a["rule"], a["severity"]) == ("firing", "collector_failing", "warning")
    assert a["summary"] == "collector fees on chain 56: failing (HTTP 502 from node)"
