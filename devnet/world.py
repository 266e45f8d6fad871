"""The devnet world: five anvil nodes, the HTTP stand-ins, the deployment, saved and restored as one.

A world is started fresh (nodes + deployment) or from a saved directory (chain states, deployment,
Walrus blobs, CometBFT validators, ground truth), so tests and the demo need not rebuild history.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from devnet import deploy, nodes
from devnet.chain import Chain
from devnet.deploy import Deployment
from devnet.standins import CometBFTStandIn, CometValidator, WalrusStandIn
from devnet.truth import Truth

DEPLOYMENT_FILE, WALRUS_FILE, COMET_FILE, TRUTH_FILE = "deployment.json", "walrus.json", "comet.json", "truth.jsonl"


def partial_dir(target: Path | str) -> Path:
    """Where a world being saved to `target` is assembled before it is renamed into place."""
    return Path(target).with_name(Path(target).name + ".partial")


@dataclass
class World:
    """Running nodes, stand-ins and what is deployed on them."""

    devnet: nodes.Devnet
    chains: dict[str, Chain]
    dep: Deployment
    walrus: WalrusStandIn
    comet: CometBFTStandIn
    dump_dir: Path | None = None

    @property
    def urls(self) -> dict[str, str]:
        """RPC URL per chain key."""
        return {k: c.url for k, c in self.chains.items()}

    def config_toml(self, store_path: str) -> str:
        """An ogwatch config pointing at this world."""
        extra = (f"\n# Devnet stand-ins: Walrus aggregator {self.walrus.url}, CometBFT RPC {self.comet.url}\n")
        return deploy.config_toml(self.dep, self.urls, store_path, extra)

    def save_and_stop(self, directory: Path | str, truth_file: Path | None = None) -> Path:
        """Stop a world started with `dump_to`, and keep its states (with history) and all beside them.

        The directory appears complete or not at all (written under a temporary name, then renamed).
        """
        if self.dump_dir is None:
            raise nodes.DevnetError("this world was not started with dump_to: its history cannot be saved")
        target, tmp = Path(directory), self.dump_dir
        self.dep.save(tmp / DEPLOYMENT_FILE)
        blobs = {k: base64.b64encode(v).decode() for k, v in self.walrus.blobs().items()}
        (tmp / WALRUS_FILE).write_text(json.dumps(blobs, sort_keys=True))
        (tmp / COMET_FILE).write_text(json.dumps([asdict(v) for v in self.comet.validators()]))
        if truth_file is not None:
            shutil.copyfile(truth_file, tmp / TRUTH_FILE)
        self.stop()  # anvil writes <key>.json with every historical state as it exits
        missing = [k for k in self.chains if not (tmp / f"{k}.json").exists()]
        if missing:
            raise nodes.DevnetError(f"anvil wrote no state for {missing} in {tmp}")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        return target

    def stop(self) -> None:
        """Stop stand-ins and nodes."""
        self.walrus.stop()
        self.comet.stop()
        self.devnet.stop()


def start(saved: Path | str | None = None, keys: list[str] | None = None, block_time: float | None = None,
          dump_to: Path | str | None = None, truth: Truth | None = None) -> World:
    """Start a fresh world (deploying everything) or restore a saved one.

    `dump_to` names the directory `save_and_stop` will fill; the nodes then keep every historical
    state so that a restored world still answers eth_call at old blocks.
    """
    dump_dir = partial_dir(dump_to) if dump_to is not None else None
    if dump_dir is not None:
        dump_dir.mkdir(parents=True, exist_ok=True)
    devnet = nodes.Devnet()
    walrus, comet = WalrusStandIn().start(), CometBFTStandIn().start()
    try:
        running = devnet.start(keys=keys, block_time=block_time, states_dir=saved, dump_dir=dump_dir)
        chains = deploy.chains_for(running)
        if saved is None:
            dep = deploy.deploy_all(chains, truth)
        else:
            src = Path(saved)
            dep = Deployment.load(src / DEPLOYMENT_FILE)
            for blob_id, data in json.loads((src / WALRUS_FILE).read_text()).items():
                walrus.put(blob_id, base64.b64decode(data))
            comet.set_validators(CometValidator(**v) for v in json.loads((src / COMET_FILE).read_text()))
    except BaseException:
        walrus.stop()
        comet.stop()
        devnet.stop()
        raise
    return World(devnet, chains, dep, walrus, comet, dump_dir)
