"""Concentration metrics over weights per participant (voting power, TEEs run, inferences settled).

Pure functions, no I/O. Weights are non-negative numbers per identifier. Every computation is exact: the
weights are scaled to integers over one common denominator (a float is a dyadic rational), so a tie at exactly
1/3 of the total never counts as "more than 1/3", and each float returned is the correctly rounded exact ratio.

- Nakamoto coefficient at a threshold t: the fewest participants whose combined weight is **strictly
  greater** than t x total (1/3: enough to halt BFT consensus; 1/2 and 2/3: enough to control it).
- HHI: sum of squared shares in percent, 0..10,000; bands by the 2023 US Merger Guidelines
  (above 1,000 moderately, above 1,800 highly concentrated), configurable.
- Gini over every participant passed (zeros included), top-1 / top-3 share, and the count of
  participants with positive weight.

A zero (or empty) total is "no data": `metrics` returns None, never a row of zeros.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

#: The thresholds reported everywhere: name -> fraction of the total that must be strictly exceeded.
THRESHOLDS: dict[str, Fraction] = {"1/3": Fraction(1, 3), "1/2": Fraction(1, 2), "2/3": Fraction(2, 3)}
#: 2023 US Merger Guidelines (section 2.1): HHI above 1,000 moderately, above 1,800 highly concentrated.
DEFAULT_BANDS: tuple[float, float] = (1000.0, 1800.0)
BAND_NAMES = ("unconcentrated", "moderately concentrated", "highly concentrated")
UNMAPPED = "unmapped"


@dataclass(frozen=True)
class Metrics:
    """Concentration of one set of weights."""

    total: float
    count: int                       # participants with a positive weight
    participants: int                # every participant passed, zero weights included
    nakamoto: dict[str, int]         # threshold name -> fewest participants strictly above it
    hhi: float                       # 0..10,000
    band: str                        # one of BAND_NAMES
    gini: float                      # 0 (equal) .. (n-1)/n
    top1: float                      # share of the largest participant, 0..1
    top3: float                      # share of the three largest, 0..1


def _ratio(w: float | int) -> tuple[int, int]:
    """A weight as an exact (numerator, denominator): floats are dyadic rationals, so nothing is rounded."""
    if isinstance(w, int):
        return int(w), 1
    if isinstance(w, float):
        return w.as_integer_ratio()
    f = Fraction(w)
    return f.numerator, f.denominator


def _scaled(weights: Iterable[float | int]) -> tuple[list[int], int]:
    """Weights as integers over one common denominator: every sum, comparison and ratio below is exact."""
    values = list(weights)
    pairs = [_ratio(w) for w in values]
    for (num, _den), w in zip(pairs, values, strict=True):
        if num < 0:
            raise ValueError(f"negative weight {w}")
    den = 1
    for d in {d for _n, d in pairs}:
        den = math.lcm(den, d)
    return [n * (den // d) for n, d in pairs], den


def shares(weights: Mapping[str, float | int]) -> dict[str, float] | None:
    """Each participant's share of the total (summing to 1); None when the total is zero."""
    ints, _den = _scaled(list(weights.values()))
    total = sum(ints)
    if total == 0:
        return None
    return {k: v / total for k, v in zip(weights, ints, strict=True)}


def _nakamoto_sorted(desc: list[int], total: int, threshold: Fraction) -> int | None:
    """Nakamoto over integer weights sorted largest first: acc > t x total, i.e. acc x q > p x total."""
    p, q = threshold.numerator, threshold.denominator
    acc = 0
    for k, w in enumerate(desc, start=1):
        acc += w
        if acc * q > p * total:
            return k
    return None  # only for threshold >= 1: nobody can exceed the whole


def nakamoto(weights: Iterable[float | int], threshold: Fraction) -> int | None:
    """The fewest participants whose weight together is strictly greater than threshold x total."""
    ints, _den = _scaled(weights)
    total = sum(ints)
    return None if total == 0 else _nakamoto_sorted(sorted(ints, reverse=True), total, threshold)


def hhi(weights: Iterable[float | int]) -> float | None:
    """Herfindahl-Hirschman index: sum of squared percent shares, 0..10,000; None when the total is zero."""
    ints, _den = _scaled(weights)
    total = sum(ints)
    return None if total == 0 else 10_000 * sum(w * w for w in ints) / (total * total)


def band(value: float, bands: Sequence[float] = DEFAULT_BANDS) -> str:
    """The HHI band name: above bands[1] highly, above bands[0] moderately, else unconcentrated."""
    low, high = bands
    return BAND_NAMES[2] if value > high else BAND_NAMES[1] if value > low else BAND_NAMES[0]


def _gini_sorted(asc: list[int], total: int) -> float:
    """Gini of integer weights sorted smallest first: (2 x sum(i x w_i) - (n + 1) x total) / (n x total)."""
    n = len(asc)
    ranked = sum(i * w for i, w in enumerate(asc, start=1))
    return (2 * ranked - (n + 1) * total) / (n * total)


