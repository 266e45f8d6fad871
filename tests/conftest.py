"""Shared test helpers: temporary configs and running the real `ogwatch` command."""

from __future__ import annotations

import os
import subprocess
import sys
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
