"""Real anvil processes: chain ids, mining, clean stop, no orphans, state dump and reload."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devnet.nodes import (
    CHAINS,
    AnvilNode,
    Devnet,
    DevnetError,
    anvil_binary,
    block_number,
    mine,
    revert,
    rpc,
    set_code,
    snapshot,
    start_node,
    sweep_stale_homes,
)

pytestmark = pytest.mark.devnet

ROOT = Path(__file__).resolve().parents[1]
CODE_AT = "0x00000000000000000000000000000000000000aa"
RICH = "0x00000000000000000000000000000000000000bb"
RUNTIME = "0x602a60005260206000f3"  # returns 42 as one word


def alive(pid: int) -> bool:
    """True if /proc shows the pid as a live (non-zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilNode]:
    started = start_node("og_evm", CHAINS["og_evm"], state_dir=tmp_path)
    yield started
    started.stop()


def test_all_chains_start_with_real_ids_then_stop_cleanly() -> None:
    with Devnet() as devnet:
        nodes = devnet.start()
        assert list(nodes) == ["og_evm", "alpha", "bsc", "base_sepolia", "base"]
        assert {key: int(rpc(n, "eth_chainId"), 16) for key, n in nodes.items()} == {
            "og_evm": 10740, "alpha": 10744, "bsc": 56, "base_sepolia": 84532, "base": 8453,
        }
        assert len({n.port for n in nodes.values()}) == 5
        assert all(n.home.is_dir() and alive(n.pid) for n in nodes.values())
        started = list(nodes.values())
    for n in started:
        assert not alive(n.pid)
        assert not n.home.exists()
        assert n.process.returncode is not None
    started[0].stop()  # idempotent


def test_mine_advances_head_and_snapshot_reverts(node: AnvilNode) -> None:
    assert block_number(node) == 0
    mine(node)
    mine(node, 4)
    assert block_number(node) == 5
    snap = snapshot(node)
    mine(node, 3)
    assert block_number(node) == 8
    revert(node, snap)
    assert block_number(node) == 5
    with pytest.raises(DevnetError, match="unknown snapshot"):
        revert(node, "0x99")


def test_block_time_mines_on_its_own() -> None:
    with Devnet() as devnet:
        bsc = devnet.start(keys=["bsc"], block_time=0.2)["bsc"]
        time.sleep(0.7)
        assert block_number(bsc) >= 2


def test_set_code_and_rpc_errors(node: AnvilNode) -> None:
    set_code(node, CODE_AT, RUNTIME)
    assert rpc(node, "eth_getCode", [CODE_AT, "latest"]) == RUNTIME
    assert int(rpc(node, "eth_call", [{"to": CODE_AT, "data": "0x"}, "latest"]), 16) == 42
    with pytest.raises(DevnetError, match="eth_noSuchMethod"):
        rpc(node, "eth_noSuchMethod")


def test_history_spills_into_the_node_home_and_stays_readable(node: AnvilNode) -> None:
    sender = rpc(node, "eth_accounts")[0]
    for value in (7, 1):  # automine: one block per transfer
        rpc(node, "eth_sendTransaction", [{"from": sender, "to": RICH, "value": hex(value)}])
    mine(node, 600)  # beyond the 500 states anvil keeps in memory at first
    assert [int(rpc(node, "eth_getBalance", [RICH, hex(b)]), 16) for b in (0, 1, 2)] == [0, 7, 8]
    spilled = list((node.home / ".foundry" / "anvil" / "tmp").rglob("*.json"))
    assert len(spilled) > 50, "anvil should spill old states under its own HOME"
    node.stop()
    assert not node.home.exists()


def test_dump_states_round_trip(tmp_path: Path) -> None:
    with Devnet() as devnet:
        nodes = devnet.start(keys=["og_evm", "bsc"])
        for n in nodes.values():
            set_code(n, CODE_AT, RUNTIME)
            rpc(n, "anvil_setBalance", [RICH, hex(10**21 + n.chain_id)])
            mine(n, 7)
        files = devnet.dump_states(tmp_path / "states")
    assert sorted(p.name for p in files.values()) == ["bsc.json", "og_evm.json"]
    assert int(json.loads(files["bsc"].read_text())["block"]["number"], 16) == 7
    with Devnet() as devnet:
        nodes = devnet.start(keys=["og_evm", "bsc"], states_dir=tmp_path / "states")
        for n in nodes.values():
            assert block_number(n) == 7
            assert int(rpc(n, "eth_getBalance", [RICH, "latest"]), 16) == 10**21 + n.chain_id
            assert rpc(n, "eth_getCode", [CODE_AT, "latest"]) == RUNTIME
            assert int(rpc(n, "eth_chainId"), 16) == n.chain_id


