"""The decentralization page's computed frames, cached under the store's data version.

The summary (metrics per layer and view) and the three trend frames are computed from several named queries
(`ogwatch.ui.concentration_data`). They are cached with `st.cache_data` on the computed result, keyed by the
chain filter, the config's entity grouping and HHI bands, and `concentration_version` (row counts and latest
blocks of the tables they read, and the reorg count): a warm render reuses them until a new reading, settlement
or rollback changes the version. A store error is raised, never cached, and the page shows it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ogwatch.ui import concentration_data as cd
from ogwatch.ui import data
from store.errors import StoreError

TRENDS = ("tee", "work", "validators")
CACHE_TTL_S = 3600  # the version, not the clock, decides freshness; the TTL only bounds memory of old keys


def _strict(name: str, **params: Any) -> pd.DataFrame:
    """A cached named query that raises on store errors (so no partial result is ever cached)."""
    res = data.query(name, **params)
    if res.error:
        raise StoreError(res.error)
    return res.df


def version(chain_id: int | None) -> tuple[Any, ...] | None:
    """The data version of the tables behind the page (None when it cannot be read)."""
    res = data.query("concentration_version", chain_id=chain_id)
    if res.error or res.missing or res.df.empty:
        return None
    return tuple(None if pd.isna(v) else int(v) for v in res.df.iloc[0].tolist())


def _config_key() -> str:
    """What of the config the computed frames depend on: the entity grouping and the HHI bands."""
    return data.config().model_dump_json(include={"entities", "concentration"})


def _compute(chain_id: int | None) -> dict[str, Any]:
    """Summary and trends for one chain filter, from the (briefly cached) named queries."""
    cfg = data.config()
    return {"summary": cd.summary(cfg, _strict, chain_id),
            "tee": cd.tee_trend(cfg, _strict, chain_id),
            "work": cd.work_trend(cfg, _strict, chain_id),
            "validators": cd.validator_trend(cfg, _strict, chain_id)}


@st.cache_data(ttl=CACHE_TTL_S, max_entries=32, show_spinner=False)
def _computed(chain_id: int | None, data_version: tuple[Any, ...], config_key: str) -> dict[str, Any]:
    """`_compute` cached per chain filter, data version and config grouping (the last two: key only)."""
    del data_version, config_key
    return _compute(chain_id)


def computed(chain_id: int | None) -> dict[str, Any]:
    """{"summary": ..., "tee" | "work" | "validators": trend frame}; cached while the data version holds."""
    ver = version(chain_id)
    if ver is None:  # no version readable: compute without caching the result
        return _compute(chain_id)
    return _computed(chain_id, ver, _config_key())


__all__ = ["TRENDS", "computed", "version"]
