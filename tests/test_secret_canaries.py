"""Canary secrets never leave the process: not in logs, the store, pages, errors or alert payloads.

The real scheduler (`ogwatch run`, debug logging) runs for a few seconds with secrets from env vars:
an RPC URL carrying an API key in its path and query (a devnet chain behind a pass-through proxy,
which ignores the path), a second network whose keyed URL is a closed port (failing RPC), and a signed
webhook with a token in its URL and a canary signing secret, delivered to a real receiver on 127.0.0.1
that fails on demand at first (failing webhook), plus a second webhook on a closed port. Then every
text is searched for every canary: the process output, every stored cell, `ogwatch check` / `alerts
list` / `query` output, every page's rendered text (AppTest), and every body and header received.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from devnet import nodes
from devnet.faultproxy import FaultProxy
from tests.conftest import ROOT, ogwatch
from tests.test_alerts_receiver import Receiver

pytestmark = pytest.mark.devnet

RPC_KEY, RPC_QUERY_KEY = "CanaryRpcKey7f3a9b2c4d5e6f70", "CanaryQuery0a1b2c3d"
HOOK_TOKEN = "CanaryHookToken5e6f7a8b"
SIGNING_RAW = b"canary-signing-secret-0123456789"
SIGNING = "whsec_" + base64.b64encode(SIGNING_RAW).decode()
CANARIES = [RPC_KEY, RPC_QUERY_KEY, HOOK_TOKEN, SIGNING, SIGNING[6:], SIGNING_RAW.decode()]
FRIENDTECH = "0x8464135c8F25Da09e49BC8782676a84730C318bC"
WAIT_S = 90.0  # bound on waiting for the scheduler to reach each stage on a loaded machine


def _wait(cond: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not cond():
        assert proc.poll() is None, proc.communicate()[0][-2000:]  # the scheduler died: show why
        assert time.monotonic() < deadline, "the scheduler did not get there"
        time.sleep(0.2)


def _config(store: Path, world: Any) -> str:
    bsc_market = world.dep.get("twin_eoa").address
    return f"""
[store]
path = "{store}"
[service]
heartbeat_seconds = 1
[networks.base]
name = "Base (devnet)"
chain_id = 8453
rpc_url_env = ["OGW_CANARY_RPC"]
confirmations = 0
poll_seconds = 1
[networks.bsc]
name = "BSC (down)"
chain_id = 56
rpc_url_env = ["OGW_CANARY_RPC_DOWN"]
confirmations = 0
poll_seconds = 1
[[contracts]]
network = "base"
kind = "friendtech_market"
label = "friend.tech"
address = "{FRIENDTECH}"
[[contracts]]
network = "bsc"
kind = "twinfun_market"
label = "Twin.fun"
address = "{bsc_market}"
[webhooks.hook]
url_env = "OGW_CANARY_HOOK"
secret_env = "OGW_CANARY_SECRET"
allow_private = true
[webhooks.down]
url_env = "OGW_CANARY_HOOK_DOWN"
secret_env = "OGW_CANARY_SECRET"
allow_private = true
[alerts]
evaluate_seconds = 1
deliver_seconds = 0.5
group_wait_seconds = 0
heartbeat_channel = "hook"
heartbeat_seconds = 1
routes = [{{ channel = "hook" }}, {{ channel = "down" }}]
"""


def _store_text(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(repr(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)  # noqa: S608
    finally:
        con.close()


def _pages_text(cfg: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    for k, v in {**env, "OGWATCH_CONFIG": str(cfg)}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(ROOT)
    out = []
    for page in sorted((ROOT / "pages").glob("[!_]*.py")):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(page), default_timeout=60).run()
        assert not at.exception, (page.name, at.exception)
        out += [str(getattr(e, "value", "")) for kind in ("markdown", "caption", "info", "warning", "error",
                                                           "text", "code", "table", "dataframe", "json")
                for e in getattr(at, kind)]
    st.cache_data.clear()
    st.cache_resource.clear()
    return "\n".join(out)


def _cli_texts(cfg: Path, env: dict[str, str]) -> dict[str, str]:
    """Output of read and failing commands: a check (one RPC down), a collect on it, alerts, a query."""
    texts = {}
    for args in (("check",), ("collect", "--network", "bsc"), ("alerts", "list"), ("alerts", "test", "down"),
                 ("query", "service_heartbeat", "--json")):
        out = ogwatch("--config", str(cfg), "-v", *args, env=env)
        texts[" ".join(args)] = out.stdout + out.stderr
    return texts


def test_canaries_never_leave(devnet_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rx = Receiver(secret=SIGNING, mode="fail")
    proxy = FaultProxy(devnet_world.urls["base"]).start()
    down = nodes.free_port()
    env = {"OGW_CANARY_RPC": f"{proxy.url}/v2/{RPC_KEY}?apikey={RPC_QUERY_KEY}",
           "OGW_CANARY_RPC_DOWN": f"http://127.0.0.1:{down}/v3/{RPC_KEY}",
           "OGW_CANARY_HOOK": f"{rx.url}?token={HOOK_TOKEN}", "OGW_CANARY_SECRET": SIGNING,
           "OGW_CANARY_HOOK_DOWN": f"http://127.0.0.1:{down}/hook/{HOOK_TOKEN}"}
    store, cfg = tmp_path / "ogwatch.duckdb", tmp_path / "config.toml"
    cfg.write_text(_config(store, devnet_world))
    try:
        proc = subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(cfg), "-v", "run"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        _wait(lambda: any(r.answered == 500 for r in rx.seen), proc)  # failures first (errors logged) ...
        rx.mode = "ok"
        _wait(lambda: len(rx.accepted()) >= 2, proc)  # ... then deliveries
        time.sleep(2.0)  # a few more ticks of every job
        proc.send_signal(signal.SIGINT)
        logs, _ = proc.communicate(timeout=60)
        texts = _cli_texts(cfg, env)  # while the keyed RPC still answers
    finally:
        proxy.stop()
        rx.close()
    delivered = rx.accepted()
    assert delivered and any(r.answered == 500 for r in rx.seen), "the webhook both failed and delivered"
    assert "DEBUG" in logs and "bsc" in logs  # debug logging ran, and the failing network was reported
    texts |= {"logs": logs, "store": _store_text(store),
              "payloads": "\n".join(r.body + repr(r.headers) for r in rx.seen)}
    assert "8453" in texts["store"] and "heartbeat" in texts["payloads"]
    assert "127.0.0.1" in texts["check"] and "***" in texts["check"]  # the failing URL is named, masked
    texts["pages"] = _pages_text(cfg, env, monkeypatch)
    leaks = {where: [c for c in CANARIES if c in text] for where, text in texts.items()}
    assert {k: v for k, v in leaks.items() if v} == {}
