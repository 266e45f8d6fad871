"""SSRF refusals (one clear line), `ogwatch alerts test|replay|health|silence|list` through the real CLI, and
at-least-once delivery across a `kill -9` of a delivering process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts import channels, delivery, outbox, ssrf
from store.db import Store
from tests.conftest import ROOT, ogwatch, write_config
from tests.test_alerts_receiver import SECRET, Receiver

HOOKS = """
[webhooks.hook]
url_env = "OGW_T_HOOK_URL"
secret_env = "OGW_T_SECRET"
allow_private = {allow}
"""


@pytest.mark.parametrize("url", [
    "http://localhost/x", "http://127.0.0.1:8080/x", "http://[::1]/x", "http://[::ffff:127.0.0.1]/x",
    "http://2130706433/x", "http://0x7f000001/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
    "http://[fe80::1]/x", "http://0.0.0.0/x", "http://192.168.1.1/x",
])
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(ssrf.UnsafeURL) as err:
        ssrf.check(url, False, "hook")
    assert str(err.value).startswith("webhook hook: refused, its URL resolves to a ")
    assert url.split("/")[2] not in str(err.value) or "[" in url or url.split("/")[2][0].isdigit()
    ssrf.check(url, True, "hook")  # explicitly allowed


def test_bad_scheme_is_refused() -> None:
    with pytest.raises(ssrf.UnsafeURL, match="must be http"):
        ssrf.check("file:///etc/passwd", True, "hook")


def test_alerts_test_refuses_loopback_in_one_line(tmp_path: Path) -> None:
    rx = Receiver()
    try:
        cfg = write_config(tmp_path, HOOKS.format(allow="false"))
        out = ogwatch("--config", str(cfg), "alerts", "test", "hook", env={"OGW_T_HOOK_URL": rx.url,
                                                                           "OGW_T_SECRET": SECRET})
        assert out.returncode == 1 and rx.seen == []
        assert out.stderr.strip() == ("ogwatch: webhook hook: refused, its URL resolves to a loopback address "
                                      "(127.0.0.1); set allow_private = true on the webhook to allow it")
        assert rx.url not in out.stdout + out.stderr
    finally:
        rx.close()


def test_a_redirect_to_loopback_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target, rx = Receiver(), Receiver(mode="redirect")
    rx.redirect_to = target.url
    monkeypatch.setenv("OGW_T_HOOK_URL", rx.url)
    monkeypatch.setenv("OGW_T_SECRET", SECRET)
    try:
        ch = channels.Channel("hook", "generic", "OGW_T_HOOK_URL", "OGW_T_SECRET", True, 5.0)
        out = delivery.send(ch, "msg_x", '{"a": 1}')
        assert (out.outcome, out.status_code, out.error) == ("failed", 302, "HTTP 302: redirect not followed")
        assert target.seen == [] and len(rx.seen) == 1
    finally:
        rx.close()
        target.close()


def test_cli_test_replay_silence_list_health(tmp_path: Path) -> None:
    rx = Receiver()
    env = {"OGW_T_HOOK_URL": rx.url, "OGW_T_SECRET": SECRET}
    try:
        cfg = write_config(tmp_path, HOOKS.format(allow="true"))
        out = ogwatch("--config", str(cfg), "alerts", "test", "hook", env=env)
        assert out.returncode == 0, out.stderr
        (got,) = rx.accepted()
        assert out.stdout.strip() == f"delivered {got.headers['webhook-id']} (HTTP 200)"
        assert got.json["kind"] == "test" and got.json["seq"] == 1
        with Store(tmp_path / "ogwatch.duckdb", serve=False) as store, store.transaction() as cur:
            msg = outbox.enqueue(cur, "hook", "firing", "g", [], datetime.now(UTC))
            cur.execute("UPDATE outbox SET status='dead', attempts=8 WHERE id=?", [msg])
            cur.execute("INSERT INTO dead_letters VALUES (?, 'hook', ?, 8, 'HTTP 500', NULL)", [msg, datetime.now(UTC)])
        out = ogwatch("--config", str(cfg), "alerts", "--json", "replay", env=env)
        assert out.returncode == 0 and msg in out.stdout
        out = ogwatch("--config", str(cfg), "alerts", "evaluate", env=env)
        assert out.returncode == 0, out.stderr
        assert [r.headers["webhook-id"] for r in rx.accepted()][-1] == msg
        out = ogwatch("--config", str(cfg), "alerts", "silence", "fee_hike", "--for", "2h", "--match", "chain_id=1")
        assert out.returncode == 0 and out.stdout.startswith("silence sil_")
        out = ogwatch("--config", str(cfg), "alerts", "silence", "nope", "--for", "2h")
        assert (out.returncode, out.stderr.strip().split(" (")[0]) == (1, "ogwatch: unknown rule 'nope'")
        out = ogwatch("--config", str(cfg), "alerts", "list")
        assert out.returncode == 0
        out = ogwatch("--config", str(cfg), "alerts", "health")
        assert out.returncode == 1 and "stale: scheduler heartbeat never seen" in out.stdout
        with Store(tmp_path / "ogwatch.duckdb", serve=False) as store, store.transaction() as cur:
            cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, ?)", [datetime.now(UTC)])
        out = ogwatch("--config", str(cfg), "alerts", "health")  # `alerts evaluate` above ran a pass
        assert out.returncode == 0 and out.stdout.startswith("ok: heartbeat"), out.stdout
    finally:
        rx.close()


CHILD = """
import sys
from alerts import channels, delivery
from store.db import Store
ch = channels.Channel("hook", "generic", "OGW_T_HOOK_URL", "OGW_T_SECRET", True, 10.0)
with Store(sys.argv[1], serve=False) as store:
    print("ready", flush=True)
    delivery.Worker(store, {"hook": ch}).deliver_due()
