"""HTTP stand-ins: CometBFT /validators paging and the Walrus aggregator, over real sockets."""

from __future__ import annotations

import base64
import hashlib
import socket
from typing import Any

import pytest
import requests

from devnet.standins import CometBFTStandIn, CometValidator, WalrusStandIn


def validators_page(url: str, **params: Any) -> requests.Response:
    return requests.get(f"{url}/validators", params=params, timeout=5)


def refuses(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_comet_paging_returns_every_validator_with_its_power() -> None:
    powers = {f"val-{i}": 1000 + 37 * i for i in range(73)}
    validators = [CometValidator.from_seed(seed, power) for seed, power in powers.items()]
    with CometBFTStandIn(validators, height=4242) as comet:
        seen: dict[str, int] = {}
        counts = []
        for page in (1, 2, 3):
            body = validators_page(comet.url, page=page, per_page=30).json()
            result = body["result"]
            assert (body["jsonrpc"], body["id"], result["block_height"], result["total"]) == ("2.0", -1, "4242", "73")
            counts.append(int(result["count"]))
            for item in result["validators"]:
                assert item["pub_key"]["type"] == "tendermint/PubKeyEd25519"
                assert item["proposer_priority"] == "0"
                seen[item["address"]] = int(item["voting_power"])
        assert counts == [30, 30, 13]
        assert seen == {v.address: v.voting_power for v in validators}
        assert sum(seen.values()) == sum(powers.values())
        over = validators_page(comet.url, page=4, per_page=30)
        assert over.status_code == 500
        assert "page should be within [1, 3] range, given 4" in over.json()["error"]["data"]


def test_comet_defaults_caps_order_and_heights() -> None:
    validators = [CometValidator.from_seed(f"v{i}", power) for i, power in enumerate([5, 500, 50] * 50)]
    with CometBFTStandIn(validators) as comet:
        first = validators_page(comet.url).json()["result"]
        assert (first["count"], first["total"], first["block_height"]) == ("30", "150", "1")
        powers = [int(v["voting_power"]) for v in first["validators"]]
        assert powers == sorted(powers, reverse=True) == [500] * 30
        assert validators_page(comet.url, per_page=1000).json()["result"]["count"] == "100"
        comet.set_height(99)
        comet.set_validators(validators[:2])
        small = validators_page(comet.url, height=90).json()["result"]
        assert (small["block_height"], small["count"], small["total"]) == ("90", "2", "2")
        assert validators_page(comet.url).json()["result"]["block_height"] == "99"
        assert validators_page(comet.url, height=100).status_code == 500
        assert validators_page(comet.url, page="x").status_code == 500
        assert requests.get(f"{comet.url}/status", timeout=5).status_code == 404


def test_comet_validator_from_seed_matches_cometbft_address_rule() -> None:
    validator = CometValidator.from_seed("node-a", 10)
    key = base64.b64decode(validator.pub_key)
    assert len(key) == 32
    assert validator.address == hashlib.sha256(key).digest()[:20].hex().upper()


def test_walrus_returns_stored_bytes_and_404_for_unknown() -> None:
    blob = bytes(range(256)) * 10
    with WalrusStandIn() as walrus:
        walrus.put("M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk", blob)
        walrus.put("tree-dump", b'{"format":"standard-v1"}')
        got = requests.get(f"{walrus.url}/v1/blobs/M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk", timeout=5)
        assert (got.status_code, got.content) == (200, blob)
        assert got.headers["Content-Type"] == "application/octet-stream"
        assert requests.get(f"{walrus.url}/v1/blobs/tree-dump", timeout=5).json() == {"format": "standard-v1"}
        missing = requests.get(f"{walrus.url}/v1/blobs/unknown-id", timeout=5)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == 404
        assert requests.get(f"{walrus.url}/v1/blobs/", timeout=5).status_code == 404


@pytest.mark.parametrize("make", [CometBFTStandIn, WalrusStandIn])
def test_servers_stop_and_refuse_connections(make: type[CometBFTStandIn] | type[WalrusStandIn]) -> None:
    server = make().start()
    port = server.port
    thread = server._thread
    assert not refuses(port)
    server.stop()
    server.stop()  # idempotent
    assert refuses(port)
    assert thread is not None and not thread.is_alive()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_two_servers_get_different_ports() -> None:
    with CometBFTStandIn() as comet, WalrusStandIn() as walrus:
        assert comet.port != walrus.port
        assert validators_page(comet.url).json()["result"]["validators"] == []
