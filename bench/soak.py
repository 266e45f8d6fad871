"""Soak: the live devnet behind seeded faults, with the scheduler, alerts and dashboard running; then checks.

    .venv/bin/python -m bench.soak --minutes 30 [--seed 1] [--interval 0.5]

A fresh devnet plays the simulator's catalogue, then a live trickle for `--minutes`. Every chain is reached
only through a fault proxy (devnet/faultproxy.py) whose faults change every minute on a seeded schedule
(calm, mixed, bursts, a full outage). `ogwatch run` indexes and sends every alert to a local webhook receiver
(127.0.0.1, allow_private) that refuses a seeded 10 % of POSTs; `ogwatch serve` is polled over HTTP and
every page is rendered with AppTest in a loop. When the trickle stops the faults stay on (mixed) until
every collector reaches the heads and the outbox is empty; then the store is held against the ground truth
(truth.jsonl receipts) and cryo (straight from the nodes): events missing, duplicated, alerts delivered,
none under two webhook ids; bounded memory of `ogwatch run` (runs of 20 minutes or more: bench/reliability.py
`rss_bound`), store bytes per event. `OGWATCH_TRACEMALLOC=<file>` in the environment makes `ogwatch run` write
memory snapshots (ogwatch/memwatch.py). Report on stdout, JSON in bench/results/soak.json; the working files
stay in data/soak/.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import requests

from bench import reliability as rel
from devnet.faultproxy import FaultProxy, Faults
from ogwatch import config as configmod
from store.db import Reader

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "data" / "soak"
SECRET = "whsec_" + base64.b64encode(b"soak-secret-0123456789abcdef!!").decode()
PROFILES = ("calm", "mixed", "mixed", "burst", "outage")
WARMUP_SHARE = 0.25  # the first quarter of the live phase is warm-up for the RSS slope
MEMORY_CHECK_MINUTES = 20.0  # shorter runs report the figures but cannot tell warm-up from growth


def profile(name: str, seed: int) -> Faults:
    """The faults of one schedule slot."""
    if name == "calm":
        return Faults(seed=seed, delay_rate=0.05, delay_s=0.05)
    if name == "outage":
        return Faults(seed=seed, http_5xx_rate=1.0)
    k = 1.0 if name == "mixed" else 4.0
    return Faults(seed=seed, delay_rate=0.05 * k, delay_s=0.2, timeout_rate=0.01 * k, hang_s=3.0,
                  http_429_rate=0.03 * k, http_5xx_rate=0.03 * k, torn_body_rate=0.02 * k,
                  malformed_json_rate=0.02 * k, max_logs=300, stale_head_rate=0.1 * k, stale_by=3)


class FaultSchedule:
    """Every `slot_s` seconds a seeded draw of a profile, set on every proxy (each with its own seed)."""

    def __init__(self, proxies: dict[str, FaultProxy], seed: int, slot_s: float = 60.0):
        self.proxies, self.rng, self.slot_s = proxies, random.Random(seed), slot_s
        self.slots: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="fault-schedule")

    def _run(self) -> None:
        while not self.stop.is_set():
            name = self.rng.choice(PROFILES)
            self.slots.append(name)
            for proxy in self.proxies.values():
                proxy.set_faults(profile(name, self.rng.getrandbits(32)))
            self.stop.wait(self.slot_s if name != "outage" else self.slot_s / 2)

    def finish(self, then: str = "mixed") -> None:
        """Stop drawing and leave `then` in force."""
        self.stop.set()
        self.thread.join()
        for proxy in self.proxies.values():
            proxy.set_faults(profile(then, self.rng.getrandbits(32)))


def write_config(world: Any, proxies: dict[str, FaultProxy]) -> Path:
    """The world's config with every RPC URL replaced by its proxy, a webhook for every alert, fast jobs."""
    text = world.config_toml(str(WORK / "ogwatch.duckdb"))
    for key, chain in world.chains.items():
        text = text.replace(f'rpc_urls = ["{chain.url}"]', f'rpc_urls = ["{proxies[key].url}"]')
    text += """
[webhooks.hook]
url_env = "SOAK_HOOK_URL"
secret_env = "SOAK_HOOK_SECRET"
allow_private = true
timeout_seconds = 5

[alerts]
evaluate_seconds = 5
deliver_seconds = 2
group_wait_seconds = 5
group_interval_seconds = 30
heartbeat_channel = "hook"
heartbeat_seconds = 60

[[alerts.routes]]
channel = "hook"
"""
    path = WORK / "config.toml"
    path.write_text(text)
    configmod.load(path)  # fail here, not in a child
    return path


