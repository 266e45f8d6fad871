"""Evidence on every page: block-explorer links, CSV export of tables, JSON export of one finding, clear units.

Links come from each network's URL templates in the config (`explorer_tx_url` with `{tx}`,
`explorer_address_url` with `{address}`, `explorer_block_url` with `{block}`); a network without a template
gets no link (never a guessed one). The pure helpers take a config and plain values; the `*_button` and
`table` helpers draw with Streamlit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from ogwatch import config as configmod

KINDS = {"tx": ("explorer_tx_url", "tx"), "address": ("explorer_address_url", "address"),
         "block": ("explorer_block_url", "block")}


def network_of(cfg: configmod.Config, chain_id: Any) -> configmod.Network | None:
    """The configured network with this chain id (None when unknown)."""
    if chain_id is None or pd.isna(chain_id):
        return None
    return next((n for n in cfg.networks.values() if n.chain_id == int(chain_id)), None)


def link(cfg: configmod.Config, chain_id: Any, kind: str, value: Any) -> str | None:
    """Explorer URL of a tx, address or block on a chain, from its template (None without one)."""
    net = network_of(cfg, chain_id)
    if net is None or value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    attr, slot = KINDS[kind]
    template = str(getattr(net, attr, "") or "")
    if "{" + slot + "}" not in template:
        return None
    return template.replace("{" + slot + "}", str(int(value)) if kind == "block" else str(value))


def symbol(cfg: configmod.Config, chain_id: Any) -> str:
    """The chain's native token symbol ('' when the chain is not configured)."""
    net = network_of(cfg, chain_id)
    return net.native_symbol if net else ""


def amount(value: Any, sym: str, digits: int = 6) -> str:
    """'1.25 BNB' (exact value kept for the hover by the caller); 'n/a' when unknown."""
    if value is None or pd.isna(value):
        return "n/a"
    return f"{float(value):,.{digits}g} {sym}".strip()


def utc_relative(ts: Any, now: datetime | None = None) -> str:
    """'2026-11-25 21:03:07 UTC (12 min ago)'; 'n/a' when unknown."""
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return "n/a"
    t = pd.Timestamp(ts)
    t = t.tz_localize(UTC) if t.tzinfo is None else t.tz_convert(UTC)
    secs = int(((now or datetime.now(UTC)) - t.to_pydatetime()).total_seconds())
    ago = "in the future" if secs < 0 else "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if secs >= size:
            ago = f"{secs // size} {unit} ago"
            break
    return f"{t.strftime('%Y-%m-%d %H:%M:%S')} UTC ({ago})"


def with_links(cfg: configmod.Config, df: pd.DataFrame, chain: int | str | None = "chain_id",
               **columns: str) -> pd.DataFrame:
    """Add `<column>_url` explorer links for columns given as name=kind (tx | address | block).

    `chain` is the chain-id column, or one chain id for the whole table.
    """
    if df.empty:
        return df
    out = df.copy()
    ids = out[chain] if isinstance(chain, str) and chain in out else [chain] * len(out)
    for col, kind in columns.items():
        if col in out:
            urls = [link(cfg, c, kind, v) for c, v in zip(ids, out[col], strict=True)]
            out[f"{col}_url"] = pd.Series(urls, index=out.index, dtype=object)
    return out


def link_config(df: pd.DataFrame) -> dict[str, Any]:
    """Streamlit column config turning every `*_url` column into a clickable link."""
    return {c: st.column_config.LinkColumn(c.removesuffix("_url") + " (explorer)", display_text="open")
            for c in df.columns if c.endswith("_url")}


def jsonable(value: Any) -> Any:
    """A value as plain JSON (NaN -> None, numpy -> Python, times -> ISO UTC), recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        t = pd.Timestamp(value)
        return (t.tz_convert(UTC) if t.tzinfo else t).isoformat()
    return value.item() if hasattr(value, "item") else value


def finding_json(kind: str, finding: dict[str, Any], evidence: dict[str, Any] | list[Any]) -> str:
    """One finding with its evidence as indented JSON text."""
    return json.dumps({"kind": kind, "finding": jsonable(finding), "evidence": jsonable(evidence)}, indent=2,
                      sort_keys=True, default=str)


def csv_button(df: pd.DataFrame, name: str, key: str, label: str = "Download table (CSV)") -> None:
    """A CSV download of a table (nothing when it is empty)."""
    if df.empty:
        return
    st.download_button(label, df.to_csv(index=False), file_name=f"{name}.csv", mime="text/csv", key=key)


def json_button(kind: str, finding: dict[str, Any], evidence: dict[str, Any] | list[Any], name: str,
                key: str) -> None:
    """A JSON download of one finding with its evidence."""
    st.download_button("Download finding (JSON)", finding_json(kind, finding, evidence), file_name=f"{name}.json",
                       mime="application/json", key=key)


def table(cfg: configmod.Config, df: pd.DataFrame, name: str, key: str, chain: int | str | None = "chain_id",
          **columns: str) -> None:
    """A table with explorer links on the named columns and its CSV export."""
    shown = with_links(cfg, df, chain, **columns)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=link_config(shown), key=key)
    csv_button(shown, name, f"{key}_csv")
