"""`ogwatch demo`: the whole product on the embedded default, supervised until Ctrl-C.

Starts the five devnet chains with every contract deployed, plays the simulator's catalogue, keeps
a live trickle of trades and inferences going, writes a config for that world, starts the
scheduler (the store's writer) and the dashboard as child processes, and prints where to look.
Ctrl-C (or SIGTERM) stops everything; if a service dies on its own the rest is stopped too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devnet.world import World

DEMO_DIR = Path("data/demo")


def _spawn(args: list[str], config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "ogwatch", "--config", str(config), *args])


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


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    """Run until interrupted; exit non-zero if a service died on its own."""
    from devnet import world as worldmod
    from devnet.simulator import Simulator
    from devnet.truth import Truth

    # Ctrl-C and SIGTERM stop everything, also when the demo was started with SIGINT ignored (a background job of
    # a shell without job control passes SIG_IGN down, and Python then installs no KeyboardInterrupt handler).
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    # A fresh devnet has a new genesis: the previous demo's store describes chains that are gone.
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    print("ogwatch demo: starting five devnet chains and deploying the contracts ...", flush=True)
    truth = Truth(DEMO_DIR / "truth.jsonl")
    world = worldmod.start(truth=truth)
    children: list[subprocess.Popen[bytes]] = []
    try:
        sim = Simulator(world, truth, seed=args.seed)
        print("ogwatch demo: playing the scenario (fee changes, upgrades, inferences, settlements) ...", flush=True)
        sim.setup_and_script()
        config = DEMO_DIR / "config.toml"
        config.write_text(demo_config(world))
        sim.start_live(args.interval)
        children = [_spawn(["run"], config), _spawn(["serve", "--port", str(args.port)], config)]
        _print_where(world, config, args.port)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        print("ogwatch demo: a service stopped on its own; stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nogwatch demo: stopping ...", flush=True)
        return 0
    finally:
        stop_all(children)
        truth.close()
        world.stop()


def demo_config(world: World) -> str:
    """The world's config plus what the demo turns on: the stand-ins' URLs and the tagged caller contracts."""
    text = world.config_toml("ogwatch.duckdb").replace(
        "[networks.og_evm]\n",
        f'[networks.og_evm]\nwalrus_aggregator_url = "{world.walrus.url}"\ncometbft_url = "{world.comet.url}"\n', 1)
    callers = [c for c in world.dep.contracts if c.artifact == "InferenceCaller"]
    return text + "".join(f'\n[[callers]]\nnetwork = "{c.chain}"\naddress = "{c.address}"\nlabel = "{c.label}"\n'
                          f"tags = {json.dumps(c.tags)}\n"  # a JSON list of strings is a TOML array
                          for c in callers)


def _print_where(world: object, config: Path, port: int) -> None:
    from devnet.world import World

    assert isinstance(world, World)
    print(f"\n  dashboard      http://127.0.0.1:{port}")
    for key, url in world.urls.items():
        print(f"  chain {key:<12} {url}  (chain id {world.chains[key].chain_id})")
    print(f"  walrus         {world.walrus.url}\n  cometbft       {world.comet.url}")
    print(f"  config         {config}\n  ground truth   {DEMO_DIR / 'truth.jsonl'}")
    print("\n  Ctrl-C stops everything.", flush=True)
