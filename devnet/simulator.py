"""The seeded scenario simulator: drives markets and the AI network on a devnet world.

Reproducible in what it intends for a given seed. Three ways to run it: `scripted` (the catalogue of
every kind of event, once), `live` (a steady trickle until stopped) and `bulk` (N events as fast as
the nodes take them). Every action lands in the ground truth (`devnet.truth`) with its receipt.
"""

from __future__ import annotations

import logging
import random
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from devnet.scenario_ai import AIScenario, ModeMix
from devnet.scenario_markets import MarketScenario
from devnet.truth import Truth
from devnet.world import World

log = logging.getLogger("devnet.simulator")


@dataclass
class Simulator:
    """One seeded scenario over a world; markets and AI draw from separate seeded streams."""

    world: World
    truth: Truth
    seed: int = 1
    mix: ModeMix | None = None
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        w = self.world
        self.markets = MarketScenario(w.chains, w.dep, self.truth, random.Random(self.seed * 1000 + 1))
        self.ai = AIScenario(w.chains, w.dep, self.truth, random.Random(self.seed * 1000 + 2), w.walrus, w.comet,
                             self.mix)
        self._live_rng = random.Random(self.seed * 1000 + 3)

    def setup_and_script(self) -> None:
        """Set the world up and play the whole catalogue once."""
        self.markets.setup()
        self.ai.setup()
        self.markets.scripted()
        self.ai.scripted()

    def bulk(self, trades: int, inferences: int) -> tuple[int, int]:
        """As many trades and inferences as asked, as fast as the nodes take them."""
        return self.markets.bulk_trades(trades), self.ai.bulk(inferences)

    def live(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        """A steady trickle until `stop` is set; a failed step is logged and the trickle goes on."""
        while not stop.is_set():
            try:
                if self._live_rng.random() < 0.5:
                    self.markets.random_trade()
                else:
                    self.ai.random_step()
            except Exception as exc:  # a live demo must survive one bad step; the error stays visible
                self.errors.append(f"{type(exc).__name__}: {exc}")
                log.warning("simulator step failed: %s", exc)
            stop.wait(interval_s * (0.5 + self._live_rng.random()))

    def start_live(self, interval_s: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        """Run `live` in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.live, args=(stop, interval_s), name="simulator", daemon=True)
        thread.start()
        return thread, stop


def build_snapshot(directory: Path, seed: int, trades: int, inferences: int) -> dict[str, float]:
    """Build a world from scratch, play the catalogue and bulk load, and save it (with history)."""
    from devnet import world as worldmod

    started = time.monotonic()
    partial = worldmod.partial_dir(directory)
    shutil.rmtree(partial, ignore_errors=True)
    truth = Truth(partial / worldmod.TRUTH_FILE)  # the deployment's own transactions are recorded too
    w = worldmod.start(dump_to=directory, truth=truth)
    try:
        sim = Simulator(w, truth, seed)
        sim.setup_and_script()
        scripted_s = time.monotonic() - started
        sim.bulk(trades, inferences)
    except BaseException:
        truth.close()
        w.stop()
        raise
    truth.close()
    w.save_and_stop(directory)
    return {"scripted_s": scripted_s, "total_s": time.monotonic() - started, "actions": truth.count}
