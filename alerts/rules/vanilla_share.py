"""Rule vanilla_share: the Vanilla share of production inference over the last `window_seconds` of chain time is
above `max_share` (0..1), with at least `min_n` production inferences. One alert; critical above `critical_share`.
"""

from __future__ import annotations

from alerts.model import Finding
from alerts.rules.base import Rule, RuleContext, window_start

NAME = "vanilla_share"


def evaluate(ctx: RuleContext) -> list[Finding]:
    """One finding when the production Vanilla share is too high."""
    since = window_start(ctx, float(ctx.params["window_seconds"]))
    df = ctx.query("verification_modes", since=since, **ctx.production)
    rows = [r for r in df.to_dict("records") if r["scope"] == "production" and r["mode"] == "VANILLA"]
    if not rows:
        return []
    r = rows[0]
    share, n = float(r["share"]), int(r["n"])
    if n < int(ctx.params["min_n"]) or share <= float(ctx.params["max_share"]):
        return []
    return [Finding(
        NAME, ("production",), "critical" if share > float(ctx.params["critical_share"]) else "warning",
        f"Vanilla is {share:.1%} of production inference (n = {n}) over the window",
        {"scope": "production"}, {"modes": r, "since": since})]


RULE = Rule(NAME, "Vanilla share of production inference above a threshold.",
            {"enabled": True, "window_seconds": 86400.0, "max_share": 0.05, "critical_share": 0.25, "min_n": 20},
            evaluate, {"verification_modes": ("scope", "mode", "share", "n")})
