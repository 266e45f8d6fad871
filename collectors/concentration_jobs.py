"""The decentralization watch's scheduled state readers: one job per network with TEE registries or validators."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from collectors.pool import RpcPool
from collectors.runner import pools
from collectors.tee_state import TEEStateCollector
from collectors.validators import ValidatorCollector
from ogwatch.config import Config
from ogwatch.secrets import redact
from store.db import Store

log = logging.getLogger("ogwatch.concentration")

MIN_INTERVAL_S = 30.0  # registries and validator sets change slowly; liveness is judged in minutes


@dataclass
class ConcentrationJob:
    """TEE registry state and validator power of one network."""

    network: str
    tees: TEEStateCollector | None
    validators: ValidatorCollector | None
    interval_s: float

    def tick(self) -> dict[str, int]:
        """One reading of everything; returns change rows written per part."""
        out: dict[str, int] = {}
        if self.tees is not None:
            out["tees"] = self.tees.tick()
        if self.validators is not None:
            out.update(self.validators.tick())
        return out

    def scheduled_tick(self) -> str:
        """One scheduled pass: a failure is one redacted log line (and the job runs again next time).

        Returns the line that was logged, or a short summary when nothing was worth logging.
        """
        try:
            written = {k: n for k, n in self.tick().items() if n}
        except Exception as exc:  # a node or CometBFT hiccup must not stop the scheduler
            line = f"pass failed: {redact(f'{type(exc).__name__}: {exc}')}"
            log.warning("concentration/%s: %s", self.network, line)
            return line
        line = ", ".join(f"{n} {k} change(s)" for k, n in sorted(written.items())) or "no changes"
        if written:
            log.info("concentration/%s: %s", self.network, line)
        return line


def concentration_jobs(cfg: Config, store: Store, shared: dict[str, RpcPool]) -> list[ConcentrationJob]:
    """A job for every enabled network with a TEE registry, a staking precompile or a CometBFT URL."""
    out = []
    for key, net in cfg.networks.items():
        if not net.enabled:
            continue
        contracts = cfg.contracts_on(key)
        registries = [c.address for c in contracts if c.kind == "tee_registry"]
        staking = next((c.address for c in contracts if c.kind == "staking_precompile"), None)
        pool = shared.get(key)
        if pool is None and (registries or staking):
            pool = shared[key] = pools(cfg, [key])[key]  # no log engine here: this job opens the pool
        tees = TEEStateCollector(store, pool, net.chain_id, registries, net.confirmations) \
            if registries and pool is not None else None
        vals = ValidatorCollector(store, pool, net.chain_id, staking, net.cometbft_url, net.confirmations) \
            if staking or net.cometbft_url else None
        if tees or vals:
            out.append(ConcentrationJob(key, tees, vals, max(net.poll_seconds, MIN_INTERVAL_S)))
    return out
