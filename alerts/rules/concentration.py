"""Rule concentration: operators are too concentrated, per layer (validators, active TEEs, TEE work), counted per
entity exactly as the decentralization page counts them: the Nakamoto coefficient above 1/3 below `min_nakamoto`,
or HHI above `max_hhi` (0: the config's upper band, "highly concentrated"). Warning; critical at Nakamoto 1.
"""

from __future__ import annotations

from typing import Any

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext

NAME = "concentration"
LAYERS = {"validators": "validators", "tee_active": "active TEEs", "tee_work": "TEE settlement work"}


def _problems(m: dict[str, Any], min_nakamoto: int, max_hhi: float) -> list[str]:
    out = []
    naka = m.get("nakamoto", {}).get("1/3")
    if naka is not None and naka < min_nakamoto:
        out.append(f"Nakamoto coefficient (1/3) is {naka}")
    if m["hhi"] > max_hhi:
        out.append(f"HHI is {m['hhi']:,.0f} ({m['band']})")
    return out


def evaluate(ctx: RuleContext) -> list[Finding]:
    """One finding per layer that crosses a threshold."""
    if ctx.cfg is None:
        return []
    from ogwatch.ui.concentration_data import summary

    view = summary(ctx.cfg, ctx.query)
    max_hhi = float(ctx.params["max_hhi"]) or float(ctx.cfg.concentration.hhi_bands[1])
    out = []
    for layer, name in LAYERS.items():
        m = view["layers"].get(layer, {}).get("per_entity", {}).get("metrics")
        if not m:
            continue
        problems = _problems(m, int(ctx.params["min_nakamoto"]), max_hhi)
        if not problems:
            continue
        one = m.get("nakamoto", {}).get("1/3") == 1
        out.append(Finding(
            NAME, (layer,), "critical" if one else "warning",
            f"{name}: {' and '.join(problems)} over {m['count']} entities",
            {"layer": layer}, {"metrics": m}))
    return out


RULE = Rule(NAME, "Operators or validators too concentrated (Nakamoto, HHI).",
            {"enabled": True, "min_nakamoto": 3, "max_hhi": 0.0}, evaluate)
