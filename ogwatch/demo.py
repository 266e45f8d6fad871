"""`ogwatch demo`: start the whole product on the embedded default and supervise it until Ctrl-C.

Starts the scheduler (the store's writer) and the dashboard as child processes, prints where to
look, and stops every child cleanly on Ctrl-C or when one of them dies.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _spawn(args: list[str], config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(config), *args], cwd=Path.cwd())


def stop_all(children: list[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    """SIGTERM every child, wait, then SIGKILL what is left; never leaves orphans."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(args: argparse.Namespace) -> int:
    """Run until interrupted; exit non-zero if a service died on its own."""
    from ogwatch.cli import config_path

    config = config_path(args.config)
    print("ogwatch demo: no devnet yet in this build, so the store stays empty until real RPC URLs are set.")
    children = [_spawn(["run"], config), _spawn(["serve", "--port", str(args.port)], config)]
    print(f"  dashboard:  http://127.0.0.1:{args.port}")
    print(f"  config:     {config}")
    print("  Ctrl-C stops everything.", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        print("ogwatch demo: a service stopped on its own; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all(children)
