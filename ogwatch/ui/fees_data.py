"""Fee watch data for the page and the CLI: stored markets joined with config labels, and the worst case.

Everything here reads named queries (`fee_*`, store/queries_fees.py) through a `Runner` (name, **params)
-> DataFrame: the cached `ogwatch.ui.data.query` for the page, a store Reader for the CLI. Formatting lives in
`ogwatch.ui.fees_format`, the worst case and queued changes in `ogwatch.ui.fees_worst` (re-exported here).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ogwatch import config as configmod
from ogwatch.ui.fees_format import ONE, clean, duration, fmt_percent, fraction, percent, utc
from ogwatch.ui.fees_worst import FEES, NO_UPGRADE, REACH_100, UNBOUNDED, WITHOUT_LIMIT, queued_view, worst_case

if TYPE_CHECKING:
    from ogwatch.ui.data import Result

Runner = Callable[..., pd.DataFrame]


def market_labels(cfg: configmod.Config) -> dict[tuple[int, str], tuple[str, str]]:
    """(chain_id, lower address) -> (label, network key) of every configured market."""
    out: dict[tuple[int, str], tuple[str, str]] = {}
    for c in cfg.contracts:
        if c.kind.endswith("_market"):
            out[(cfg.networks[c.network].chain_id, c.address.lower())] = (c.label or c.address, c.network)
    return out


def with_labels(cfg: configmod.Config, df: pd.DataFrame) -> pd.DataFrame:
    """Add `label` and `network` columns (label falls back to the address, network to the chain id)."""
    out = df.copy()
    names = market_labels(cfg)
    nets = {n.chain_id: key for key, n in cfg.networks.items()}
    keys = [(int(c), str(a).lower()) for c, a in zip(out.get("chain_id", []), out.get("address", []), strict=True)]
    out.insert(0, "label", [names.get(k, (k[1], ""))[0] for k in keys])
    out.insert(1, "network", [names.get(k, ("", nets.get(k[0], str(k[0]))))[1] for k in keys])
    return out


def resolve(markets: pd.DataFrame, key: str, network: str | None = None) -> pd.DataFrame:
    """Rows of a labelled market list whose address or label equals `key` (case-insensitive)."""
    if markets.empty:
        return markets
    k = key.strip().lower()
    hit = (markets["address"].str.lower() == k) | (markets["label"].str.lower() == k)
    if network:
        hit &= markets["network"] == network
    return markets[hit]


def control_summary(m: dict[str, Any]) -> str:
    """Who can change the fees, in one sentence."""
    owner, kind = m.get("owner"), m.get("owner_kind") or "unknown"
    rule = _rule(m)
    if kind == "eoa":
        text = f"a single key (EOA) {owner}, with no delay"
    elif kind == "timelock":
        text = f"a timelock {owner}: changes wait {duration(rule.get('min_delay'))} before they can run"
    elif kind == "multisig":
        signers = rule.get("signers") or []
        text = f"a {rule.get('threshold', '?')}-of-{len(signers)} multisig {owner}"
    elif kind == "contract":
        text = f"a contract {owner} (not a known timelock or multisig)"
    elif kind == "none":
        text = "nobody: the market has no owner"
    else:
        text = f"not evaluated yet (owner {owner or 'unknown'})"
    if m.get("upgradeable"):
        text += "; the owner can also replace the contract code (upgradeable proxy)"
    return text


def _rule(m: dict[str, Any]) -> dict[str, Any]:
    try:
        rule = json.loads(m.get("rule") or "{}")
    except ValueError:
        return {}
    return rule if isinstance(rule, dict) else {}


def fee_detail(m: dict[str, Any], short: str) -> dict[str, Any]:
    """One fee's current value, percent, ceiling label and cap."""
    label = m.get(f"{short}_ceiling")
    cap = m.get(f"{short}_max") if label == "capped" or label == "capped-but-upgradeable" else None
    return {"value": m.get(f"{short}_fee"), "percent": percent(m.get(f"{short}_fee")), "ceiling": label,
            "max_accepted": cap, "max_percent": percent(cap)}


