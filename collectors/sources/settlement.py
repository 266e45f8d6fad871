"""Verification watch source: LLM settlement relays (v1 and v2)."""

from collectors.sources.base import LogSource

SOURCE = LogSource("settlement", frozenset({"settlement_relay", "settlement_relay_v1"}),
                   "Batch and individual settlements of LLM inference.")
