"""Shared pieces of the soak and crash runs: a webhook receiver, RSS sampling, and store checks.

The checks hold a DuckDB store against the simulator's ground truth (truth.jsonl receipts) and against
cryo reading the nodes directly; nothing here trusts ogwatch's own decoding.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cryo  # type: ignore[import-untyped]
import duckdb

from collectors import decode, runner
from devnet import truth as truthmod
from ogwatch.config import Config

Key = tuple[int, int, str, int]  # chain_id, block, tx hash, log index
# Bounded memory of `ogwatch run`. The scheduler reopens its store every 300 s (ogwatch/service.py), so its RSS
# is a sawtooth: a slope over a stretch of it depends on where the stretch starts and ends (a stationary 30 MB
# sawtooth "rises" at 40 MB/hour over 15 minutes). So: per full 5-minute window of the live phase after warm-up
# (the first quarter), the lowest and highest RSS; the slope of the lows and the slope of the highs must both be
# at most RSS_SLOPE_MAX_MB_H, over at least 3 windows. The soak before the fix rose at ~100 MB/hour.
RSS_SLOPE_MAX_MB_H, RSS_WINDOW_S, MIN_WINDOWS = 20.0, 300.0, 3


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that refuses a seeded share of POSTs with HTTP 500.

    A notification is refused at most once: its retry 5 s later is accepted, so the catch-up never waits on
    the schedule's 5-minute step (the full schedule is tested on fake time in tests/test_alerts_delivery.py).
    """

    fail_rate: float = 0.0
    seed: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    refused_ids: set[str] = field(default_factory=set)

    def start(self) -> Receiver:
        """Bind a free port and serve on a daemon thread."""
        rng, lock, outer = random.Random(self.seed), threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the base class's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                wid = self.headers.get("webhook-id", "")
                with lock:
                    refuse = rng.random() < outer.fail_rate and wid not in outer.refused_ids
                    if refuse:
                        outer.refused += 1
                        outer.refused_ids.add(wid)
                    else:
                        outer.posts.append({"id": wid,
                                            "signed": bool(self.headers.get("webhook-signature")),
                                            "body": json.loads(body or b"{}")})
                self.send_response(500 if refuse else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True, name="soak-receiver").start()
        return self

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def rss_mb(pid: int) -> float | None:
    """A process's resident set (VmRSS) in MB, None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per hour (0 with fewer than two)."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mx, my = sum(t for t, _ in samples) / n, sum(v for _, v in samples) / n
    den = sum((t - mx) ** 2 for t, _ in samples)
    return 0.0 if den == 0 else sum((t - mx) * (v - my) for t, v in samples) / den * 3600


def rss_bound(rss: list[tuple[float, float]], live_s: float) -> dict[str, Any]:
    """The bounded-memory figures of the live phase (see RSS_SLOPE_MAX_MB_H) and the verdict."""
    windows: dict[int, tuple[float, float]] = {}
    for t, v in rss:
        if t < live_s:
            lo, hi = windows.get(int(t // RSS_WINDOW_S), (v, v))
            windows[int(t // RSS_WINDOW_S)] = (min(lo, v), max(hi, v))
    full = [(w * RSS_WINDOW_S, lo, hi) for w, (lo, hi) in sorted(windows.items())
            if w * RSS_WINDOW_S >= live_s / 4 and (w + 1) * RSS_WINDOW_S <= live_s]
    lows = slope_per_hour([(t, lo) for t, lo, _ in full])
    highs = slope_per_hour([(t, hi) for t, _, hi in full])
    bounded = len(full) >= MIN_WINDOWS and max(lows, highs) <= RSS_SLOPE_MAX_MB_H
    return {"rss_mb_min_max_per_5_min": [(round(t / 60), round(lo), round(hi)) for t, lo, hi in full],
            "rss_slope_mb_per_hour_of_lows": round(lows, 1), "rss_slope_mb_per_hour_of_highs": round(highs, 1),
            "rss_slope_mb_per_hour_last_half": round(slope_per_hour([s for s in rss if live_s / 2 <= s[0] <= live_s]),
                                                     1),
            "rss_bounded": bounded,
            "rss_criterion": f"per full 5-minute window after warm-up (>= {MIN_WINDOWS}): slope of the lowest and of "
                             f"the highest RSS <= {RSS_SLOPE_MAX_MB_H} MB/h"}


def stored(con: duckdb.DuckDBPyConnection) -> tuple[set[Key], int]:
    """Every event row's key across all event tables, and how many rows repeat a key."""
    keys: set[Key] = set()
    dupes = 0
    for table in decode.COLUMNS:
        rows = con.execute(f'SELECT chain_id, block_number, tx_hash, log_index FROM "{table}"').fetchall()  # noqa: S608
        got = {(int(a), int(b), str(c), int(d)) for a, b, c, d in rows}
        dupes += len(rows) - len(got)
        keys |= got
    return keys, dupes


