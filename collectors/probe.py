"""Live checks behind `ogwatch check`: right chain, code where contracts should be, precompiles answer.

Each problem is one line naming the network and what is wrong; secrets in URLs are redacted.
"""

from __future__ import annotations

from collections.abc import Iterator

from collectors import abis
from collectors.crosscheck import survey
from collectors.rpc import RpcClient, RpcError
from ogwatch.config import Config, Contract, Network
from ogwatch.secrets import MissingSecret, reveal


def network_urls(net: Network) -> list[str]:
    """Every RPC URL of a network: the plain ones, then those held in env vars (raises MissingSecret)."""
    return list(net.rpc_urls) + [reveal(name) for name in net.rpc_url_env]


def _probe_data(contract: Contract) -> str:
    if contract.kind == "staking_precompile":
        return abis.calldata("StakingPrecompile", "validators", ["BOND_STATUS_BONDED", (b"", 0, 1, False, False)])
    # VANILLA, no model: the cheapest request the precompile can reject.
    request: tuple[int, str, tuple[list[object], list[object]]] = (0, "", ([], []))
    return abis.calldata("InferencePrecompile", "runModelInference", [request])


def _check_contract(rpc: RpcClient, key: str, c: Contract) -> str | None:
    where = f"{key}: {c.kind} {c.label or ''} at {c.address}".replace("  ", " ")
    if not c.precompile:
        code = rpc.call("eth_getCode", [c.address, "latest"])
        return None if code not in ("0x", "0x0", "", None) else f"{where}: no contract code at this address"
    try:
        out = rpc.call("eth_call", [{"to": c.address, "data": _probe_data(c)}, "latest"])
    except RpcError as exc:
        return None if exc.kind == "rpc" else f"{where}: probe call failed: {exc}"  # a revert is an answer
    return None if out not in ("0x", "", None) else f"{where}: precompile does not answer a probe call"


def check_network(key: str, net: Network, contracts: list[Contract]) -> Iterator[str]:
    """Problems found on one network (nothing yielded means all good)."""
    try:
        urls = network_urls(net)
    except MissingSecret as exc:
        yield f"{key}: {exc.args[0]}"
        return
    if not urls:
        yield f"{key}: no RPC URL configured (rpc_urls or rpc_url_env)"
        return
    for url in urls:
        rpc = RpcClient(url, timeout=10)
        try:
            got = int(rpc.call("eth_chainId"), 16)
            if got != net.chain_id:
                yield f"{key}: {rpc.shown_url} is chain {got}, config says {net.chain_id}; refusing to index"
                continue
            for c in contracts:
                problem = _check_contract(rpc, key, c)
                if problem:
                    yield problem
        except RpcError as exc:
            yield f"{key}: {exc}"
        except (TypeError, ValueError):
            yield f"{key}: {rpc.shown_url} answered eth_chainId with something that is not a hex number"
    if net.cross_checked and len(urls) >= 2:  # the URLs against each other, as the collectors will compare them
        verdict = survey([RpcClient(u, timeout=10) for u in urls], net.confirmations, net.cross_check_max_lag)
        yield from (f"{key}: RPC cross-check: {p}" for p in verdict.problems if not p.startswith("cannot"))


def _selected(cfg: Config, only: list[str] | None) -> Iterator[tuple[str, Network]]:
    for key, net in cfg.networks.items():
        if (only and key not in only) or (not only and not net.enabled) or not cfg.contracts_on(key):
            continue
        yield key, net


def preflight(cfg: Config, only: list[str] | None = None, start: int | None = None,
              starts: bool = False) -> list[str]:
    """Before indexing: every URL serves the configured chain; `start` (and with `starts`, each contract's
    start_block) is not above the head. A URL that does not answer is left to the collector's own error.

    Another chain behind a URL can share the genesis hash (anvil's is deterministic), and would then be
    taken for a reorg of ours: the chain id is checked first so that nothing stored is ever removed for it.
    """
    problems: list[str] = []
    for key, net in _selected(cfg, only):
        try:
            urls = network_urls(net)
        except MissingSecret:
            continue  # the collector names the missing variable
        for url in urls:
            rpc = RpcClient(url, timeout=10)
            try:
                got, head = int(rpc.call("eth_chainId"), 16), int(rpc.call("eth_blockNumber"), 16)
            except (RpcError, TypeError, ValueError):
                continue
            if got != net.chain_id:
                problems.append(f"{key}: {rpc.shown_url} is chain {got}, config says {net.chain_id}; refusing to index")
            else:  # the same head lines from several URLs are kept once
                problems += _start_problems(cfg, key, head, start, starts)
    return list(dict.fromkeys(problems))


def _start_problems(cfg: Config, key: str, head: int, start: int | None, starts: bool) -> list[str]:
    out = [f"{key}: --from {start} is above the chain's head {head}; nothing to index"] \
        if start is not None and start > head else []
    if starts:
        out += [f"{key}: {c.kind} at {c.address}: start_block {c.start_block} is above the chain's head {head}"
                for c in cfg.contracts_on(key) if c.start_block > head]
    return out


def check(cfg: Config, only: list[str] | None = None) -> list[str]:
    """All problems across the enabled (or named) networks."""
    problems: list[str] = []
    for key, net in cfg.networks.items():
        if (only and key not in only) or (not only and not net.enabled):
            continue
        problems.extend(check_network(key, net, cfg.contracts_on(key)))
    return problems