def test_failed_start_stops_the_nodes_that_did_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    homes = tmp_path / "homes"
    homes.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(homes))
    with Devnet() as devnet:
        devnet.start(keys=["og_evm"])
        devnet.dump_states(tmp_path / "states")
    devnet = Devnet()
    with pytest.raises(DevnetError, match="load_state file not found for bsc: .*bsc.json"):
        devnet.start(keys=["og_evm", "bsc"], states_dir=tmp_path / "states")
    assert devnet.nodes == {}
    assert list(homes.iterdir()) == []


def test_bad_load_state_gives_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DevnetError, match="load_state file not found for og_evm: .*missing.json"):
        start_node("og_evm", 10740, load_state=tmp_path / "missing.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{}")
    with pytest.raises(DevnetError, match="exited with 2: .*failed to parse json file") as info:
        start_node("og_evm", 10740, load_state=garbage, state_dir=tmp_path)
    assert "\n" not in str(info.value)
    assert not list(tmp_path.glob("ogwatch-anvil-*")), "a failed start must not leave its HOME"
    with pytest.raises(DevnetError, match="no_such"):
        Devnet().start(keys=["no_such"])
    with pytest.raises(DevnetError, match="run scripts/setup"):
        anvil_binary(tmp_path)


def test_stop_stops_all_nodes_even_if_one_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    devnet = Devnet()
    nodes = list(devnet.start(keys=["og_evm", "alpha", "bsc"]).values())

    def broken_stop() -> None:
        raise OSError("simulated")

    monkeypatch.setattr(nodes[0], "stop", broken_stop)
    with pytest.raises(DevnetError, match="og_evm: simulated"):
        devnet.stop()
    assert devnet.nodes == {}
    assert [alive(n.pid) for n in nodes[1:]] == [False, False]
    AnvilNode.stop(nodes[0])
    assert not alive(nodes[0].pid)


def test_node_started_from_a_short_lived_thread_survives_it(tmp_path: Path) -> None:
    box: list[AnvilNode] = []
    worker = threading.Thread(target=lambda: box.append(start_node("alpha", 10744, state_dir=tmp_path)))
    worker.start()
    worker.join()
    try:
        time.sleep(0.2)
        assert alive(box[0].pid)
        assert int(rpc(box[0], "eth_chainId"), 16) == 10744
    finally:
        box[0].stop()


CHILD = """
import json, sys, time
from devnet.nodes import Devnet
devnet = Devnet()
node = devnet.start(keys=["base"])["base"]
print(json.dumps({"pid": node.pid, "home": str(node.home)}), flush=True)
time.sleep(60)
"""


def spawn_child(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    env_code = f"import tempfile; tempfile.tempdir = {str(tmp_path)!r}\n" + textwrap.dedent(CHILD)
    child = subprocess.Popen([sys.executable, "-c", env_code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    info = json.loads(child.stdout.readline())
    assert alive(info["pid"])
    return child, info


def test_sigkilled_parent_leaves_no_anvil(tmp_path: Path) -> None:
    child, info = spawn_child(tmp_path)
    child.kill()
    child.wait()
    assert wait_dead(info["pid"]), "anvil outlived its SIGKILLed parent"
    home = Path(info["home"])
    assert home.is_dir()  # nobody could clean up; the next start sweeps it
    assert sweep_stale_homes(tmp_path) == [home]
    assert not home.exists()


def test_sigterm_to_parent_stops_nodes_and_removes_home(tmp_path: Path) -> None:
    child, info = spawn_child(tmp_path)
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=10) == 128 + signal.SIGTERM
    assert not alive(info["pid"])
    assert not Path(info["home"]).exists()
