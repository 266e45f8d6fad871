"""Verification watch source: on-chain inference (precompile, hub, workflow contracts)."""

from collectors.sources.base import LogSource

SOURCE = LogSource("inference", frozenset({"inference_precompile", "inference_hub", "workflow"}),
                   "Inference events with their mode, and the hub's and workflows' results.")
