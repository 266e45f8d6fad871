"""Decentralization watch data for the page and the CLI: weights per identifier and per entity, and metrics.

Reads named queries (store/queries_concentration.py) through a `Runner` (name, **params) -> DataFrame: the
cached `ogwatch.ui.data.query` for the page, a store Reader for the CLI. Three measures:

- `validators`: consensus power per validator operator address (staking precompile; CometBFT when the
  precompile was not read, keyed by operator address when the consensus key matches, else its address);
- `tee_active`: active TEEs (the registry's own isTEEActive) per operator (TEE owner);
- `tee_work`: settled inferences per operator, from IndividualSettlement teeIds and, when the table
  exists, verified batch leaves; with coverage (share of settled inferences that carry a TEE id).

Identifiers are grouped into entities by the config's `[[entities]]`; unmapped ones count as themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pandas as pd

from analysis import concentration as cm
from ogwatch.config import Config

Runner = Callable[..., pd.DataFrame]
MEASURES = {"validators": "Validators: consensus power", "tee_active": "TEE operators: active TEEs",
            "tee_work": "TEE operators: settled inferences"}
COMPARED = ("Nakamoto > 1/3", "Nakamoto > 1/2", "Nakamoto > 2/3", "HHI", "band", "Gini", "top-1 share",
            "top-3 share", "count (weight > 0)", "total")
TEE_OPERATOR_ROLE = "0x66271355502ff8b32eb354cacb7e900249a442e9292fd7f7f425a020bbcdd4dc"  # keccak256 of the name
BAND_SOURCE = "2023 US Merger Guidelines (U.S. DOJ and FTC), section 2.1"
THRESHOLD_TEXT = ("Nakamoto coefficient: the fewest participants whose combined share is strictly greater than "
                  "the threshold (1/3 can halt BFT consensus; 1/2 and 2/3 can control it).")


def entity_map(cfg: Config) -> cm.EntityMap:
    """The config's identifier -> entity mapping."""
    return cm.EntityMap.of((e.id, e.entity, e.source) for e in cfg.entities)


def validator_weights(run: Runner, chain_id: int | None) -> tuple[dict[str, float], str | None, int | None]:
    """(power per identifier, source used, read block): the staking precompile first, else CometBFT."""
    df = run("validators_current", chain_id=chain_id)
    for source in ("staking", "cometbft"):
        part = df[df["source"] == source] if not df.empty else df
        if not part.empty:
            ids = part["operator_address"].where(part["operator_address"].notna(), part["validator"])
            weights: dict[str, float] = {}
            for ident, power in zip(ids, part["power_f"], strict=True):
                weights[str(ident)] = weights.get(str(ident), 0.0) + float(power)
            return weights, source, int(part["read_block"].max())
    return {}, None, None


def tee_active_weights(run: Runner, chain_id: int | None) -> dict[str, float]:
    """Active TEEs per operator (operators with none active count, with zero)."""
    df = run("tee_operators", chain_id=chain_id)
    out: dict[str, float] = {}
    for owner, active in zip(df.get("owner", []), df.get("active", []), strict=True):
        out[str(owner)] = out.get(str(owner), 0.0) + float(active)
    return out


def tee_work(run: Runner, chain_id: int | None) -> tuple[dict[str, float], pd.DataFrame, dict[str, Any]]:
    """(settled inferences per operator, rows per TEE, coverage) with batch leaves when the table exists."""
    tables = run("concentration_tables")
    with_leaves = not tables.empty and "settlement_leaves" in set(tables["table_name"])
    df = run("tee_work_with_leaves" if with_leaves else "tee_work_individual", chain_id=chain_id)
    weights: dict[str, float] = {}
    for owner, tee_id, n in zip(df.get("owner", []), df.get("tee_id", []), df.get("inferences", []), strict=True):
        ident = str(owner) if owner is not None and not pd.isna(owner) else f"unregistered TEE {tee_id}"
        weights[ident] = weights.get(ident, 0.0) + float(n)
    totals = run("settled_inferences", chain_id=chain_id)
    settled = float(totals["settled"].sum()) if not totals.empty else 0.0
    attributable = float(sum(weights.values()))
    coverage = {"settled": settled, "attributable": attributable, "batch_leaves": with_leaves,
                "share": attributable / settled if settled else None}
    return weights, df, coverage


