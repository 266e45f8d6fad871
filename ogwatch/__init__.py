"""ogwatch package.

Importing it first asks glibc for a single malloc arena (what MALLOC_ARENA_MAX=1 does), before numpy's
OpenBLAS threads, DuckDB's workers or the scheduler's threads allocate: each thread that allocates
otherwise gets an arena of its own (12 in a process that imports numpy, pandas and DuckDB and runs a few
threads), and memory freed into a secondary arena is rarely given back. Measured on the soak: with the
arena limit set only when the engine was imported (after numpy), a secondary arena of `ogwatch run` grew
from 5 to 25 MB over 20 minutes and kept it across store reopens. Python's own small objects do not go
through malloc, so one arena costs no measurable speed.
"""

import ctypes as _ctypes


def _one_malloc_arena() -> None:
    try:
        _ctypes.CDLL("libc.so.6").mallopt(-8, 1)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc
        pass


_one_malloc_arena()