"""


def test_kill_9_mid_delivery_resends_the_same_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rx = Receiver(mode="slow", slow_s=30.0)
    monkeypatch.setenv("OGW_T_HOOK_URL", rx.url)
    monkeypatch.setenv("OGW_T_SECRET", SECRET)
    path = tmp_path / "k.duckdb"
    with Store(path, serve=False) as store, store.transaction() as cur:
        msg = outbox.enqueue(cur, "hook", "firing", "g", [], datetime.now(UTC) - timedelta(seconds=1))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, env=os.environ.copy(),
                             stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not rx.arrived and time.monotonic() < deadline:  # the receiver has the request, not yet answered
            time.sleep(0.05)
        assert rx.arrived == [msg], "the child never sent"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    rx.mode, rx.slow_s = "ok", 0.0
    with Store(path, serve=False) as store:
        assert store.cursor().execute("SELECT status, attempts FROM outbox").fetchall() == [("pending", 0)]
        ch = channels.Channel("hook", "generic", "OGW_T_HOOK_URL", "OGW_T_SECRET", True, 10.0)
        assert delivery.Worker(store, {"hook": ch}).deliver_due() == {"delivered": 1}
    rx.close()
    assert rx.arrived == [msg, msg]  # the same id again: at least once, never a second id


def test_the_connection_goes_to_the_checked_address_only() -> None:
    """No second DNS lookup after the check: a name that cannot resolve still reaches the pinned address, and the
    Host header keeps the URL's name."""
    from alerts import http

    rx = Receiver()
    try:
        port = rx.url.split(":")[2].split("/")[0]
        ans = http.post(f"http://rebind.invalid:{port}/hook?x=1", "127.0.0.1", b"{}", {"webhook-id": "m1"}, 5.0)
        assert ans.status == 200
        (got,) = rx.seen
        assert (got.path, got.headers["host"], got.headers["webhook-id"]) == ("/hook?x=1", f"rebind.invalid:{port}",
                                                                              "m1")
    finally:
        rx.close()