def spawn(args: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
    """A child process with its output in data/soak/<log>."""
    out = (WORK / log).open("wb")
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


class Sampler:
    """RSS of `ogwatch run` every 10 s and a dashboard HTTP poll every 15 s, until stopped."""

    def __init__(self, pid: int, port: int):
        self.pid, self.port = pid, port
        self.rss: list[tuple[float, float]] = []
        self.store_mb: list[tuple[float, float]] = []
        self.load: list[float] = []
        self.http_ok = self.http_fail = 0
        self.t0 = time.monotonic()

    def tick(self) -> bool:
        """Take whatever samples are due (always False, so it can lead an `or`)."""
        now = time.monotonic() - self.t0
        if not self.rss or now - self.rss[-1][0] >= 10:
            mb = rel.rss_mb(self.pid)
            if mb is not None:
                self.rss.append((now, mb))
            files = (WORK / "ogwatch.duckdb", WORK / "ogwatch.duckdb.wal")
            self.store_mb.append((now, sum(p.stat().st_size for p in files if p.exists()) / 2**20))
            self.load.append(os.getloadavg()[0])
            for path in ("/_stcore/health", "/"):
                try:
                    ok = requests.get(f"http://127.0.0.1:{self.port}{path}", timeout=10).status_code == 200
                except requests.RequestException:
                    ok = False
                self.http_ok, self.http_fail = self.http_ok + ok, self.http_fail + (not ok)
        return False


def converged(reader: Reader, heads: dict[int, int]) -> bool:
    """Every collector at or past its chain's head and nothing pending in the outbox."""
    try:
        cps = reader.query("checkpoints")
        pend = reader.query("alerts_delivery_summary")
    except Exception:  # the owner may be busy; ask again
        return False
    by_chain: dict[int, int] = {}
    for cid, blk in zip(cps["chain_id"], cps["block_number"], strict=True):
        by_chain[int(cid)] = min(by_chain.get(int(cid), 1 << 62), int(blk))
    caught = all(by_chain.get(cid, -1) >= head for cid, head in heads.items() if cid in by_chain)
    return caught and int(pend["pending"].sum() if len(pend) else 0) == 0


def live_phase(args: argparse.Namespace, sim: Any, run_proc: subprocess.Popen[bytes], sampler: Sampler,
               others: list[subprocess.Popen[bytes]]) -> None:
    """The trickle for `--minutes`, sampling; a child that dies ends the soak with an error."""
    _thread, stop = sim.start_live(args.interval)
    deadline = time.monotonic() + args.minutes * 60
    try:
        while time.monotonic() < deadline:
            for child in (run_proc, *others):
                if child.poll() is not None:
                    raise SystemExit(f"soak: child {child.args!r} exited with {child.returncode}")
            sampler.tick()
            time.sleep(1)
    finally:
        stop.set()
        _thread.join(timeout=60)


def soak(args: argparse.Namespace) -> dict[str, Any]:
    """The whole run; returns the figures."""
    from devnet import world as worldmod
    from devnet.simulator import Simulator
    from devnet.truth import Truth
    from ogwatch.demo import stop_all

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started = time.monotonic()
    truth = Truth(WORK / "truth.jsonl")
    world = worldmod.start(truth=truth)
    children: list[subprocess.Popen[bytes]] = []
    proxies: dict[str, FaultProxy] = {}
    rx = rel.Receiver(fail_rate=0.1, seed=args.seed).start()
    try:
        sim = Simulator(world, truth, seed=args.seed)
        sim.setup_and_script()
        setup_s = time.monotonic() - started
        proxies = {k: FaultProxy(c.url, profile("calm", args.seed), upstream_timeout=30).start()
                   for k, c in world.chains.items()}
        cfg_path = write_config(world, proxies)
        env = {**os.environ, "SOAK_HOOK_URL": rx.url, "SOAK_HOOK_SECRET": SECRET}
        ogw = ["-m", "ogwatch", "--config", str(cfg_path)]
        run_proc = spawn([*ogw, "run"], env, "run.log")
        others = [spawn([*ogw, "serve", "--port", str(args.port)], env, "serve.log"),
                  spawn(["-m", "bench.soak_pages", str(cfg_path), str(WORK / "pages.json")], env, "pages.log")]
        children = [run_proc, *others]
        schedule = FaultSchedule(proxies, args.seed)
        schedule.thread.start()
        sampler = Sampler(run_proc.pid, args.port)
        live_phase(args, sim, run_proc, sampler, others)
        schedule.finish("mixed")
        heads = {c.chain_id: int(c.head()["number"], 16) for c in world.chains.values()}
        t_catch = time.monotonic()
        ok = rel.wait_until(lambda: sampler.tick() or converged(Reader(WORK / "ogwatch.duckdb"), heads),
                            timeout=args.catchup_minutes * 60, every=3)
        catchup_s = time.monotonic() - t_catch
        stop_all(children, timeout=30)
        exits = {"run": run_proc.returncode}
        fig = check(cfg_path, world, rx, sampler, args)
        fig.update(setup_s=round(setup_s, 1), catchup_s=round(catchup_s, 1), converged=ok, exits=exits,
                   fault_slots=dict(sorted({s: schedule.slots.count(s) for s in schedule.slots}.items())),
                   proxy_stats=_sum_stats(proxies), simulator_errors=len(sim.errors),
                   simulator_actions=truth.count, pages=_pages())
        return fig
    finally:
        stop_all(children, timeout=30)
        for proxy in proxies.values():
            proxy.stop()
        rx.stop()
        truth.close()
        world.stop()


def check(cfg_path: Path, world: Any, rx: rel.Receiver, sampler: Sampler, args: argparse.Namespace) -> dict[str, Any]:
    """The store against truth and cryo, the alerts against the receiver, growth."""
    cfg = configmod.load(cfg_path)
    store = WORK / "ogwatch.duckdb"
    con = duckdb.connect(str(store), read_only=True)
    try:
        cps = rel.checkpoints(con)
        got, dupes = rel.stored(con)
        alerts = rel.alert_checks(con, rx)
        health = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT ok) FROM collector_health").fetchone()
    finally:
        con.close()
    want = rel.truth_keys(WORK / "truth.jsonl", cfg, cps)
    oracle = rel.cryo_keys(cfg, world.urls, cps)
    live_s = args.minutes * 60
    warm = [s for s in sampler.rss if s[0] >= live_s * WARMUP_SHARE]
    size = sum(p.stat().st_size for p in (store, Path(f"{store}.wal")) if p.exists())
    return {"minutes": args.minutes, "seed": args.seed, "events_stored": len(got), "events_truth": len(want),
            "events_cryo": len(oracle), "missing_vs_truth": len(want - got), "extra_vs_truth": len(got - want),
            "missing_vs_cryo": len(oracle - got), "extra_vs_cryo": len(got - oracle), "duplicated": dupes,
            "alerts": alerts, "collector_ticks": health[0] if health else 0,
            "collector_failed_ticks": health[1] if health else 0,
            "rss_mb_first": round(sampler.rss[0][1], 1) if sampler.rss else None,
            "rss_mb_last": round(sampler.rss[-1][1], 1) if sampler.rss else None,
            "rss_mb_max": round(max(v for _, v in sampler.rss), 1) if sampler.rss else None,
            "rss_slope_mb_per_hour_after_warmup": round(rel.slope_per_hour(warm), 2), "rss_samples": len(warm),
            "rss_series_min_mb": [(round(t / 60, 1), round(v)) for t, v in sampler.rss[:: 6]],
            **rel.rss_bound(sampler.rss, live_s), "check_memory": args.minutes >= MEMORY_CHECK_MINUTES,
            "store_bytes": size, "store_bytes_per_event": round(size / max(1, len(got)), 1),
            "store_mb_slope_per_hour_after_warmup": round(rel.slope_per_hour(
                [s for s in sampler.store_mb if s[0] >= args.minutes * 60 * WARMUP_SHARE]), 2),
            "dashboard_http_ok": sampler.http_ok, "dashboard_http_fail": sampler.http_fail,
            "load1_mean": round(sum(sampler.load) / max(1, len(sampler.load)), 2),
            "load1_max": round(max(sampler.load, default=0.0), 2), "cpus": os.cpu_count()}


