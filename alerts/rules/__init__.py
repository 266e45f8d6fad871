"""The rule registry: one file per rule, one line here, one `[rules.NAME]` block in config.example.toml.

`configured(cfg)` checks the `[rules.*]` blocks (unknown rule names, unknown keys and wrong types are
errors, one line each) and gives every enabled rule with its thresholds.
"""

from __future__ import annotations

from typing import Any

from alerts.rules import (
    ceiling_changed,
    collector_failing,
    concentration,
    control_changed,
    fee_charged_mismatch,
    fee_hike,
    fee_queued,
    merkle_mismatch,
    rpc_disagreement,
    settlement_lag,
    settlement_stall,
    stale_data,
    tee_health,
    trades_after_hike,
    vanilla_production,
    vanilla_share,
)
from alerts.rules.base import Rule, RuleContext
from ogwatch.config import Config
from ogwatch.errors import ConfigError

RULES: list[Rule] = [
    fee_hike.RULE,
    fee_queued.RULE,
    ceiling_changed.RULE,
    control_changed.RULE,
    fee_charged_mismatch.RULE,
    trades_after_hike.RULE,
    vanilla_production.RULE,
    vanilla_share.RULE,
    settlement_stall.RULE,
    settlement_lag.RULE,
    merkle_mismatch.RULE,
    tee_health.RULE,
    concentration.RULE,
    collector_failing.RULE,
    stale_data.RULE,
    rpc_disagreement.RULE,
]
BY_NAME = {r.name: r for r in RULES}

__all__ = ["RULES", "BY_NAME", "Rule", "RuleContext", "configured", "params_for"]


def _check(name: str, given: dict[str, Any], rule: Rule) -> list[str]:
    problems = []
    for key, value in given.items():
        if key not in rule.defaults:
            problems.append(f"rules.{name}.{key}: unknown key (known: {', '.join(sorted(rule.defaults))})")
            continue
        want = type(rule.defaults[key])
        ok = isinstance(value, want) or (want is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok or (want is not bool and isinstance(value, bool)):
            problems.append(f"rules.{name}.{key}: must be {want.__name__} (got {value!r})")
    return problems


def params_for(rule: Rule, given: dict[str, Any]) -> dict[str, Any]:
    """A rule's thresholds: its defaults overridden by its `[rules.NAME]` block."""
    return {**rule.defaults, **given}


def configured(cfg: Config) -> list[tuple[Rule, dict[str, Any]]]:
    """Every enabled rule with its thresholds; ConfigError (one line per problem) on a bad `[rules.*]` block."""
    problems = [f"rules.{n}: unknown rule (known: {', '.join(BY_NAME)})" for n in cfg.rules if n not in BY_NAME]
    for name, given in cfg.rules.items():
        if name in BY_NAME:
            problems += _check(name, given, BY_NAME[name])
    for i, route in enumerate(cfg.alerts.routes):
        problems += [f"alerts.routes[{i}]: unknown rule {r!r}" for r in route.rules if r not in BY_NAME]
    if problems:
        raise ConfigError(problems)
    out = [(r, params_for(r, cfg.rules.get(r.name, {}))) for r in RULES]
    return [(r, p) for r, p in out if p.get("enabled", True)]
