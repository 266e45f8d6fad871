"""The scheduler's store maintenance (ogwatch/maintenance.py): reopens on schedule and on RSS growth since the
last reopen, never closer than the minimum gap, on a real store whose rows survive; wired into the scheduler."""

from __future__ import annotations

from pathlib import Path

import pytest

from ogwatch import service
from ogwatch.config import load
from ogwatch.maintenance import CHECK_SECONDS, Maintenance
from store.db import Store
from tests.conftest import ogwatch, write_config


class Fake:
    """A settable clock and resident set."""

    def __init__(self) -> None:
        self.t, self.mb = 0.0, 300.0

    def clock(self) -> float:
        return self.t

    def rss(self) -> float:
        return self.mb


def _beats(store: Store) -> int:
    return int(store.fetch("SELECT count(*) FROM service_heartbeats")[0][0])


def test_reopens_on_schedule_then_on_growth_never_closer_than_the_gap(tmp_path: Path) -> None:
    f = Fake()
    with Store(tmp_path / "m.duckdb", serve=False) as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO service_heartbeats VALUES (1, 1, now())")
        keep = Maintenance(store, every_s=300, growth_mb=48, min_gap_s=60, rss=f.rss, clock=f.clock)
        gen = store._gen
        f.t, f.mb = 100, 900  # grown, but no reopen yet: no level after a reopen to compare with
        assert keep.check() is None and store._gen == gen
        f.t = 300
        assert keep.check() == "schedule" and store._gen == gen + 1
        f.t, f.mb = 330, 960  # the reopened database reads its blocks back: not growth yet
        assert keep.check() is None
        f.t, f.mb = 360, 1000  # a minute after the reopen: the settled level growth is measured from
        assert keep.check() is None
        f.t, f.mb = 420, 1047  # +47 MB over it: under the margin
        assert keep.check() is None
        f.mb = 1048
        assert keep.check() == "growth" and store._gen == gen + 2
        f.t, f.mb = 470, 2000  # right after a reopen nothing counts as growth
        assert keep.check() is None
        f.t = 480
        assert keep.check() is None  # 2000 becomes the settled level
        f.t = 780
        assert keep.check() == "schedule"
        assert keep.reopens == {"schedule": 2, "growth": 1}
        assert _beats(store) == 1  # the rows are still there after three reopens


def test_growth_only_and_schedule_only(tmp_path: Path) -> None:
    f = Fake()
    with Store(tmp_path / "m.duckdb", serve=False) as store:
        never = Maintenance(store, every_s=0, growth_mb=0, rss=f.rss, clock=f.clock)
        f.t, f.mb = 10_000, 5_000
        assert never.check() is None
        timed = Maintenance(store, every_s=120, growth_mb=0, rss=f.rss, clock=f.clock)
        f.t += 120
        assert timed.check() == "schedule"
        f.t, f.mb = f.t + 119, f.mb * 2
        assert timed.check() is None


def test_the_scheduler_checks_every_few_seconds(tmp_path: Path) -> None:
    cfg = load(write_config(tmp_path))
    assert cfg.store.reopen_growth_mb == 48
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        sched = service.build_scheduler(cfg, store)
        job = sched.get_job("store:maintenance")
        assert job is not None and job.trigger.interval.total_seconds() == CHECK_SECONDS
        assert isinstance(job.func.__self__, Maintenance)
        assert (job.func.__self__.every_s, job.func.__self__.growth_mb) == (300, 48)


@pytest.mark.parametrize("value", ["-1", '"lots"'])
def test_a_bad_margin_is_one_line_and_exit_2(tmp_path: Path, value: str) -> None:
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("[store]\n", f"[store]\nreopen_growth_mb = {value}\n", 1))
    out = ogwatch("--config", str(cfg), "run")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "reopen_growth_mb" in out.stderr


_ARENAS = """
import ogwatch, ctypes, threading, duckdb, numpy, pandas
libc = ctypes.CDLL("libc.so.6")
libc.open_memstream.restype = ctypes.c_void_p
libc.open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
duckdb.connect().sql("SELECT sum(range) FROM range(1000000)").fetchall()
ts = [threading.Thread(target=lambda: [bytes(200) for _ in range(20000)]) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
buf, size = ctypes.c_char_p(), ctypes.c_size_t()
f = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size)); libc.malloc_info(0, f); libc.fclose(f)
print(buf.value.decode().count("<heap nr="))
"""


def test_importing_ogwatch_first_leaves_one_malloc_arena() -> None:
    """Threads of numpy, DuckDB and our own would otherwise each get a glibc arena (see ogwatch/__init__.py)."""
    import subprocess
    import sys

    one = subprocess.run([sys.executable, "-c", _ARENAS], capture_output=True, text=True, check=True)
    assert one.stdout.strip() == "1"
    many = subprocess.run([sys.executable, "-c", _ARENAS.replace("import ogwatch, ", "import ")],
                          capture_output=True, text=True, check=True)
    assert int(many.stdout.strip()) > 1  # without it (so the test can fail)
