"""Latency from a confirmed block to a received webhook for a critical alert, on the devnet.

A fee hike on an uncapped market (the scenario's twin_eoa, after its upgrade) is sent; ogwatch runs in this
process as the scheduler would: the fees log engine of its chain and the alert jobs, each every `--poll`
seconds (confirmations 0: the hike's block is confirmed when mined). Latency = the receiver's arrival time
minus the time the hike's receipt came back. Baseline = the poll interval plus a bare HTTP POST to the same
receiver: what the best poller could do. Target: within 2 s of the baseline.

    .venv/bin/python -m bench.alerts_latency [--poll 1.0] [--trials 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import threading
import time
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.jobs import AlertJobs
from collectors import runner
from devnet import truth as truthmod
from devnet import world
from devnet.world import TRUTH_FILE
from ogwatch import config
from store.db import Store
from tests.conftest import _fixture_key

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdef").decode()


class Arrivals:
    """A receiver that notes when each webhook-id arrived."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.bodies: dict[str, Any] = {}
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                t = time.monotonic()
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                mid = self.headers.get("webhook-id", "")
                outer.times.setdefault(mid, t)
                outer.bodies[mid] = json.loads(body or b"{}")
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def bench_config(w: world.World, store: Path, poll: float, url_env: str) -> config.Config:
    raw = tomllib.loads(w.config_toml(str(store)))
    for n in raw["networks"].values():
        n.update(confirmations=0, poll_seconds=poll)
    raw["webhooks"] = {"hook": {"url_env": url_env, "secret_env": "BENCH_SECRET", "allow_private": True}}
    raw["alerts"] = {"routes": [{"channel": "hook", "rules": ["fee_hike"], "min_severity": "critical"}],
                     "evaluate_seconds": poll, "deliver_seconds": poll, "group_wait_seconds": 30}
    raw["rules"] = {k: {"enabled": k == "fee_hike"} for k in ("fee_queued", "ceiling_changed", "control_changed",
                                                               "fee_charged_mismatch", "trades_after_hike",
                                                               "vanilla_production", "vanilla_share",
                                                               "settlement_stall", "settlement_lag", "merkle_mismatch",
                                                               "tee_health", "concentration", "collector_failing",
                                                               "stale_data")}
    raw["rules"]["fee_hike"] = {"window_seconds": 0.0}
    return config.parse(raw)


def bare_post_ms(url: str, n: int = 20) -> float:
    """Median time of a bare JSON POST to the receiver."""
    times = []
    for _ in range(n):
        t = time.monotonic()
        requests.post(url, data=b'{"x":1}', headers={"content-type": "application/json"}, timeout=5)
        times.append((time.monotonic() - t) * 1000)
    return statistics.median(times)


def eoa_hiker(snapshot: Path) -> tuple[str, str]:
    """(market, owner) of the uncapped EOA-owned market, from the scenario's ground truth."""
    for r in truthmod.read(snapshot / TRUTH_FILE):
        i = r["intent"]
        if r["kind"] == "fee_set" and i.get("market_name") == "twin_eoa" and i.get("path") == "direct":
            return str(i["market"]), str(i["actor"])
    raise SystemExit("no twin_eoa fee setter in the snapshot's truth")


def run(poll: float, trials: int) -> dict[str, Any]:
    snapshot = ROOT / "data" / "cache" / f"devnet-{_fixture_key()}"
    if not snapshot.exists():
        raise SystemExit(f"{snapshot} missing: run the tests once (they build it)")
    rx = Arrivals()
    os.environ["BENCH_HOOK_URL"], os.environ["BENCH_SECRET"] = rx.url, SECRET
    w = world.start(snapshot)
    store_path = ROOT / "bench" / "results" / "alerts_latency.duckdb"
    store_path.parent.mkdir(parents=True, exist_ok=True)
    for p in (store_path, Path(str(store_path) + ".wal")):
        p.unlink(missing_ok=True)
    cfg = bench_config(w, store_path, poll, "BENCH_HOOK_URL")
    market, owner = eoa_hiker(snapshot)
    chain = w.chains["bsc"]
    try:
        with Store(store_path, serve=False) as store:
            for e in runner.engines(cfg, store, networks=["bsc"], sources=["fees"]):
                while e.tick().spans:
                    pass
            jobs = AlertJobs(store, cfg)
            jobs.evaluate()  # the history's alerts go out first
            sched = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
            for e in runner.engines(cfg, store, networks=["bsc"], sources=["fees"]):
                sched.add_job(e.tick, "interval", seconds=poll)
            sched.add_job(jobs.evaluate, "interval", seconds=poll)
            sched.add_job(jobs.deliver, "interval", seconds=poll)
            sched.start()
            try:
                time.sleep(2 * poll)
                lat = []
                fee = int(chain.call(market, "DigitalTwinSharesV1", "protocolFeePercent"))
                for k in range(trials):
                    before = set(rx.times)
                    fee += 3 * 10**16  # +3 points: critical (at least critical_points)
                    chain.transact(owner, market, "DigitalTwinSharesV1", "setProtocolFeePercent", fee)
                    t0 = time.monotonic()
                    deadline = t0 + 30
                    while time.monotonic() < deadline:
                        new = [m for m in set(rx.times) - before if rx.bodies[m].get("kind") == "firing"]
                        if new:
                            lat.append((rx.times[new[0]] - t0) * 1000)
                            break
                        time.sleep(0.01)
                    else:
                        raise SystemExit(f"trial {k}: no webhook within 30 s")
                    time.sleep(poll * 1.5)
            finally:
                sched.shutdown(wait=True)
        post = bare_post_ms(rx.url)
    finally:
        w.stop()
        rx.server.shutdown()
    baseline = poll * 1000 + post
    return {"poll_s": poll, "trials": trials, "latency_ms": [round(x, 1) for x in lat],
            "median_ms": round(statistics.median(lat), 1), "max_ms": round(max(lat), 1),
            "bare_post_ms": round(post, 2), "baseline_ms": round(baseline, 1),
            "median_over_baseline_ms": round(statistics.median(lat) - baseline, 1),
            "max_over_baseline_ms": round(max(lat) - baseline, 1), "target_over_baseline_ms": 2000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--poll", type=float, default=1.0)
    ap.add_argument("--trials", type=int, default=5)
    a = ap.parse_args()
    out = run(a.poll, a.trials)
    print(json.dumps(out, indent=2))
    (ROOT / "bench" / "results" / "alerts_latency.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