def coverage(run: Runner, chain_id: int) -> dict[str, Any] | None:
    """What the node offers and what the fee watch's last tick on the chain could check (None: no tick yet)."""
    rows = run("fee_coverage", chain_id=chain_id)
    if rows.empty:
        return None
    c = {str(k): clean(v) for k, v in rows.iloc[0].items()}
    depth = c.get("node_state_depth")
    return {"node": {"traces": c.get("node_traces"), "debug_trace": c.get("node_debug_trace"),
                     "state_depth": depth, "max_batch": c.get("node_max_batch"),
                     "summary": (f"traces: {'yes' if c.get('node_traces') else 'no'}; historical state: "
                                 + ("full" if depth is None else f"last {int(depth):,} blocks")
                                 if c.get("node_traces") is not None else "not detected yet")},
            "last_tick": {k: c.get(k) for k in ("block_from", "block_number", "traces", "events", "state_from",
                                                "note", "checked_at")}}


def describe(cfg: configmod.Config, run: Runner, market: dict[str, Any]) -> dict[str, Any]:
    """Everything a trader should know about one labelled market row, JSON-able (the CLI prints this)."""
    m = {k: clean(v) for k, v in market.items()}
    chain_id, address = int(m["chain_id"]), str(m["address"])
    queued = [{str(k): clean(v) for k, v in r.items()}
              for r in run("fee_queued", chain_id=chain_id, address=address).to_dict("records")]
    roles = run("fee_roles", chain_id=chain_id, address=address)
    last = None
    if m.get("last_change_block") is not None:
        changes = run("fee_changes", chain_id=chain_id, address=address)
        rows = changes[changes["field"].isin(list(FEES)) & (changes["block_number"] == m["last_change_block"])]
        ev = {k: clean(v) for k, v in rows.iloc[-1].items()} if len(rows) else {}
        last = {"field": m["last_change_field"], "old": m.get("last_change_old"), "new": m.get("last_change_new"),
                "old_percent": percent(m.get("last_change_old")), "new_percent": percent(m.get("last_change_new")),
                "block_number": int(m["last_change_block"]),
                "blocks_ago": int(m.get("read_block") or m["last_change_block"]) - int(m["last_change_block"]),
                "time": m.get("last_change_time"), "tx_hash": ev.get("tx_hash"),
                "detected_by": ev.get("detected_by"), "precision": ev.get("precision")}
    wc = worst_case(m, queued)
    return {
        "market": {k: m.get(k) for k in ("label", "network", "chain_id", "address", "kind")},
        "read_block": m.get("read_block"),
        "fees": {short: fee_detail(m, short) for short in FEES.values()},
        "fee_destination": m.get("fee_destination"),
        "control": {"owner": m.get("owner"), "owner_kind": m.get("owner_kind"), "rule": _rule(m),
                    "upgradeable": m.get("upgradeable"), "implementation": m.get("implementation"),
                    "summary": control_summary(m),
                    "roles": [{k: clean(r[k]) for k in ("held_on", "address", "role_name", "account", "since_block")}
                              for r in roles.to_dict("records")]},
        "worst_case": {k: wc[k] for k in ("bounded", "max_total_percent", "text", "reason")},
        "warnings": wc["warnings"],
        "queued": [queued_view(m, q) for q in queued],
        "last_change": last,
        "changes": m.get("changes"),
        "coverage": coverage(run, chain_id),
    }


def wanted(market: dict[str, Any], chain_filter: int | None) -> list[tuple[str, dict[str, Any]]]:
    """The named queries (with parameters) the fee page reads for one market row and the network filter, for one
    batched prefetch (`ogwatch.ui.data.prefetch`): what `describe`, the ceiling evidence, the trade summary and
    the change tables (this market's and the network's) ask for."""
    one: dict[str, Any] = {"chain_id": int(market["chain_id"]), "address": str(market["address"])}
    return [("fee_queued", one), ("fee_roles", one), ("fee_coverage", {"chain_id": one["chain_id"]}),
            ("fee_ceiling_evidence", one), ("fee_trades_summary", one), ("fee_changes", one),
            ("fee_changes", {"chain_id": chain_filter, "address": None})]


