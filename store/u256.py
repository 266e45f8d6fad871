"""Exact storage of EVM uint256 values.

DuckDB has no 256-bit integer and DECIMAL(38,0) stops below 2^128, so every uint256 column is stored
twice: the exact value as decimal text (`<name>` VARCHAR, what evidence and exports use) and a float
(`<name>_f` DOUBLE, for charts and approximate ordering only).
"""

from __future__ import annotations

MAX_U256 = 2**256 - 1


def to_text(value: int) -> str:
    """Encode a uint256 as exact decimal text; rejects negatives and values above 2^256-1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"uint256 must be an int, got {type(value).__name__}")
    if value < 0 or value > MAX_U256:
        raise ValueError(f"value out of uint256 range: {value}")
    return str(value)


def from_text(text: str | None) -> int | None:
    """Decode the exact decimal text written by `to_text` (None stays None)."""
    if text is None:
        return None
    if not text.isdigit():
        raise ValueError(f"not a uint256 decimal: {text!r}")
    value = int(text)
    if value > MAX_U256:
        raise ValueError(f"value out of uint256 range: {text}")
    return value


def to_float(value: int) -> float:
    """The chart-only approximation of a uint256."""
    return float(value)


def pair(value: int) -> tuple[str, float]:
    """(exact text, float) for the two columns of one uint256 value."""
    return to_text(value), to_float(value)
