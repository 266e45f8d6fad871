"""The fault proxy in front of a real anvil node: each fault as the client sees it, batches, schedule, stop."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devnet import nodes
from devnet.faultproxy import FaultProxy, Faults

pytestmark = pytest.mark.devnet

EMITTER = "0x00000000000000000000000000000000000000e1"
TOPIC = "0x" + "ab" * 32
EMIT_RUNTIME = "0x7f" + "ab" * 32 + "60006000a100"  # LOG1(offset 0, size 0, TOPIC); STOP
TXS, EXTRA_BLOCKS = 30, 5


@pytest.fixture(scope="module")
def node() -> Iterator[nodes.AnvilNode]:
    """One anvil with TXS blocks holding one log each, then EXTRA_BLOCKS empty blocks."""
    n = nodes.start_node("bsc", 56)
    try:
        nodes.set_code(n, EMITTER, EMIT_RUNTIME)
        sender = nodes.rpc(n, "eth_accounts")[0]
        for _ in range(TXS):
            nodes.rpc(n, "eth_sendTransaction", [{"from": sender, "to": EMITTER, "gas": hex(100_000)}])
        nodes.mine(n, EXTRA_BLOCKS)
        yield n
    finally:
        n.stop()


@pytest.fixture
def proxy(node: nodes.AnvilNode) -> Iterator[FaultProxy]:
    with FaultProxy(node.url) as p:
        yield p


def post(url: str, body: Any, timeout: float = 5.0) -> requests.Response:
    return requests.post(url, json=body, timeout=timeout)


def req(method: str, *params: Any, ident: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "method": method, "params": list(params)}


def logs(lo: int | str, hi: int | str) -> dict[str, Any]:
    return req("eth_getLogs", {"fromBlock": lo if isinstance(lo, str) else hex(lo),
                               "toBlock": hi if isinstance(hi, str) else hex(hi), "address": EMITTER})


def error_of(reply: requests.Response) -> dict[str, Any]:
    assert reply.status_code == 200
    return dict(reply.json()["error"])


def head(node: nodes.AnvilNode) -> int:
    return nodes.block_number(node)


PASSTHROUGH = [logs("earliest", "latest"), req("eth_blockNumber"), req("eth_getBlockByNumber", "0x3", True),
               req("eth_getBalance", EMITTER, "0x1"), req("eth_call", {"to": EMITTER}, "latest"),
               req("eth_chainId"), req("trace_filter", {"fromBlock": "0x1", "toBlock": "0x2"})]
LOOSE = Faults(max_logs=1000, max_block_range=1000, state_window=1000, max_batch=100, stale_head_rate=0.0,
               too_many_mode="rpc-32602", timeout_rate=0.0, http_5xx_rate=0.0, torn_body_rate=0.0)


@pytest.mark.parametrize("faults", [Faults(), LOOSE], ids=["off", "loose-limits"])
def test_rate_zero_answers_what_anvil_answers(proxy: FaultProxy, node: nodes.AnvilNode, faults: Faults) -> None:
    proxy.set_faults(faults)
    for body in [*PASSTHROUGH, [dict(c, id=i) for i, c in enumerate(PASSTHROUGH)], []]:
        assert post(proxy.url, body).json() == post(node.url, body).json()
    garbage = requests.post(proxy.url, data=b"{not json", headers={"Content-Type": "application/json"}, timeout=5)
    assert garbage.json() == requests.post(node.url, data=b"{not json", timeout=5).json()
    assert len(post(proxy.url, logs("earliest", "latest")).json()["result"]) == TXS
    assert proxy.stats["forwarded"] >= len(PASSTHROUGH) and proxy.stats["timeout"] == 0


def test_hang_times_out_then_drops(proxy: FaultProxy) -> None:
    proxy.set_faults(Faults(timeout_rate=1.0, hang_s=1.0))
    with pytest.raises(requests.exceptions.ReadTimeout):
        post(proxy.url, req("eth_blockNumber"), timeout=0.2)
    proxy.set_faults(Faults(timeout_rate=1.0, hang_s=0.1))
    with pytest.raises(requests.exceptions.ConnectionError):
        post(proxy.url, req("eth_blockNumber"), timeout=5)
    assert proxy.stats["timeout"] == 2 and proxy.stats["forwarded"] == 0


def test_http_429_and_5xx(proxy: FaultProxy) -> None:
    proxy.set_faults(Faults(http_429_rate=1.0))
    reply = post(proxy.url, req("eth_blockNumber"))
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "1"
    proxy.set_faults(Faults(http_5xx_rate=1.0, seed=3))
    statuses = {post(proxy.url, req("eth_blockNumber")).status_code for _ in range(20)}
    assert statuses == {500, 502, 503}
    assert proxy.stats["http_429"] == 1 and proxy.stats["http_5xx"] == 20


def test_torn_and_malformed_bodies(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    full = requests.post(node.url, json=req("eth_getBlockByNumber", "0x1", False), timeout=5).content
    proxy.set_faults(Faults(torn_body_rate=1.0))
    torn = post(proxy.url, req("eth_getBlockByNumber", "0x1", False))
    assert torn.status_code == 200 and torn.content == full[: len(full) // 2]
    with pytest.raises(requests.exceptions.JSONDecodeError):
        torn.json()
    proxy.set_faults(Faults(torn_body_rate=1.0, torn_mode="short-read"))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post(proxy.url, req("eth_blockNumber"))
    proxy.set_faults(Faults(malformed_json_rate=1.0))
    bad = post(proxy.url, req("eth_blockNumber"))
    assert bad.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        bad.json()
    assert proxy.stats["torn_body"] == 2 and proxy.stats["malformed_json"] == 1


def test_delay(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    proxy.set_faults(Faults(delay_s=0.3, delay_rate=1.0))
    started = time.monotonic()
    assert post(proxy.url, req("eth_chainId")).json() == post(node.url, req("eth_chainId")).json()
    assert time.monotonic() - started >= 0.3 and proxy.stats["delay"] == 1


@pytest.mark.parametrize("mode", ["rpc-32005", "rpc-32602", "http-413"])
def test_max_logs(proxy: FaultProxy, node: nodes.AnvilNode, mode: str) -> None:
    proxy.set_faults(Faults(max_logs=10, too_many_mode=mode))
    refused = post(proxy.url, logs(1, TXS))
    if mode == "http-413":
        assert refused.status_code == 413
    else:
        code, message = (-32005, "query returned more than 10 results") if mode == "rpc-32005" else \
            (-32602, "Log response size exceeded")
        assert error_of(refused) == {"code": code, "message": message}
    small = post(proxy.url, logs(1, 10)).json()
    assert small == post(node.url, logs(1, 10)).json() and len(small["result"]) == 10
    assert proxy.stats["too_many_logs"] == 1


def test_max_block_range(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    proxy.set_faults(Faults(max_block_range=10))
    assert post(proxy.url, logs(1, 10)).json() == post(node.url, logs(1, 10)).json()
    for wide in (logs(1, 11), logs("earliest", "latest"), logs(head(node) - 10, "latest")):
        error = error_of(post(proxy.url, wide))
        assert error["code"] == -32600 and error["message"].startswith("block range too large")
    block_hash = nodes.rpc(node, "eth_getBlockByNumber", ["0x2", False])["hash"]
    by_hash = req("eth_getLogs", {"blockHash": block_hash})
    assert post(proxy.url, by_hash).json() == post(node.url, by_hash).json()
    assert proxy.stats["block_range"] == 3


def test_stale_head_lags_exactly(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    proxy.set_faults(Faults(stale_head_rate=1.0, stale_by=7))
    assert int(post(proxy.url, req("eth_blockNumber")).json()["result"], 16) == head(node) - 7
    proxy.set_faults(Faults(stale_head_rate=1.0, stale_by=7, only_methods=frozenset({"eth_getLogs"})))
    assert int(post(proxy.url, req("eth_blockNumber")).json()["result"], 16) == head(node)
    assert proxy.stats["stale_head"] == 1


def test_hide_traces(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    proxy.set_faults(Faults(hide_traces=True))
    for method in ("trace_filter", "debug_traceTransaction"):
        assert error_of(post(proxy.url, req(method, {}))) == {
            "code": -32601, "message": f"the method {method} does not exist/is not available"}
    assert post(proxy.url, logs(1, 5)).json() == post(node.url, logs(1, 5)).json()
    assert proxy.stats["hide_traces"] == 2


def test_state_window(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    k = 5
    proxy.set_faults(Faults(state_window=k))
    top = head(node)
    call = {"to": EMITTER}
    for ok in (req("eth_call", call, hex(top)), req("eth_call", call, hex(top - k)), req("eth_call", call, "latest"),
               req("eth_call", call), req("eth_getBalance", EMITTER, "finalized"), req("eth_getCode", EMITTER, "safe")):
        assert post(proxy.url, ok).json() == post(node.url, ok).json()
    old_hash = nodes.rpc(node, "eth_getBlockByNumber", [hex(top - k - 1), False])["hash"]
    for old in (req("eth_call", call, hex(top - k - 1)), req("eth_call", call, {"blockHash": old_hash}),
                req("eth_getStorageAt", EMITTER, "0x0", "earliest"), req("eth_getBalance", EMITTER, "0x1"),
                req("eth_getCode", EMITTER, {"blockNumber": hex(top - k - 1)})):
        error = error_of(post(proxy.url, old))
        assert error["code"] == -32000 and error["message"].startswith("missing trie node")
        assert error["message"].endswith("(state not available)")
    assert proxy.stats["state_window"] == 5


def test_batch_faults_spare_the_other_calls(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    proxy.set_faults(Faults(hide_traces=True, max_block_range=10, max_logs=3, state_window=2))
    batch = [req("eth_chainId", ident=10), req("trace_filter", {}, ident=11), logs(1, 20) | {"id": 12},
             logs(1, 2) | {"id": 13}, logs(1, 5) | {"id": 14}, req("eth_getBalance", EMITTER, "0x1", ident=15),
             req("eth_getBlockByNumber", "0x4", False, ident=16)]
    got, want = post(proxy.url, batch).json(), post(node.url, batch).json()
    assert [r["id"] for r in got] == list(range(10, 17))
    assert [got[i] for i in (0, 3, 6)] == [want[i] for i in (0, 3, 6)]
    codes = [got[i]["error"]["code"] for i in (1, 2, 4, 5)]
    assert codes == [-32601, -32600, -32005, -32000]
    stats = proxy.stats
    assert (stats["hide_traces"], stats["block_range"], stats["too_many_logs"], stats["state_window"]) == (1, 1, 1, 1)


def test_max_batch(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    proxy.set_faults(Faults(max_batch=2))
    pair = [req("eth_chainId", ident=1), req("eth_blockNumber", ident=2)]
    assert post(proxy.url, pair).json() == post(node.url, pair).json()
    three = [*pair, req("eth_chainId", ident=3)]
    assert post(proxy.url, three).json() == [
        {"jsonrpc": "2.0", "id": i, "error": {"code": -32600, "message": "batch too large"}} for i in (1, 2, 3)]
    assert proxy.stats["max_batch"] == 3


def test_only_methods(proxy: FaultProxy) -> None:
    proxy.set_faults(Faults(http_429_rate=1.0, only_methods=frozenset({"eth_getLogs"})))
    assert post(proxy.url, req("eth_blockNumber")).status_code == 200
    assert post(proxy.url, logs(1, 2)).status_code == 429
    assert post(proxy.url, [req("eth_blockNumber"), logs(1, 2)]).status_code == 429


def test_concurrent_clients(proxy: FaultProxy, node: nodes.AnvilNode) -> None:
    proxy.set_faults(Faults(seed=5, http_429_rate=0.5, max_logs=1000))
    want, seen = post(node.url, logs(1, 10)).json(), []

    def client() -> None:
        for _ in range(15):
            reply = post(proxy.url, logs(1, 10))
            seen.append("429" if reply.status_code == 429 else reply.json() == want)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 120 and set(seen) == {True, "429"}
    assert (proxy.stats["http_429"], proxy.stats["forwarded"]) == (seen.count("429"), seen.count(True))


def test_bad_settings_and_dead_upstream() -> None:
    for bad in ({"timeout_rate": 1.5}, {"too_many_mode": "http-500"}, {"torn_mode": "x"}, {"hang_s": -1}):
        with pytest.raises(ValueError):
            Faults(**bad)
    with FaultProxy(f"http://127.0.0.1:{nodes.free_port()}", upstream_timeout=2) as p:
        assert post(p.url, req("eth_chainId")).status_code == 502 and p.stats["upstream_errors"] == 1


def outcomes(proxy: FaultProxy, faults: Faults, n: int = 40) -> list[int]:
    proxy.set_faults(faults)
    return [post(proxy.url, req("eth_chainId")).status_code for _ in range(n)]


def test_seeded_schedule_repeats(proxy: FaultProxy) -> None:
    def faults(seed: int) -> Faults:
        return Faults(seed=seed, http_429_rate=0.2, http_5xx_rate=0.3)

    first = outcomes(proxy, faults(11))
    assert first == outcomes(proxy, faults(11)) and first != outcomes(proxy, faults(12))
    assert {200, 429} <= set(first) and set(first) & {500, 502, 503}
    stats = proxy.stats
    assert stats["http_requests"] == 120 and stats["forwarded"] == 120 - stats["http_429"] - stats["http_5xx"]
    proxy.reset_stats()
    assert set(proxy.stats.values()) == {0}


def test_stop_ends_threads_and_releases_port(node: nodes.AnvilNode) -> None:
    p = FaultProxy(node.url, Faults(timeout_rate=1.0, hang_s=30.0)).start()
    seen: list[BaseException] = []

    def hang() -> None:
        try:
            post(p.url, req("eth_chainId"), timeout=10)
        except requests.RequestException as exc:
            seen.append(exc)

    hanging = threading.Thread(target=hang)
    hanging.start()
    time.sleep(0.2)
    p.set_faults(Faults())
    keepalive = requests.Session()
    assert keepalive.post(p.url, json=req("eth_chainId"), timeout=5).status_code == 200  # an idle keep-alive
    started = time.monotonic()
    p.stop()
    hanging.join(5)
    assert time.monotonic() - started < 2 and not hanging.is_alive()
    assert isinstance(seen[0], requests.exceptions.ConnectionError)
    assert not [t.name for t in threading.enumerate() if t.name.startswith(f"faultproxy-{p.port}")]
    with pytest.raises(requests.exceptions.ConnectionError):
        post(p.url, req("eth_chainId"), timeout=2)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", p.port))
    keepalive.close()


def test_command_line(node: nodes.AnvilNode) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "devnet.faultproxy", "--upstream", node.url, "--port", "0",
                             "--http-429-rate", "1", "--only-methods", "eth_getLogs,trace_filter"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[3]
        assert url.startswith("http://127.0.0.1:")
        assert post(url, logs(1, 2)).status_code == 429
        assert post(url, req("eth_chainId")).json()["result"] == hex(56)
        proc.terminate()
        assert proc.wait(5) == 0
        assert '"http_429": 1' in proc.stdout.read()
    finally:
        proc.kill()
        proc.wait()