def changes_table(cfg: configmod.Config, df: pd.DataFrame) -> pd.DataFrame:
    """Changes with labels and percent columns (fee fields), ready for a table or CSV."""
    if df.empty:
        return df
    out = with_labels(cfg, df)
    is_fee = out["field"].isin(list(FEES))
    out["old_percent"] = [percent(v) if f else None for v, f in zip(out["old"], is_fee, strict=True)]
    out["new_percent"] = [percent(v) if f else None for v, f in zip(out["new"], is_fee, strict=True)]
    return out


def change_records(cfg: configmod.Config, df: pd.DataFrame) -> list[dict[str, Any]]:
    """Every change as JSON-able records (the CLI's `fees --changes --json`)."""
    cols = ["label", "network", "chain_id", "address", "field", "old", "new", "old_percent", "new_percent",
            "block_number", "block_from", "block_time", "tx_hash", "sender", "caller", "tx_to", "path",
            "detected_by", "precision", "note"]
    t = changes_table(cfg, df)
    return [] if t.empty else [{c: clean(r.get(c)) for c in cols} for r in t.to_dict("records")]


def step_series(changes: pd.DataFrame, m: dict[str, Any]) -> pd.DataFrame:
    """Fee percent over block per fee field, for a step chart: each change, then the current reading."""
    rows: list[dict[str, Any]] = []
    fee_rows = changes[changes["field"].isin(list(FEES))] if not changes.empty else changes
    for field_name, short in FEES.items():
        part = fee_rows[fee_rows["field"] == field_name] if not fee_rows.empty else fee_rows
        for r in part.sort_values("block_number").to_dict("records") if len(part) else []:
            if r.get("old") is not None and not pd.isna(r.get("old")) and not rows_for(rows, short):
                rows.append({"fee": short, "block": int(r["block_from"]) - 1, "percent": float(percent(r["old"]) or 0)})
            rows.append({"fee": short, "block": int(r["block_number"]), "percent": float(percent(r["new"]) or 0)})
        current = m.get(f"{short}_fee")
        if current is not None and m.get("read_block") is not None:
            rows.append({"fee": short, "block": int(m["read_block"]), "percent": float(percent(current) or 0)})
    return pd.DataFrame(rows, columns=["fee", "block", "percent"])


def rows_for(rows: list[dict[str, Any]], short: str) -> bool:
    """Whether `rows` already has a point for this fee."""
    return any(r["fee"] == short for r in rows)


# ---- the page's door: the cached named queries of ogwatch.ui.data (imported late: the CLI needs no Streamlit) ----

def page_run(name: str, **params: Any) -> pd.DataFrame:
    """Run a named query through the UI cache; store trouble reads as no rows (the page checks markets first)."""
    from ogwatch.ui import data

    return data.query(name, **params).df


def markets(chain_id: int | None) -> Result:
    """Every stored market of the network (None = all), with config labels."""
    from ogwatch.ui import data

    res = data.query("fee_markets", chain_id=chain_id)
    return res if res.empty else data.Result(with_labels(data.config(), res.df))


def market_view(market: dict[str, Any]) -> dict[str, Any]:
    """The described market (see `describe`) from cached queries."""
    from ogwatch.ui import data

    return describe(data.config(), page_run, market)


def market_changes(chain_id: int | None, address: str | None = None) -> pd.DataFrame:
    """Labelled changes with percents for one market or a whole network."""
    from ogwatch.ui import data

    return changes_table(data.config(), page_run("fee_changes", chain_id=chain_id, address=address))


__all__ = ["FEES", "NO_UPGRADE", "ONE", "REACH_100", "UNBOUNDED", "WITHOUT_LIMIT", "changes_table", "clean",
           "control_summary", "coverage", "describe", "duration", "fee_detail", "fmt_percent", "fraction",
           "market_changes", "market_labels", "market_view", "markets", "page_run", "percent", "queued_view",
           "resolve", "step_series", "utc", "wanted", "with_labels", "worst_case"]