def checkpoints(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], int]:
    """(collector, chain id) -> indexed block."""
    return {(str(c), int(i)): int(b) for c, i, b in
            con.execute("SELECT collector, chain_id, block_number FROM checkpoints").fetchall()}


def _covered(cps: dict[tuple[str, int], int], t: runner.Target) -> int:
    """The block a target's collector reached (-1 when it has no checkpoint)."""
    return max((b for (c, i), b in cps.items() if i == t.chain_id and c == t.source), default=-1)


def truth_keys(truth_path: Path, cfg: Config, cps: dict[tuple[str, int], int]) -> set[Key]:
    """From the ground truth: every log of a watched (address, topic0), up to its collector's checkpoint."""
    watched: dict[tuple[int, str, str], int] = {}
    for t in runner.targets(cfg):
        upto = _covered(cps, t)
        for a in t.addresses:
            for topic in t.topics:
                watched[(t.chain_id, a.lower(), topic)] = max(upto, watched.get((t.chain_id, a.lower(), topic), -1))
    out: set[Key] = set()
    for r in truthmod.read(truth_path):
        if not r.get("status"):
            continue
        for lg in r["logs"]:
            upto = watched.get((r["chain_id"], lg["address"].lower(), lg["topic0"]), -1)
            if r["block"] <= upto:
                out.add((r["chain_id"], r["block"], r["tx"], lg["log_index"]))
    return out


def cryo_keys(cfg: Config, urls: dict[str, str], cps: dict[tuple[str, int], int]) -> set[Key]:
    """cryo's logs for every target straight from the nodes, up to each collector's checkpoint."""
    out: set[Key] = set()
    for t in runner.targets(cfg):
        upto = _covered(cps, t)
        if upto < t.start_block:
            continue
        df = cryo.collect("logs", blocks=[f"{t.start_block}:{upto + 1}"], rpc=urls[t.network],
                          contract=list(t.addresses), topic0=list(t.topics), output_format="pandas",
                          inner_request_size=1000, verbose=False)
        out |= {(t.chain_id, int(b), "0x" + bytes(h).hex(), int(i))
                for b, h, i in zip(df["block_number"], df["transaction_hash"], df["log_index"], strict=True)}
    return out


def alert_checks(con: duckdb.DuckDBPyConnection, rx: Receiver) -> dict[str, Any]:
    """Outbox against what the receiver got: delivered, never lost, one webhook id per notification."""
    rows = con.execute("SELECT id, channel, seq, kind, group_key, fingerprints, status FROM outbox").fetchall()
    status = Counter(str(r[6]) for r in rows)
    ids = {str(r[0]) for r in rows}
    got = Counter(p["id"] for p in rx.posts)
    delivered = {str(r[0]) for r in rows if r[6] == "delivered"}
    # One notification = one outbox row; the same (kind, group, fingerprints, body) under two ids is a double.
    bodies: dict[str, set[str]] = {}
    for p in rx.posts:
        if p["body"].get("kind") == "heartbeat":
            continue
        body = {k: v for k, v in p["body"].items() if k not in ("id", "seq", "created_at")}
        bodies.setdefault(json.dumps(body, sort_keys=True), set()).add(p["id"])
    return {"outbox": len(rows), "outbox_status": dict(status), "received_posts": len(rx.posts),
            "received_ids": len(got), "refused_posts": rx.refused,
            "redelivered_same_id": sum(n - 1 for n in got.values()),
            "delivered_not_received": len(delivered - set(got)), "received_unknown_id": len(set(got) - ids),
            "unsigned": sum(1 for p in rx.posts if not p["signed"]),
            "expired_not_heartbeat": sum(1 for r in rows if r[6] == "expired" and r[3] != "heartbeat"),
            "bodies_with_two_ids": sum(1 for v in bodies.values() if len(v) > 1)}


def wait_until(pred: Any, timeout: float, every: float = 2.0) -> bool:
    """Poll `pred()` until true or the timeout; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return bool(pred())
