"""Formatting for the fee watch: stored cells as JSON-able values, exact 1e18 fractions as percents, times.

Fees are 1e18 precision (1e18 = 100 %); percents are computed from the exact decimal text, never from a float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

ONE = Decimal(10) ** 18


def clean(value: Any) -> Any:
    """A stored cell as plain JSON-able Python: NaN/NaT -> None, numpy scalars -> int/float/bool, times -> ISO."""
    if value is None or (not isinstance(value, list | dict | str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).tz_convert(UTC).isoformat() if pd.Timestamp(value).tzinfo else value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def fraction(value: Any) -> Decimal | None:
    """An exact 1e18-precision value (decimal text) as a fraction (1 = 100 %); None when not a number."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        return Decimal(str(value)) / ONE
    except ArithmeticError:
        return None


def percent(value: Any) -> str | None:
    """Decimal text of the percent (e.g. '4.5') for an exact 1e18-precision value; None when unknown."""
    frac = fraction(value)
    if frac is None:
        return None
    text = f"{frac * 100:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def fmt_percent(value: Any) -> str:
    """'4.5 %' for display ('n/a' when unknown)."""
    p = percent(value)
    return "n/a" if p is None else f"{p} %"


def utc(ts: Any) -> str:
    """A unix time (seconds) or timestamp as 'YYYY-MM-DD HH:MM:SS UTC'."""
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return "unknown time"
    t = pd.Timestamp(int(ts), unit="s", tz=UTC) if isinstance(ts, int | float) else pd.Timestamp(ts)
    t = t.tz_localize(UTC) if t.tzinfo is None else t.tz_convert(UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: Any) -> str:
    """Seconds as '1 h', '2 d 3 h', '45 s'."""
    rest, out = int(seconds or 0), []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size} {unit}")
            rest %= size
    return " ".join(out) or "0 s"


__all__ = ["ONE", "clean", "duration", "fmt_percent", "fraction", "percent", "utc"]
