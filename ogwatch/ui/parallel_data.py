"""Independent data reads of one page, gathered concurrently.

A page's named queries mostly wait on the store's owner process (a request, DuckDB, an Arrow reply); when a
page needs several that do not depend on each other, `gather` runs them on worker threads so the waits
overlap. Each worker carries the page's Streamlit script context, so `st.cache_data` serves and fills the same
cache as the page itself; without Streamlit loaded (the CLI) the workers just call. Results and errors are
those of the same calls made one after another (an error is raised from the first part that failed, in order).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MAX_THREADS = 5  # 1 = one after another


def gather(parts: dict[str, Callable[[], Any]], threads: int | None = None) -> dict[str, Any]:
    """{name: part()} for every part, computed on up to MAX_THREADS threads."""
    n = min(MAX_THREADS if threads is None else threads, len(parts))
    if n <= 1:
        return {k: fn() for k, fn in parts.items()}
    attach = _script_context()
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="page-data") as pool:
        futures = {k: pool.submit(attach, fn) for k, fn in parts.items()}
        return {k: fut.result() for k, fut in futures.items()}


def _script_context() -> Callable[[Callable[[], Any]], Any]:
    """A runner for worker threads that carries the calling page's Streamlit script context."""
    if "streamlit" not in sys.modules:
        return lambda fn: fn()
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)

    def call(fn: Callable[[], Any]) -> Any:
        if ctx is not None:
            add_script_run_ctx(threading.current_thread(), ctx)
        return fn()

    return call


__all__ = ["MAX_THREADS", "gather"]
