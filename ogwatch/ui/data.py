"""The dashboard's only door to data: cached calls of the store's named queries.

Pages never run SQL or RPC; they call `query(...)` here, which goes through `store.db.Reader`
(owner process first, direct read-only file access otherwise) and caches results briefly.
"""

from __future__ import annotations

import os
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


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _cached(name: str, params: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    return reader().query(name, **dict(params))


def query(name: str, **params: Any) -> Result:
    """Run a named query through the cache; never raises for store trouble (pages show it instead)."""
    try:
        return Result(_cached(name, tuple(sorted(params.items()))))
    except StoreMissing:
        return Result(pd.DataFrame(), missing=True)
    except StoreError as exc:
        return Result(pd.DataFrame(), error=redact(str(exc)))
