"""Shared test helpers: temporary configs and running the real `ogwatch` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BASE_CONFIG = """
[store]
path = "{store}"

[service]
heartbeat_seconds = {beat}

[networks.local]
name = "Local test chain"
chain_id = 31337
rpc_urls = ["http://127.0.0.1:9"]
"""


def write_config(directory: Path, extra: str = "", beat: float = 15.0) -> Path:
    """A minimal valid config with its store inside `directory`."""
    path = directory / "config.toml"
    path.write_text(BASE_CONFIG.format(store=directory / "ogwatch.duckdb", beat=beat) + extra)
    return path


def ogwatch(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process."""
    return subprocess.run([sys.executable, "-m", "ogwatch", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def cfg_path(tmp_path: Path) -> Path:
    """A minimal config in a fresh directory."""
    return write_config(tmp_path)


# ---- the devnet shared by the whole run: built once into a cache, then restored from its dump ----
FIXTURE_SEED, FIXTURE_TRADES, FIXTURE_INFERENCES = 7, 2000, 2000


def _fixture_key() -> str:
    import hashlib

    h = hashlib.sha256(f"{FIXTURE_SEED}/{FIXTURE_TRADES}/{FIXTURE_INFERENCES}".encode())
    for path in sorted([*(ROOT / "devnet").glob("*.py"), *(ROOT / "devnet").glob("*.mjs"),
                        *(ROOT / "devnet" / "artifacts").glob("*.json")]):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="session")
def devnet_snapshot() -> Path:
    """A saved devnet world (states with history, deployment, stand-in data, ground truth), built once.

    Several test runs on one checkout wait for each other (a file lock) rather than build the same world twice.
    """
    import fcntl

    from devnet.simulator import build_snapshot

    target = ROOT / "data" / "cache" / f"devnet-{_fixture_key()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            build_snapshot(target, FIXTURE_SEED, FIXTURE_TRADES, FIXTURE_INFERENCES)
    return target


@pytest.fixture(scope="session")
def devnet_world(devnet_snapshot):
    """The devnet restored from the snapshot, shared by every test of the run; stopped at the end."""
    from devnet import world

    w = world.start(devnet_snapshot)
    yield w
    w.stop()


@contextmanager
def dashboard_on(config: Path | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the dashboard (AppTest) at a config, with Streamlit's caches empty before and after."""
    import streamlit as st

    monkeypatch.setenv("OGWATCH_CONFIG", str(config))
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        yield
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
