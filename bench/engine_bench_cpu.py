"""CPU seconds of each contender of `bench.engine_bench` and of the anvil nodes that serve it.

The machine has 2 cores and anvil needs CPU too. For every timed run the benchmark records the CPU
seconds (user + system) the anvil processes spent and the contender's own: the benchmark process for
the in-process contenders (floor and cryo: `getrusage(RUSAGE_SELF)`, every thread, cryo's Rust threads
included), the ogwatch worker's own figure for ogwatch (its timed window, every process of the run).
Their sum over 2 cores is a lower bound of the wall time any overlap could reach on this machine.
"""

from __future__ import annotations

import os
import resource
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a running process (all its threads), in seconds; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICK  # fields 14 and 15 of proc(5)


def self_cpu_s() -> float:
    """user + system seconds of this process so far, every thread."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@dataclass
class AnvilMeter:
    """CPU seconds of the anvil processes, read before and after a run."""

    pids: list[int]

    def read(self) -> float:
        """The anvil processes' CPU seconds so far."""
        return sum(proc_cpu_s(p) for p in self.pids)


def record(row: dict[str, Any], key: str, anvil_s: float, own_s: float) -> None:
    """Append one run's CPU seconds to a result row."""
    cpu = row.setdefault("cpu", {}).setdefault(key, {"anvil": [], "own": []})
    cpu["anvil"].append(anvil_s)
    cpu["own"].append(own_s)


def budget(row: dict[str, Any], key: str, cores: int) -> float:
    """(anvil CPU + own CPU) / cores of a contender's median run: the least wall time its work takes here."""
    cpu = row["cpu"][key]
    return (statistics.median(cpu["anvil"]) + statistics.median(cpu["own"])) / cores


def medians(row: dict[str, Any], keys: Iterable[str]) -> dict[str, tuple[float, float]]:
    """(anvil CPU s, own CPU s) medians per contender key present in the row."""
    cpu = row.get("cpu", {})
    return {k: (statistics.median(cpu[k]["anvil"]), statistics.median(cpu[k]["own"])) for k in keys if k in cpu}
