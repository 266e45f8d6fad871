"""`ogwatch concentration`: how concentrated TEE operators and validators are now, per identifier and per entity.

    ogwatch concentration [--network NET] [--json]

Everything comes from the store (the same named queries as the page), grouped by the config's
`[[entities]]`. `--json` prints one object:

    {"hhi_bands": [low, high], "hhi_band_source": str, "thresholds": str,
     "layers": {"validators" | "tee_active" | "tee_work": {
         "source": "staking"|"cometbft"|null, "read_block": int|null,      (validators)
         "read_blocks": {registry: block},                                 (tee_active)
         "coverage": {"settled", "attributable", "share", "batch_leaves"},  (tee_work)
         "per_identifier" | "per_entity": {
             "metrics": {"total", "count", "participants", "nakamoto": {"1/3", "1/2", "2/3"}, "hhi", "band",
                         "gini", "top1", "top3"} | null (no data),
             "rows": [{"identifier", "entity", "mapped", "mapping_source", "weight", "share"}]   (per identifier)
                     [{"entity", "weight", "share", "identifiers", "mapped"}]                    (per entity)
             "lorenz": [[population share, weight share], ...]}}}}

An unknown network prints one line to stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ogwatch.config import Config


def add_arguments(sp: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    sp.add_argument("--network", help="only this network")
    sp.add_argument("--json", action="store_true", help="print JSON (shape in `ogwatch.concentration_cli`)")


def main(cfg: Config, args: argparse.Namespace) -> int:
    """Run `ogwatch concentration`."""
    from ogwatch.ui import concentration_data as cd
    from store.db import Reader

    network = getattr(args, "network", None)
    if network and network not in cfg.networks:
        print(f"ogwatch: unknown network {network!r}; known: {', '.join(sorted(cfg.networks))}", file=sys.stderr)
        return 2
    chain_id = cfg.networks[network].chain_id if network else None
    view = cd.summary(cfg, Reader(cfg.store.path).query, chain_id)
    print(json.dumps(view) if args.json else text(view))
    return 0


def _metrics_line(m: dict[str, Any] | None) -> str:
    if m is None:
        return "no data"
    n = m["nakamoto"]
    return (f"Nakamoto 1/3={n.get('1/3')} 1/2={n.get('1/2')} 2/3={n.get('2/3')}, HHI {m['hhi']:,.0f} ({m['band']}), "
            f"Gini {m['gini']:.3f}, top-1 {m['top1']:.1%}, top-3 {m['top3']:.1%}, {m['count']} with weight")


def text(view: dict[str, Any]) -> str:
    """The summary as lines for a terminal."""
    from ogwatch.ui import concentration_data as cd

    low, high = view["hhi_bands"]
    lines = [f"HHI bands: above {low:,.0f} moderately, above {high:,.0f} highly concentrated "
             f"({view['hhi_band_source']}).", view["thresholds"]]
    for key, layer in view["layers"].items():
        lines.append(f"\n{cd.MEASURES[key]}")
        cov = layer.get("coverage")
        if cov:
            share = "n/a" if cov["share"] is None else f"{cov['share']:.1%}"
            lines.append(f"  coverage: {cov['attributable']:,.0f} of {cov['settled']:,.0f} settled inferences "
                         f"attributable to a TEE ({share})")
        for view_key, label in (("per_identifier", "per identifier"), ("per_entity", "per entity")):
            part = layer[view_key]
            lines.append(f"  {label}: {_metrics_line(part['metrics'])}")
        for r in layer["per_identifier"]["rows"]:
            share = "n/a" if r["share"] is None else f"{r['share']:.1%}"
            who = r["entity"] if r["mapped"] else "unmapped"
            lines.append(f"    {r['identifier']}  {r['weight']:,.0f}  {share}  ({who})")
    return "\n".join(lines)
