"""Local anvil nodes, one per devnet chain, leaving no orphan process and no spilled state behind.

Each node runs the npm anvil binary (never npx) in its own process group with PR_SET_PDEATHSIG=SIGKILL
and its own temporary HOME, removed at stop: anvil spills old states to $HOME/.foundry/anvil/tmp.
History: once warm anvil keeps ~10 states in RAM plus ``--max-persisted-states`` on disk. 3,200 keeps
historical eth_call for 3,200 blocks (above the ~3,000 needed, below the default 3,600); spilled states
grow with height (idle chain at height 5,000: 1.6 GB in 3,199 files). 0 would keep only 500 blocks;
``--prune-history 3500`` keeps them in RAM instead (2.6 GB RSS at height 5,000).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gzip
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

CHAINS: dict[str, int] = {"og_evm": 10740, "alpha": 10744, "bsc": 56, "base_sepolia": 84532, "base": 8453}
PERSISTED_STATES = 3200
ACCOUNTS, BALANCE_ETH = 20, 1_000_000_000
READY_TIMEOUT_S, STOP_TIMEOUT_S = 10.0, 5.0
LOAD_S_PER_MB = 0.5  # loading a dumped state takes time in proportion to its size (seen: ~13 s for 1 GB)
HOME_PREFIX, PID_FILE, LOG_FILE = "ogwatch-anvil-", "anvil.pid", "anvil.log"
_PR_SET_PDEATHSIG, _PORT_ATTEMPTS = 1, 5
_local = threading.local()
_spawner: ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


class DevnetError(RuntimeError):
    """A devnet node or call failed; the message is one line."""


def anvil_binary(project_root: Path | str | None = None) -> Path:
    """Return the anvil binary installed by npm under project_root/node_modules."""
    root = Path(project_root) if project_root else Path(__file__).resolve().parents[1]
    arch = "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "amd64"
    path = root / "node_modules" / "@foundry-rs" / f"anvil-linux-{arch}" / "bin" / "anvil"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise DevnetError(f"anvil binary not found at {path}: run scripts/setup")
    return path


@dataclass
class AnvilNode:
    """One running anvil process and the temporary directory that serves as its HOME."""

    key: str
    chain_id: int
    port: int
    url: str
    process: subprocess.Popen[bytes]
    home: Path
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        """Return the anvil process id."""
        return self.process.pid

    def stop(self) -> None:
        """Terminate anvil (SIGTERM, SIGKILL after 5 s), reap it and remove its HOME; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        try:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if self.process.poll() is not None:  # reaped: the pid may belong to someone else now
                    break
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            shutil.rmtree(self.home, ignore_errors=True)


def _die_with_parent() -> Callable[[], None] | None:
    """Return a preexec_fn that makes the child get SIGKILL when this process dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _anvil_args(port: int, chain_id: int, block_time: float | None, load_state: Path | None) -> list[str]:
    """Build anvil's command-line arguments."""
    args = ["--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id), "--silent",
            "--accounts", str(ACCOUNTS), "--balance", str(BALANCE_ETH),
            "--max-persisted-states", str(PERSISTED_STATES)]
    args += ["--block-time", str(block_time)] if block_time is not None else []
    return args + (["--load-state", str(load_state)] if load_state is not None else [])


def _spawn(args: Sequence[str], home: Path) -> subprocess.Popen[bytes]:
    """Start anvil in its own process group, HOME set to home, output to the node's log file.

    PDEATHSIG fires when the forking *thread* exits, so off the main thread anvil is forked from one
    long-lived worker thread rather than from a short-lived caller (a Streamlit script run, say).
    """
    global _spawner
    with open(home / LOG_FILE, "wb") as log:

        def popen() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [str(anvil_binary()), *args], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env={**os.environ, "HOME": str(home)}, cwd=home, process_group=0,
                preexec_fn=_die_with_parent(),
            )

        if threading.current_thread() is threading.main_thread():
            process = popen()
        else:
            with _spawner_lock:
                _spawner = _spawner or ThreadPoolExecutor(1, thread_name_prefix="anvil-spawner")
            process = _spawner.submit(popen).result()
    (home / PID_FILE).write_text(str(process.pid))
    return process


def _log_tail(home: Path, limit: int = 300) -> str:
    """Return the end of a node's log as one line."""
    log = home / LOG_FILE
    return " ".join(log.read_text(errors="replace").split())[-limit:] if log.is_file() else ""


