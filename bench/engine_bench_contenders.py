"""The three contenders of `bench.engine_bench` over the same jobs: raw eth_getLogs, cryo, ogwatch.

A `Job` is what one ogwatch engine does: one address set and topic0 set over one block range on one
node. Every contender gets the same jobs, so the same filters, ranges and (for the floor) block spans.

- `floor`: plain `requests` + `json`, one request at a time, ogwatch's configured span size (`spans`), no
  decoding: the least any sequential indexer on this node has to spend.
- `cryo_collect`: `cryo.collect("logs", ...)` per job with the given settings (see `CryoVariant`).
- `ogwatch`: `bench.engine_bench_worker` in a child process; its peak RSS comes from `os.wait4`.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cryo  # type: ignore[import-untyped]
import requests

ROOT = Path(__file__).resolve().parent.parent
#: cryo 0.3.2 defaults (crates/cli/src/parse/source.rs, args.rs); the Python binding forces one chunk.
CRYO_DEFAULT_REQUESTS, CRYO_DEFAULT_CHUNKS, CRYO_DEFAULT_INNER = 100, 4, 1


@dataclass(frozen=True)
class Job:
    """One filter over one range on one node: what one ogwatch engine indexes."""

    network: str
    url: str
    addresses: tuple[str, ...]
    topics: tuple[str, ...]
    lo: int
    hi: int

    @property
    def blocks(self) -> int:
        """Blocks in the range, both ends included."""
        return self.hi - self.lo + 1


def spans(lo: int, hi: int, span: int) -> Iterator[tuple[int, int]]:
    """The floor's spans: the configured span size, +25 % after each, capped at 8x (ogwatch's own are smaller)."""
    size, cap = span, span * 8
    while lo <= hi:
        end = min(hi, lo + size - 1)
        yield lo, end
        lo, size = end + 1, min(cap, size + max(1, size // 4))


def _get_logs(session: requests.Session, job: Job, a: int, b: int) -> list[dict[str, Any]]:
    flt = {"address": list(job.addresses), "topics": [list(job.topics)], "fromBlock": hex(a), "toBlock": hex(b)}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [flt]})
    resp = session.post(job.url, data=body, headers={"Content-Type": "application/json"}, timeout=600)
    resp.raise_for_status()
    reply = json.loads(resp.content)
    if "error" in reply:
        raise RuntimeError(f"{job.network}: eth_getLogs {a}..{b}: {reply['error']}")
    result: list[dict[str, Any]] = reply["result"]
    return result


def floor(jobs: list[Job], span: int) -> tuple[float, int]:
    """Seconds and logs for raw eth_getLogs over every job, sequentially, in the floor's spans."""
    session, n = requests.Session(), 0
    start = time.perf_counter()
    for job in jobs:
        for a, b in spans(job.lo, job.hi, span):
            n += len(_get_logs(session, job, a, b))
    return time.perf_counter() - start, n


def census(jobs: list[Job], span: int) -> dict[str, list[tuple[str, int]]]:
    """(topic0, block number) of every log per network (untimed; for the event mix and density)."""
    session = requests.Session()
    out: dict[str, list[tuple[str, int]]] = {}
    for job in jobs:
        rows = out.setdefault(job.network, [])
        for a, b in spans(job.lo, job.hi, span):
            rows += [(lg["topics"][0], int(lg["blockNumber"], 16)) for lg in _get_logs(session, job, a, b)]
    return out


@dataclass(frozen=True)
class CryoVariant:
    """One way to run cryo: its settings and how to describe them."""

    key: str
    label: str
    inner_request_size: int | None = None  # None: cryo's default (1 block per request)
    max_concurrent_requests: int | None = None  # None: cryo's default (100)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for cryo.collect beyond the filter."""
        out: dict[str, Any] = {}
        if self.inner_request_size is not None:
            out["inner_request_size"] = self.inner_request_size
        if self.max_concurrent_requests is not None:
            out["max_concurrent_requests"] = self.max_concurrent_requests
        return out

    def requests(self, jobs: list[Job]) -> int:
        """eth_getLogs calls cryo makes: one per (address, topic0, inner range); it does not combine filters."""
        inner = self.inner_request_size or CRYO_DEFAULT_INNER
        return sum(len(j.addresses) * len(j.topics) * math.ceil(j.blocks / inner) for j in jobs)

    @property
    def concurrency(self) -> int:
        """Requests cryo keeps in flight at most."""
        return self.max_concurrent_requests or CRYO_DEFAULT_REQUESTS


def cryo_variants(span: int) -> list[CryoVariant]:
    """cryo with ogwatch's span and its own concurrency, the same at one request at a time, and all defaults."""
    return [CryoVariant("cryo", f"cryo, {span}-block requests, own concurrency ({CRYO_DEFAULT_REQUESTS})", span),
            CryoVariant("cryo_seq", f"cryo, {span}-block requests, 1 at a time", span, 1),
            CryoVariant("cryo_default", f"cryo defaults ({CRYO_DEFAULT_INNER}-block requests, "
                                        f"{CRYO_DEFAULT_REQUESTS} in flight)")]


def cryo_collect(jobs: list[Job], variant: CryoVariant) -> tuple[float, int]:
    """Seconds and rows for cryo over every job (blocks end-exclusive, as cryo takes them)."""
    n = 0
    start = time.perf_counter()
    for job in jobs:
        df = cryo.collect("logs", blocks=[f"{job.lo}:{job.hi + 1}"], rpc=job.url, contract=list(job.addresses),
                          topic0=list(job.topics), output_format="pandas", verbose=False, **variant.kwargs())
        n += len(df)
    return time.perf_counter() - start, n


@dataclass
class WorkerRun:
    """One finished ogwatch child process.

    `peak_rss_mb` is the child's own VmHWM (read by the child as it finishes: the peak of its own address
    space since exec). `ru_maxrss_mb` (wait4) is kept for reference only: Linux folds the parent's RSS at
    fork time into the child's ru_maxrss, so with a parent holding cryo's frames it says the parent's size.
    `process_cpu_s` is the child's whole life (wait4: user + system, imports and its own children included).
    """

    result: dict[str, Any]
    process_wall_s: float
    peak_rss_mb: float
    ru_maxrss_mb: float
    process_cpu_s: float


def run_worker(job: dict[str, Any], workdir: Path, name: str) -> WorkerRun:
    """Run `bench.engine_bench_worker` on a job in a child process and wait for it."""
    job_path, out_path = workdir / f"{name}.job.json", workdir / f"{name}.out.json"
    out_path.unlink(missing_ok=True)
    job_path.write_text(json.dumps(job | {"out": str(out_path)}))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.engine_bench_worker", str(job_path)], cwd=ROOT)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"ogwatch worker {name} exited with {proc.returncode}")
    result = json.loads(out_path.read_text())
    return WorkerRun(result, wall, result["vm_hwm_kb"] / 1024, usage.ru_maxrss / 1024,  # both in kB on Linux
                     usage.ru_utime + usage.ru_stime)
