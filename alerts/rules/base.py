"""What a rule is: a name, its default thresholds (`[rules.NAME]` overrides them) and a pure evaluation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from alerts.model import Finding
from ogwatch.config import Config

Runner = Callable[..., pd.DataFrame]  # (query name, **params) -> rows: a Store's or a Reader's `query`
ONE = Decimal(10) ** 18  # fees are 1e18-precision fractions (1e18 = 100 %)


@dataclass(frozen=True)
class RuleContext:
    """What a rule may use: named queries, the wall clock (staleness only), its thresholds, display labels."""

    query: Runner
    now: datetime
    params: dict[str, Any]
    labels: dict[tuple[int, str], str] = field(default_factory=dict)  # (chain_id, address) -> label
    production: dict[str, str] = field(default_factory=dict)  # prod_chains / prod_callers query parameters
    cfg: Config | None = None  # for rules that share a watch's view logic (entities, bands)


@dataclass(frozen=True)
class Rule:
    """One alert rule; `defaults` names every threshold it reads (and `enabled`)."""

    name: str
    doc: str
    defaults: dict[str, Any]
    evaluate: Callable[[RuleContext], list[Finding]]
    reads: dict[str, tuple[str, ...]] = field(default_factory=dict)  # query -> columns used (checked by tests)


def head_times(ctx: RuleContext) -> dict[int, datetime]:
    """Each chain's head-block time as indexed: the clock of chain-derived rules."""
    rows = ctx.query("alerts_chain_heads").to_dict("records")
    return {int(r["chain_id"]): _utc(r["head_time"]) for r in rows if not pd.isna(r["head_time"])}


def _utc(ts: Any) -> datetime:
    t = pd.Timestamp(ts)
    return (t.tz_localize(UTC) if t.tzinfo is None else t.tz_convert(UTC)).to_pydatetime()


def as_time(ts: Any) -> datetime | None:
    """A stored time as an aware datetime (None when missing)."""
    return None if ts is None or pd.isna(ts) else _utc(ts)


def fee_percent(value: Any) -> Decimal | None:
    """An exact 1e18-precision fee (decimal text) as a percent; None when not a number."""
    try:
        return Decimal(str(value)) * 100 / ONE
    except ArithmeticError:
        return None


def within(window_s: float, event: datetime | None, head: datetime | None) -> bool:
    """True when an event is within the window of the chain's head time (window 0: always)."""
    if window_s <= 0 or event is None or head is None:
        return True
    return (head - event).total_seconds() <= window_s


def market_label(ctx: RuleContext, chain_id: int, address: str) -> str:
    """The configured label of a market, else its address."""
    return ctx.labels.get((chain_id, address.lower()), address)


def window_start(ctx: RuleContext, seconds: float) -> datetime | None:
    """`seconds` of chain time before the newest indexed head of any chain (None: no window or no head)."""
    heads = head_times(ctx)
    if seconds <= 0 or not heads:
        return None
    return max(heads.values()) - timedelta(seconds=seconds)


def flag(value: Any) -> bool | None:
    """A stored boolean (None when NULL/NaN)."""
    return None if value is None or pd.isna(value) else bool(value)
