"""Decentralization watch source: TEE registries and the verifier."""

from collectors.sources.base import LogSource

SOURCE = LogSource("tee", frozenset({"tee_registry", "tee_verifier"}),
                   "TEE registrations, enablement, heartbeats, PCR approvals and revocations, roles.")
