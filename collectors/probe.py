"""Live checks behind `ogwatch check`: right chain, code where contracts should be, precompiles answer.

Each problem is one line naming the network and what is wrong; secrets in URLs are redacted.
"""

from __future__ import annotations

from collections.abc import Iterator

from collectors import abis
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


def check(cfg: Config, only: list[str] | None = None) -> list[str]:
    """All problems across the enabled (or named) networks."""
    problems: list[str] = []
    for key, net in cfg.networks.items():
        if (only and key not in only) or (not only and not net.enabled):
            continue
        problems.extend(check_network(key, net, cfg.contracts_on(key)))
    return problems
