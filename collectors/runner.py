"""From config to running engines: one per (source, network) with contracts of the source's kinds."""

from __future__ import annotations

from collectors.engine import Engine, Target
from collectors.pool import RpcPool
from collectors.probe import network_urls
from collectors.sources import SOURCES
from ogwatch.config import Config
from ogwatch.errors import ConfigError
from ogwatch.secrets import MissingSecret
from store.db import Store


def targets(cfg: Config, networks: list[str] | None = None, sources: list[str] | None = None) -> list[Target]:
    """Every (source, network) pair that has something to index."""
    out = []
    for key, net in cfg.networks.items():
        if (networks and key not in networks) or (not networks and not net.enabled):
            continue
        for src in SOURCES:
            if sources and src.name not in sources:
                continue
            contracts = [c for c in cfg.contracts_on(key) if c.kind in src.kinds]
            if contracts:
                out.append(Target(src.name, key, net.chain_id, sorted(c.address for c in contracts), src.topics(),
                                  min(c.start_block for c in contracts), net.confirmations,
                                  net.reset_on_new_genesis))
    return out


def engines(cfg: Config, store: Store, networks: list[str] | None = None,
            sources: list[str] | None = None) -> list[Engine]:
    """Engines for the targets, sharing one RPC pool per network."""
    pools: dict[str, RpcPool] = {}
    out = []
    for t in targets(cfg, networks, sources):
        if t.network not in pools:
            try:
                pools[t.network] = RpcPool(network_urls(cfg.networks[t.network]))
            except MissingSecret as exc:
                raise ConfigError([f"networks.{t.network}: {exc.args[0]}"]) from None
        out.append(Engine(store, pools[t.network], t, span=cfg.networks[t.network].span_blocks))
    return out
