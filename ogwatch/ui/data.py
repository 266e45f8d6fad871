"""The dashboard's only door to data: cached calls of the store's named queries.

Pages never run SQL or RPC; they call `query(...)` here, which goes through `store.db.Reader`
(owner process first, direct read-only file access otherwise) and caches results briefly. A page that knows
the independent queries it is about to run calls `prefetch(...)` first: the ones not cached are asked for in
one batch (`Reader.query_many`) and put into the same cache entries `query` reads, so the page's results and
errors are those of the one-by-one calls (a query whose batch answer failed is simply run again by `query`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ogwatch import config as configmod
from ogwatch.secrets import redact
from store.db import Reader
from store.errors import StoreError, StoreMissing

CACHE_TTL_S = 5  # short: collectors tick every few seconds on the devnet, and the strip shows freshness


@st.cache_resource(show_spinner=False)
def config() -> configmod.Config:
    """The config the dashboard was started with ($OGWATCH_CONFIG, else the shipped example)."""
    root = Path(__file__).resolve().parents[2]
    return configmod.load(os.environ.get("OGWATCH_CONFIG") or root / "config.example.toml")


@st.cache_resource(show_spinner=False)
def reader() -> Reader:
    """One reader per dashboard process."""
    return Reader(config().store.path)


@dataclass(frozen=True)
class Result:
    """A query's rows, or why there are none (`missing`: no store yet; `error`: one redacted line)."""

    df: pd.DataFrame
    missing: bool = False
    error: str = ""

    @property
    def empty(self) -> bool:
        """No rows, for whatever reason."""
        return self.df.empty


Key = tuple[str, tuple[tuple[str, Any], ...]]
_PEEK = object()  # supplied to `_cached` to look an entry up without computing it
_supply = threading.local()  # .frame: what `_cached` returns on a miss instead of asking the store


class _NotCached(Exception):
    """Raised by `_cached` on a peek that missed (exceptions are never cached)."""


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _cached(name: str, params: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    given = getattr(_supply, "frame", None)
    if given is _PEEK:
        raise _NotCached(name)
    if isinstance(given, pd.DataFrame):
        return given
    return reader().query(name, **dict(params))


def _with_supply(key: Key, given: object) -> bool:
    """Call `_cached(*key)` with `given` standing in for the store; True when the entry was (or now is) there."""
    _supply.frame = given
    try:
        _cached(*key)
        return True
    except _NotCached:
        return False
    finally:
        _supply.frame = None


def prefetch(wanted: list[tuple[str, dict[str, Any]]]) -> int:
    """Ask for every named query in `wanted` that is not cached in one batch and cache the answers; returns how
    many were fetched. Failures are left to `query` (it runs the query alone and reports its own error)."""
    keys = list(dict.fromkeys((name, tuple(sorted(params.items()))) for name, params in wanted))
    missing = [k for k in keys if not _with_supply(k, _PEEK)]
    if len(missing) < 2:
        return 0
    try:
        answers = reader().query_many([(name, dict(params)) for name, params in missing])
    except StoreError:
        return 0
    done = 0
    for key, ans in zip(missing, answers, strict=True):
        if ans.table is not None:
            done += _with_supply(key, ans.table.to_pandas())
    return done


def query(name: str, **params: Any) -> Result:
    """Run a named query through the cache; never raises for store trouble (pages show it instead)."""
    try:
        return Result(_cached(name, tuple(sorted(params.items()))))
    except StoreMissing:
        return Result(pd.DataFrame(), missing=True)
    except StoreError as exc:
        return Result(pd.DataFrame(), error=redact(str(exc)))
