"""What a log source is: a family of contract kinds indexed together, one checkpoint per network."""

from __future__ import annotations

from dataclasses import dataclass

from collectors import events


@dataclass(frozen=True)
class LogSource:
    """A family of contracts indexed together (one checkpoint per network)."""

    name: str
    kinds: frozenset[str]
    doc: str

    def topics(self) -> list[str]:
        """Every topic0 this source's kinds emit."""
        return sorted({e.topic0 for e in events.for_kinds(self.kinds)})
