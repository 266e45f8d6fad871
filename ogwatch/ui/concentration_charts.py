"""Charts and tables of the decentralization page: share bars, Lorenz curves, metric trends, liveness rows.

Display helpers only (no data access): they take what `ogwatch.ui.concentration_data` returns. Charts tell
series apart by line style, marker and labels, never by colour alone.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

LAYOUT = {"height": 360, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
          "legend": {"orientation": "h", "y": -0.3, "yanchor": "top"}}


def short(identifier: str, keep: int = 10) -> str:
    """A long hex id or address shortened for a chart label."""
    s = str(identifier)
    return s if len(s) <= 2 * keep + 1 else f"{s[:keep]}…{s[-6:]}"


def share_bars(rows: list[dict[str, Any]], label_key: str, title: str) -> go.Figure:
    """Horizontal bars of each participant's share, largest on top, the percent written on each bar."""
    names = [short(str(r[label_key])) for r in rows][::-1]
    shares = [100 * (r["share"] or 0.0) for r in rows][::-1]
    fig = go.Figure(go.Bar(x=shares, y=names, orientation="h", text=[f"{s:.1f} %" for s in shares],
                           textposition="outside", cliponaxis=False, marker={"pattern": {"shape": "/"}}))
    fig.update_layout(title=title, xaxis_title="share (%)", xaxis={"range": [0, 110]},
                      **{**LAYOUT, "height": max(220, 90 + 28 * len(rows))})
    return fig


def lorenz(points: list[tuple[float, float]] | list[list[float]], title: str) -> go.Figure:
    """The Lorenz curve against the line of equality (dashed)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="equal shares", mode="lines", line={"dash": "dash"}))
    fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], name="observed",
                             mode="lines+markers", marker={"symbol": "circle", "size": 7}))
    fig.update_layout(title=title, xaxis_title="share of participants (smallest first)",
                      yaxis_title="share of weight", **LAYOUT)
    return fig


def trend(df: pd.DataFrame, title: str) -> go.Figure:
    """Nakamoto coefficients (left axis) and HHI (right axis) after each change, as steps over block."""
    fig = go.Figure()
    dashes = {"nakamoto 1/3": "solid", "nakamoto 1/2": "dash", "nakamoto 2/3": "dot"}
    for col, dash in dashes.items():
        if col in df:
            fig.add_trace(go.Scatter(x=df["block"], y=df[col], name=col, mode="lines+markers",
                                     line={"shape": "hv", "dash": dash}))
    fig.add_trace(go.Scatter(x=df["block"], y=df["hhi"], name="HHI (right axis)", mode="lines+markers", yaxis="y2",
                             line={"shape": "hv", "dash": "longdashdot"}, marker={"symbol": "diamond"}))
    fig.update_layout(title=title, xaxis_title="block", yaxis_title="Nakamoto coefficient",
                      yaxis2={"title": "HHI", "overlaying": "y", "side": "right", "range": [0, 10_000]}, **LAYOUT)
    return fig


def duration(seconds: Any) -> str:
    """Seconds as '32 min', '1 h 5 min', '12 s'."""
    rest = int(seconds or 0)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if rest >= size:
            parts.append(f"{rest // size} {unit}")
            rest %= size
    return " ".join(parts[:2]) or f"{rest} s"


def liveness_rows(tees: pd.DataFrame, entity_of: Any) -> pd.DataFrame:
    """One row per TEE for the liveness table; `status` says in words (and a sign) what is wrong."""
    rows = []
    for t in tees.to_dict("records"):
        problems = []
        if t["heartbeat_stale"]:
            problems.append(f"⚠ MISSED HEARTBEATS: last {duration(t['heartbeat_age_s'])} ago "
                            f"(> {int(t['max_age_used'])} s)")
        if not t["enabled"]:
            problems.append("✖ disabled")
        if t["pcr_approved"] is False:
            problems.append("✖ PCR not approved (revoked build)")
        rows.append({"status": "; ".join(problems) or "✔ ok", "TEE": short(t["tee_id"]),
                     "operator": entity_of(t["owner"]), "type": t["type_name"],
                     "active (isTEEActive)": {True: "yes", False: "NO"}.get(t["active"], "unknown"),
                     "last heartbeat": t["last_heartbeat_time"], "age": duration(t["heartbeat_age_s"]),
                     "PCR version": t["pcr_version"], "endpoint": t["endpoint"], "registry": short(t["registry"]),
                     "tee_id": t["tee_id"]})
    return pd.DataFrame(rows)