def _wait_ready(node: AnvilNode, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll eth_chainId until anvil answers with the expected id; raise if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            code = node.process.returncode
            raise DevnetError(f"anvil {node.key} exited with {code}: {_log_tail(node.home)}")
        try:
            answered = int(_post(node.url, "eth_chainId", [], 1.0)["result"], 16)
        except (requests.RequestException, ValueError, KeyError):
            time.sleep(0.01)
            continue
        if answered != node.chain_id:
            raise DevnetError(f"port {node.port} answers chain id {answered}, not {node.chain_id}")
        return
    raise DevnetError(f"anvil {node.key} not ready after {timeout:.0f} s: {_log_tail(node.home)}")


def start_node(key: str, chain_id: int, *, port: int | None = None, block_time: float | None = None,
               load_state: Path | str | None = None, state_dir: Path | str | None = None,
               extra_args: Iterable[str] = ()) -> AnvilNode:
    """Start anvil for one chain; state_dir is where its temporary HOME goes (default: system temp)."""
    state = Path(load_state) if load_state is not None else None
    if state is not None and not state.is_file():
        raise DevnetError(f"load_state file not found for {key}: {state}")
    sweep_stale_homes(state_dir)
    for attempt in range(_PORT_ATTEMPTS):
        chosen = port or free_port()
        home = Path(tempfile.mkdtemp(prefix=f"{HOME_PREFIX}{key}-", dir=state_dir))
        args = [*_anvil_args(chosen, chain_id, block_time, state), *extra_args]
        node = AnvilNode(key, chain_id, chosen, f"http://127.0.0.1:{chosen}", _spawn(args, home), home)
        atexit.register(node.stop)
        try:
            _wait_ready(node, READY_TIMEOUT_S + (LOAD_S_PER_MB * state.stat().st_size / 1e6 if state else 0.0))
            return node
        except DevnetError as exc:
            node.stop()
            raced = port is None and "Address already in use" in str(exc)
            if not raced or attempt == _PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _pid_alive(pid: int) -> bool:
    """Return True if pid exists and is not a zombie (reads /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def sweep_stale_homes(base: Path | str | None = None) -> list[Path]:
    """Remove node HOMEs left by a killed parent (their anvil is gone); return what was removed."""
    removed = []
    for home in Path(base or tempfile.gettempdir()).glob(f"{HOME_PREFIX}*"):
        pid_text = (home / PID_FILE).read_text() if (home / PID_FILE).is_file() else ""
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(home, ignore_errors=True)
            removed.append(home)
    return removed


def _session() -> requests.Session:
    """Return this thread's HTTP session (keep-alive to the nodes)."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session  # type: ignore[no-any-return]


def _post(url: str, method: str, params: list[Any], timeout: float) -> dict[str, Any]:
    """POST one JSON-RPC request and return the decoded reply."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    reply: dict[str, Any] = _session().post(url, json=body, timeout=timeout).json()
    return reply


def rpc(node: AnvilNode | str, method: str, params: Sequence[Any] = (), *, timeout: float = 60.0) -> Any:
    """Call one JSON-RPC method on a node (or URL) and return its result."""
    url = node if isinstance(node, str) else node.url
    try:
        reply = _post(url, method, list(params), timeout)
    except (requests.RequestException, ValueError) as exc:
        raise DevnetError(f"{method} on {url}: {type(exc).__name__}: {exc}") from exc
    error = reply.get("error")
    if error is not None:
        message = error.get("message") if isinstance(error, dict) else error
        raise DevnetError(f"{method} on {url}: {' '.join(str(message).split())}")
    return reply.get("result")


def rpc_batch(url: str, calls: Sequence[tuple[str, list[Any]]], *, timeout: float = 120.0) -> list[Any]:
    """Several JSON-RPC calls in one HTTP request; results in call order, any error raises."""
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    try:
        replies = _session().post(url, json=body, timeout=timeout).json()
    except (requests.RequestException, ValueError) as exc:
        raise DevnetError(f"batch of {len(calls)} on {url}: {type(exc).__name__}: {exc}") from exc
    by_id = {r.get("id"): r for r in replies}
    out = []
    for i, (method, _params) in enumerate(calls):
        reply = by_id.get(i) or {"error": {"message": "missing from batch answer"}}
        if reply.get("error") is not None:
            raise DevnetError(f"{method} on {url}: {' '.join(str(reply['error']).split())}")
        out.append(reply.get("result"))
    return out


def block_number(node: AnvilNode) -> int:
    """Return the node's head block number."""
    return int(rpc(node, "eth_blockNumber"), 16)


def mine(node: AnvilNode, n: int = 1) -> None:
    """Mine n blocks at once."""
    rpc(node, "anvil_mine", [hex(n)])


def set_code(node: AnvilNode, address: str, runtime_hex: str) -> None:
    """Replace the runtime bytecode at address."""
    rpc(node, "anvil_setCode", [address, runtime_hex if runtime_hex.startswith("0x") else "0x" + runtime_hex])


def snapshot(node: AnvilNode) -> str:
    """Take an EVM snapshot and return its id."""
    return str(rpc(node, "evm_snapshot"))


def revert(node: AnvilNode, snapshot_id: str) -> None:
    """Revert to a snapshot taken with snapshot(); raise if anvil does not know it."""
    if not rpc(node, "evm_revert", [snapshot_id]):
        raise DevnetError(f"evm_revert on {node.key}: unknown snapshot {snapshot_id}")


def dump_state(node: AnvilNode, path: Path | str) -> Path:
    """Write the node's state as the plain JSON that --load-state accepts (anvil returns hex gzip)."""
    raw = bytes.fromhex(str(rpc(node, "anvil_dumpState")).removeprefix("0x"))
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def _dump_args(dump_dir: Path | str | None, key: str) -> tuple[str, ...]:
    if dump_dir is None:
        return ()
    return ("--preserve-historical-states", "--dump-state", str(Path(dump_dir) / f"{key}.json"))


class Devnet:
    """Several anvil nodes keyed by chain key; a context manager that always stops them all."""

    def __init__(self) -> None:
        self.nodes: dict[str, AnvilNode] = {}

    def start(self, keys: Iterable[str] | None = None, block_time: float | None = None,
              states_dir: Path | str | None = None, dump_dir: Path | str | None = None) -> dict[str, AnvilNode]:
        """Start one node per key (default: all CHAINS), loading <states_dir>/<key>.json if given.

        With `dump_dir`, each node writes its state with every historical state to <dump_dir>/<key>.json
        when it stops (the anvil_dumpState RPC leaves history out, so eth_call at old blocks would fail
        after a reload). Only for short-lived builds: anvil also rewrites that file periodically.
        """
        wanted = list(keys) if keys is not None else list(CHAINS)
        unknown = [key for key in wanted if key not in CHAINS or key in self.nodes]
        if unknown:
            raise DevnetError(f"unknown or already running chain keys {unknown}; known: {sorted(CHAINS)}")
        _install_sigterm_exit()
        atexit.register(self.stop)
        states = {key: Path(states_dir) / f"{key}.json" if states_dir else None for key in wanted}
        try:  # in parallel; each anvil start-up takes ~70 ms of CPU
            with ThreadPoolExecutor(max(1, len(wanted)), thread_name_prefix="devnet-start") as pool:
                futures = {key: pool.submit(start_node, key, CHAINS[key], block_time=block_time,
                                            load_state=states[key], extra_args=_dump_args(dump_dir, key))
                           for key in wanted}
            self.nodes.update({key: f.result() for key, f in futures.items() if f.exception() is None})
            failure = next((f.exception() for f in futures.values() if f.exception() is not None), None)
            if failure is not None:
                raise failure
        except BaseException:
            self.stop()
            raise
        return self.nodes

    def stop(self) -> None:
        """Stop every node, even if stopping one fails; raise one DevnetError naming the failures."""
        atexit.unregister(self.stop)
        failures: list[str] = []
        for key, node in list(self.nodes.items()):
            try:
                node.stop()
            except Exception as exc:  # keep stopping the others
                failures.append(f"{key}: {exc}")
        self.nodes.clear()
        if failures:
            raise DevnetError(f"could not stop {len(failures)} node(s): {'; '.join(failures)}")

    def dump_states(self, directory: Path | str) -> dict[str, Path]:
        """Write <key>.json for every node into directory (created if missing)."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        return {key: dump_state(node, target / f"{key}.json") for key, node in self.nodes.items()}

    def __enter__(self) -> Devnet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _install_sigterm_exit() -> None:
    """On the main thread, turn an unhandled SIGTERM into SystemExit so the nodes get stopped."""
    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