def _sum_stats(proxies: dict[str, FaultProxy]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in proxies.values():
        for k, v in p.stats.items():
            out[k] = out.get(k, 0) + v
    return out


def _pages() -> Any:
    path = WORK / "pages.json"
    return json.loads(path.read_text()) if path.exists() else None


def verdict(fig: dict[str, Any]) -> list[str]:
    """The failed criteria (empty: the soak passed)."""
    a = fig["alerts"]
    bad = [k for k in ("missing_vs_truth", "extra_vs_truth", "missing_vs_cryo", "extra_vs_cryo", "duplicated")
           if fig[k]]
    bad += [f"alerts.{k}" for k in ("delivered_not_received", "received_unknown_id", "bodies_with_two_ids",
                                    "unsigned", "expired_not_heartbeat") if a[k]]
    if a["outbox_status"].get("pending") or a["outbox_status"].get("dead"):
        bad.append("alerts.undelivered")
    if not fig["converged"]:
        bad.append("not converged")
    if fig.get("check_memory") and not fig["rss_bounded"]:
        bad.append("rss not bounded")
    return bad


def main() -> int:
    """Run, print, write JSON; exit 1 when a criterion failed."""
    global WORK  # noqa: PLW0603 - one run per process; every helper writes below it
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.5, help="simulator trickle interval (s)")
    ap.add_argument("--port", type=int, default=8599)
    ap.add_argument("--catchup-minutes", type=float, default=8.0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    ap.add_argument("--work", default=str(WORK), help="working directory (emptied first)")
    args = ap.parse_args()
    WORK = Path(args.work).resolve()
    fig = soak(args)
    fig["failed"] = verdict(fig)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(fig, indent=2, default=str))
    print(json.dumps(fig, indent=2, default=str))
    print("soak:", "PASS" if not fig["failed"] else "FAIL " + ", ".join(fig["failed"]))
    return 1 if fig["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
