"""From config to running engines: one per (source, network) with contracts of the source's kinds."""

from __future__ import annotations

from dataclasses import dataclass

from collectors import crosscheck
from collectors.engine import Engine, Target
from collectors.fee_control import FeeControlCollector, watched_markets
from collectors.fee_state import FeeStateCollector
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


def pools(cfg: Config, networks: list[str]) -> dict[str, RpcPool]:
    """One RPC pool per network (secrets read from the environment)."""
    out = {}
    for key in networks:
        try:
            out[key] = RpcPool(network_urls(cfg.networks[key]))
        except MissingSecret as exc:
            raise ConfigError([f"networks.{key}: {exc.args[0]}"]) from None
    return out


def engines(cfg: Config, store: Store, networks: list[str] | None = None,
            sources: list[str] | None = None, shared: dict[str, RpcPool] | None = None) -> list[Engine]:
    """Engines for the targets, sharing one RPC pool per network (and its cross-check, with 2+ URLs)."""
    ts = targets(cfg, networks, sources)
    by_net = shared if shared is not None else pools(cfg, sorted({t.network for t in ts}))
    return [_engine(store, by_net[t.network], t, cfg.networks[t.network].span_blocks,
                    crosscheck.guard(cfg, store, t.network, by_net[t.network])) for t in ts]


def _engine(store: Store, pool: RpcPool, t: Target, span: int, guard: crosscheck.CrossCheck | None) -> Engine:
    if guard is None:  # one URL (or cross-checking off): the plain engine, nothing added to its tick
        return Engine(store, pool, t, span=span)
    return crosscheck.CheckedEngine(store, pool, t, span=span, guard=guard)


@dataclass
class FeeJob:
    """The fee watch's state-based collectors for one network: changes from state, then control and ceilings."""

    network: str
    state: FeeStateCollector
    control: FeeControlCollector
    confirmations: int
    guard: crosscheck.CrossCheck | None = None  # with 2+ URLs: no state read while they disagree

    def tick(self) -> int:
        """One pass; returns how many fee changes were found."""
        if self.guard is not None and self.guard.limit() == crosscheck.HOLD:
            return 0  # the URLs disagree on the chain (collectors/crosscheck.py): read nothing until they agree
        changes = self.state.tick()
        if self.state.events_checkpoint() is None:
            return len(changes)  # no admin_events indexed yet: evaluating now would count none of them
        head = int(self.state.pool.call("eth_blockNumber"), 16) - self.confirmations
        self.control.tick(max(head, 0))
        return len(changes)


def fee_jobs(cfg: Config, store: Store, shared: dict[str, RpcPool]) -> list[FeeJob]:
    """A FeeJob for every network with fee markets (sharing the engines' pools)."""
    out = []
    for key, net in cfg.networks.items():
        markets = watched_markets(cfg, key)
        if not markets or key not in shared:
            continue
        pairs = [(m.address, m.kind) for m in markets]
        state = FeeStateCollector(store, shared[key], net.chain_id, pairs, net.confirmations,
                                  from_creation=net.fee_history_from_creation)
        out.append(FeeJob(key, state,
                          FeeControlCollector(store, shared[key], net.chain_id, markets), net.confirmations,
                          crosscheck.guard(cfg, store, key, shared[key])))
    return out
