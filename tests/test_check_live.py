"""`ogwatch check` against a real anvil node: wrong chain id, missing code, silent precompile."""

from __future__ import annotations

import pytest

from devnet import nodes
from tests.conftest import ogwatch, write_config

pytestmark = pytest.mark.devnet

CODE_ADDR = "0x00000000000000000000000000000000000c0De1"
EMPTY_ADDR = "0x1E5A5c87513C3a11F763dbcE15Da60d912b953B3"


@pytest.fixture(scope="module")
def node():
    n = nodes.start_node("og_evm", 10740)
    nodes.set_code(n, CODE_ADDR, "0x600160005260206000f3")  # returns 1 for any call
    nodes.mine(n)
    yield n
    n.stop()


def _cfg(tmp_path, url: str, chain_id: int, contracts: str = "") -> str:
    extra = f'\n[networks.og]\nname="og"\nchain_id={chain_id}\nrpc_urls=["{url}"]\n' + contracts
    return str(write_config(tmp_path, extra=extra))


def test_all_good(tmp_path, node) -> None:
    contracts = (f'[[contracts]]\nnetwork="og"\nkind="settlement_relay"\naddress="{CODE_ADDR.lower()}"\n'
                 '[[contracts]]\nnetwork="og"\nkind="staking_precompile"\nprecompile=true\n'
                 f'address="{CODE_ADDR.lower()[:-1]}2"\n')
    nodes.set_code(node, CODE_ADDR.lower()[:-1] + "2", "0x600160005260206000f3")
    out = ogwatch("--config", _cfg(tmp_path, node.url, 10740, contracts), "check", "--network", "og")
    assert out.returncode == 0, out.stderr
    assert "all checks passed" in out.stdout


def test_wrong_chain_id_is_refused(tmp_path, node) -> None:
    out = ogwatch("--config", _cfg(tmp_path, node.url, 56), "check", "--network", "og")
    assert out.returncode == 2
    assert out.stderr.strip() == f"ogwatch: og: {node.url} is chain 10740, config says 56; refusing to index"


def test_no_code_and_silent_precompile(tmp_path, node) -> None:
    contracts = (f'[[contracts]]\nnetwork="og"\nkind="twinfun_market"\nlabel="M"\naddress="{EMPTY_ADDR}"\n'
                 '[[contracts]]\nnetwork="og"\nkind="staking_precompile"\nprecompile=true\n'
                 'address="0x0000000000000000000000000000000000000800"\n')
    out = ogwatch("--config", _cfg(tmp_path, node.url, 10740, contracts), "check", "--network", "og")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines == [
        f"ogwatch: og: twinfun_market M at {EMPTY_ADDR}: no contract code at this address",
        "ogwatch: og: staking_precompile at 0x0000000000000000000000000000000000000800: "
        "precompile does not answer a probe call",
    ]


def test_unreachable_rpc(tmp_path) -> None:
    port = nodes.free_port()
    out = ogwatch("--config", _cfg(tmp_path, f"http://127.0.0.1:{port}", 10740), "check", "--network", "og")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.strip() == f"ogwatch: og: http://127.0.0.1:{port}: cannot connect (Connection refused)"