def breakdown(weights: dict[str, float], entities: cm.EntityMap, bands: tuple[float, float]) -> dict[str, Any]:
    """Rows and metrics per identifier and per entity for one measure (metrics None: no data)."""
    share = cm.shares(weights) or {}
    rows = []
    for ident, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
        entity, source, mapped = entities.resolve(ident)
        rows.append({"identifier": ident, "entity": entity, "mapped": mapped, "mapping_source": source,
                     "weight": w, "share": share.get(ident)})
    grouped = cm.group(weights, entities)
    gshare = cm.shares(grouped) or {}
    members: dict[str, list[str]] = {}
    for r in rows:
        members.setdefault(str(r["entity"]), []).append(str(r["identifier"]))
    entity_rows = [{"entity": e, "weight": w, "share": gshare.get(e), "identifiers": members.get(e, []),
                    "mapped": any(r["mapped"] for r in rows if r["entity"] == e)}
                   for e, w in sorted(grouped.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"per_identifier": {"metrics": _metrics(weights, bands), "rows": rows,
                               "lorenz": cm.lorenz(list(weights.values()))},
            "per_entity": {"metrics": _metrics(grouped, bands), "rows": entity_rows,
                           "lorenz": cm.lorenz(list(grouped.values()))}}


def _metrics(weights: dict[str, float], bands: tuple[float, float]) -> dict[str, Any] | None:
    m = cm.metrics(weights, bands)
    return None if m is None else asdict(m)


def summary(cfg: Config, run: Runner, chain_id: int | None = None) -> dict[str, Any]:
    """Everything `ogwatch concentration --json` prints (and the page shows) for the current state."""
    entities, bands = entity_map(cfg), cfg.concentration.hhi_bands
    vw, vsource, vblock = validator_weights(run, chain_id)
    work, _rows, coverage = tee_work(run, chain_id)
    registries = run("tee_registries", chain_id=chain_id)
    layers = {
        "validators": {"source": vsource, "read_block": vblock, **breakdown(vw, entities, bands)},
        "tee_active": {"read_blocks": {str(r): int(b) for r, b in zip(registries.get("registry", []),
                                                                      registries.get("block_number", []),
                                                                      strict=True)},
                       **breakdown(tee_active_weights(run, chain_id), entities, bands)},
        "tee_work": {"coverage": coverage, **breakdown(work, entities, bands)},
    }
    return {"hhi_bands": list(bands), "hhi_band_source": BAND_SOURCE, "thresholds": THRESHOLD_TEXT,
            "layers": layers}


def comparison(summary: dict[str, Any], view: str) -> pd.DataFrame:
    """Every measure's metrics side by side (rows: metrics; columns: measures) in one view."""
    cols: dict[str, dict[str, str]] = {}
    for key, layer in summary["layers"].items():
        m = layer[view]["metrics"]
        if m is None:
            cols[MEASURES[key]] = dict.fromkeys(COMPARED, "no data")
            continue
        n = m["nakamoto"]
        cols[MEASURES[key]] = {
            "Nakamoto > 1/3": str(n.get("1/3")), "Nakamoto > 1/2": str(n.get("1/2")),
            "Nakamoto > 2/3": str(n.get("2/3")), "HHI": f"{m['hhi']:,.0f}", "band": m["band"],
            "Gini": f"{m['gini']:.3f}", "top-1 share": f"{m['top1']:.1%}", "top-3 share": f"{m['top3']:.1%}",
            "count (weight > 0)": str(m["count"]), "total": f"{m['total']:,.0f}"}
    return pd.DataFrame(cols, index=list(COMPARED))


TREND_POINTS = 200  # points per trend line: enough for a chart, bounded however long the history


def validator_trend(cfg: Config, run: Runner, chain_id: int | None, source: str = "staking") -> pd.DataFrame:
    """Metrics after each validator change (per identifier and per entity), in block order."""
    df = run("validator_history", chain_id=chain_id)
    df = df[df["source"] == source] if not df.empty else df
    cols = [_column(df, c) for c in ("block_number", "validator", "operator_address", "power_f", "present")]
    changes = [(int(b), str(v), str(o) if o is not None and not pd.isna(o) else str(v),
                float(p) if present else None)
               for b, v, o, p, present in zip(*cols, strict=True)]
    return _trend(cfg, cm.replay(changes, points=TREND_POINTS))


def tee_trend(cfg: Config, run: Runner, chain_id: int | None) -> pd.DataFrame:
    """Metrics of active TEEs per operator after each TEE change, in block order."""
    df = run("tee_history", chain_id=chain_id)
    cols = [_column(df, c) for c in ("block_number", "registry", "tee_id", "owner", "active")]
    changes = [(int(b), f"{r}/{t}", str(o), 1.0 if a else 0.0) for b, r, t, o, a in zip(*cols, strict=True)]
    return _trend(cfg, cm.replay(sorted(changes, key=lambda c: c[0]), points=TREND_POINTS))


def work_trend(cfg: Config, run: Runner, chain_id: int | None) -> pd.DataFrame:
    """Metrics of settled inferences per operator, cumulative, after each block with settlements.

    The store sums the work per operator at the sampled blocks (the blocks `cm.replay` keeps for
    TREND_POINTS), so a few hundred rows cross, not one per block and TEE.
    """
    tables = run("concentration_tables")
    with_leaves = not tables.empty and "settlement_leaves" in set(tables["table_name"])
    df = run("tee_work_trend_with_leaves" if with_leaves else "tee_work_trend_individual", chain_id=chain_id,
             points=TREND_POINTS)
    points: list[tuple[int, dict[str, float]]] = []
    for b, ident, n in zip(*(_column(df, c) for c in ("block_number", "ident", "inferences")), strict=True):
        if not points or points[-1][0] != int(b):
            points.append((int(b), {}))
        points[-1][1][str(ident)] = float(n)
    return _trend(cfg, points)


def _column(df: pd.DataFrame, name: str) -> list[Any]:
    """A column as plain Python values (much faster to walk than a pandas Series); [] when absent."""
    return df[name].tolist() if name in df else []


def _trend(cfg: Config, points: list[tuple[int, dict[str, float]]]) -> pd.DataFrame:
    entities, bands = entity_map(cfg), cfg.concentration.hhi_bands
    rows = []
    for block, weights in points:
        for view, w in (("identifier", weights), ("entity", cm.group(weights, entities))):
            m = cm.metrics(w, bands)
            if m is None:
                continue
            rows.append({"block": block, "view": view, "hhi": m.hhi, "gini": m.gini, "top1": m.top1,
                         "count": m.count, **{f"nakamoto {k}": v for k, v in m.nakamoto.items()}})
    return pd.DataFrame(rows)
