"""The registry of log sources: one module per source, one line each in SOURCES.

A source names the contract kinds it reads; its events (topic0s) come from collectors.events. The
engine runs one instance per (source, network) that has contracts of those kinds.
"""

from __future__ import annotations

from collectors.sources import fees, inference, settlement, tee
from collectors.sources.base import LogSource

SOURCES: tuple[LogSource, ...] = (fees.SOURCE, inference.SOURCE, settlement.SOURCE, tee.SOURCE)