def gini(weights: Iterable[float | int]) -> float | None:
    """Gini coefficient over every participant given (zeros count); None when the total is zero."""
    ints, _den = _scaled(weights)
    total = sum(ints)
    return None if total == 0 else _gini_sorted(sorted(ints), total)


def lorenz(weights: Iterable[float | int]) -> list[tuple[float, float]]:
    """Lorenz curve points (population share, weight share), from (0, 0) to (1, 1); [] when the total is zero."""
    ordered = sorted(_scaled(weights)[0])
    n, total = len(ordered), sum(ordered)
    if total == 0:
        return []
    points, acc = [(0.0, 0.0)], 0
    for i, w in enumerate(ordered, start=1):
        acc += w
        points.append((i / n, acc / total))
    return points


def top_share(weights: Iterable[float | int], k: int) -> float | None:
    """Share of the k largest participants; None when the total is zero."""
    ordered = sorted(_scaled(weights)[0], reverse=True)
    total = sum(ordered)
    return None if total == 0 else sum(ordered[:k]) / total


def metrics(weights: Mapping[str, float | int], bands: Sequence[float] = DEFAULT_BANDS) -> Metrics | None:
    """Every metric of one set of weights; None ("no data") when the total is zero.

    The weights are scaled once to integers over a common denominator and sorted once; each float returned
    is the correctly rounded value of the exact ratio (Python's int / int), as `float(Fraction)` gives.
    """
    values = list(weights.values())
    ints, den = _scaled(values)
    total = sum(ints)
    if total == 0:
        return None
    desc = sorted(ints, reverse=True)
    h = 10_000 * sum(w * w for w in ints) / (total * total)
    naka = {name: _nakamoto_sorted(desc, total, t) for name, t in THRESHOLDS.items()}
    return Metrics(total=total / den, count=sum(1 for v in values if v > 0),
                   participants=len(values), nakamoto={k: v for k, v in naka.items() if v is not None},
                   hhi=h, band=band(h, bands), gini=_gini_sorted(desc[::-1], total) or 0.0,
                   top1=desc[0] / total or 0.0, top3=sum(desc[:3]) / total or 0.0)


# ---- entities -------------------------------------------------------------------------------------

def identifier_key(identifier: str) -> str:
    """The matching key of an identifier: EVM addresses compare case-insensitively, other strings exactly."""
    s = identifier.strip()
    return s.lower() if s[:2].lower() == "0x" and len(s) == 42 else s


@dataclass(frozen=True)
class EntityMap:
    """identifier -> (entity, source of the mapping); an unmapped identifier is its own entity."""

    mapping: dict[str, tuple[str, str]]

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, str]]) -> EntityMap:
        """From (identifier, entity, source) rows (config `[[entities]]`)."""
        return cls({identifier_key(i): (e, s) for i, e, s in rows})

    def resolve(self, identifier: str) -> tuple[str, str, bool]:
        """(entity, source, mapped): an unmapped identifier is its own entity, labelled unmapped."""
        hit = self.mapping.get(identifier_key(identifier))
        return (hit[0], hit[1], True) if hit else (identifier, UNMAPPED, False)


def group(weights: Mapping[str, float | int], entities: EntityMap) -> dict[str, float]:
    """Sum the weights per entity (exactly, then as float)."""
    ints, den = _scaled(list(weights.values()))
    out: dict[str, int] = {}
    for identifier, w in zip(weights, ints, strict=True):
        entity = entities.resolve(identifier)[0]
        out[entity] = out.get(entity, 0) + w
    return {k: v / den for k, v in out.items()}


def replay(changes: Iterable[tuple[int, str, str, float | int | None]],
           points: int | None = None) -> list[tuple[int, dict[str, float]]]:
    """Weights per identifier after each block of change rows (block, key, identifier, weight or None = gone).

    Rows must be in block order; a key's later row replaces its earlier one (a key may move to another
    identifier, e.g. a TEE changing owner). Returns one (block, weights) per distinct block, or with `points`
    at most that many, evenly spaced over the distinct blocks and always including the first and the last
    (a trend chart needs a few hundred points, not one per block of a long history).
    """
    changes = list(changes)
    keep = _sample({c[0] for c in changes}, points)
    state: dict[str, tuple[str, float]] = {}
    out: list[tuple[int, dict[str, float]]] = []
    current: int | None = None
    for block, key, identifier, weight in changes:
        if current is not None and block != current and (keep is None or current in keep):
            out.append((current, _totals(state)))
        current = block
        if weight is None:
            state.pop(key, None)
        else:
            state[key] = (identifier, float(weight))
    if current is not None:
        out.append((current, _totals(state)))
    return out


def _sample(blocks: set[int], points: int | None) -> set[int] | None:
    """The blocks to keep: all (None) when there are no more than `points`, else evenly spaced ones."""
    if points is None or len(blocks) <= points:
        return None
    ordered = sorted(blocks)
    step = (len(ordered) - 1) / max(points - 1, 1)
    return {ordered[round(i * step)] for i in range(points)}


def _totals(state: dict[str, tuple[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for ident, w in state.values():
        totals[ident] = totals.get(ident, 0.0) + w
    return totals
