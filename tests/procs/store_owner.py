"""A store owner in its own process for tests: opens the file for writing, serves reads, stops on stdin EOF.

`python -m tests.procs.store_owner PATH` prints "ready" once the owner is announced. It registers the test
query `test_batch_fails` (always fails in DuckDB) before opening the store, so a test can make one query of
a batch fail in the owner.
"""

from __future__ import annotations

import sys

from store.db import Store
from store.queries import REGISTRY, Query, register

FAILING = Query("test_batch_fails", "SELECT error('boom: this query always fails') AS x",
                "Test only: fails at execution.")


def register_failing() -> None:
    """Register the always-failing test query (once per process)."""
    if FAILING.name not in REGISTRY:
        register(FAILING)


def main() -> int:
    """Own the store until stdin closes."""
    register_failing()
    with Store(sys.argv[1]):
        print("ready", flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
