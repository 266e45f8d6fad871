"""`ogwatch verification`: the verification headline with n and the production definition in use.

    ogwatch verification [--network NET] [--since ISO-TIME] [--bucket hour|day] [--json]

Everything comes from the store (the same named queries as the Verification page), never from a chain.
`--json` prints one object:

    {"headline": {"status": "ok" | "no production-tagged source" | "no production inference in this selection",
                  "text": str, "vanilla_share": float | null, "vanilla": int, "n": int},
     "trend": {"bucket", "points", "latest": {"bucket", "share", "n"} | null, "previous": ... | null,
               "change": float | null},
     "production": {"n": int, "modes": {"VANILLA"|"TEE"|"ZKML"|...: {"count": int, "share": float | null}}},
     "all": same shape as production,
     "production_definition": {"networks": [key], "callers": [{"network", "address", "label"}],
                               "simulations_count": false, "text": str},
     "coverage": {"indexed", "derived", "pending", "caller_from_trace", "caller_from_tx_to", "paired_with_result",
                  "workflow_linked", "workflow_results"},
     "settlement": {"rows": [{"chain_id", "settlements", "settled_inferences", "lag_p50_s", "lag_p95_s",
                              "lag_max_s", "last_settlement_ts", "blobs_verified", "blobs_mismatch",
                              "blobs_unavailable", ...}]} | null}

A share is never printed without its n; with nothing tagged production the headline says
"no production-tagged source" with n, never "0 %". Bad input is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from ogwatch.config import Config


def add_arguments(sp: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    sp.add_argument("--network", help="only this network (default: all)")
    sp.add_argument("--since", help="only inferences at or after this time (ISO 8601, UTC when no zone)")
    sp.add_argument("--bucket", choices=("hour", "day"), default="hour", help="trend bucket (default hour)")
    sp.add_argument("--json", action="store_true", help="print JSON (shape in `ogwatch.verification_cli`)")


def _fail(line: str) -> int:
    print(f"ogwatch: {line}", file=sys.stderr)
    return 2


def main(cfg: Config, args: argparse.Namespace) -> int:
    """Run `ogwatch verification`."""
    from ogwatch.ui import verification_data as vd
    from store.db import Reader

    network = getattr(args, "network", None)
    if network and network not in cfg.networks:
        return _fail(f"unknown network {network!r}; known: {', '.join(sorted(cfg.networks))}")
    since = None
    if getattr(args, "since", None):
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            return _fail(f"--since {args.since!r} is not an ISO 8601 time (e.g. 2026-01-31T12:00)")
    chain_id = cfg.networks[network].chain_id if network else None
    reader = Reader(cfg.store.path)
    view = vd.headline(cfg, reader.query, chain_id, since, getattr(args, "bucket", "hour") or "hour")
    view["settlement"] = vd.settlement(reader.query, chain_id)
    print(json.dumps(view, default=str) if args.json else _text(view))
    return 0


def _secs(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):,.0f} s"


def _modes(scope: dict[str, Any]) -> str:
    from ogwatch.ui.verification_data import pct

    parts = [f"{m} {v['count']} ({pct(v['share'])})" for m, v in scope["modes"].items()]
    return ", ".join(parts) + f"  [n = {scope['n']}]"


def _text(v: dict[str, Any]) -> str:
    from ogwatch.ui.verification_data import pct

    h, t, cov = v["headline"], v["trend"], v["coverage"]
    lines = [f"Vanilla in production: {h['text']}"]
    if t["latest"] is not None:
        prev = (f"; previous {t['bucket']} {pct(t['previous']['share'])} (n = {t['previous']['n']})"
                if t["previous"] else "; no earlier bucket to compare")
        lines.append(f"  trend: latest {t['bucket']} {pct(t['latest']['share'])} (n = {t['latest']['n']}){prev}")
    lines += [f"  production: {_modes(v['production'])}", f"  all:        {_modes(v['all'])}",
              f"  definition: {v['production_definition']['text']}",
              f"  coverage: {cov['derived']} of {cov['indexed']} indexed inferences derived "
              f"({cov['pending']} pending); "
              f"callers from traces {cov['caller_from_trace']}, from the tx `to` {cov['caller_from_tx_to']}; "
              f"workflow repeats linked {cov['workflow_linked']} of {cov['workflow_results']}"]
    s = v.get("settlement")
    if s is None:
        lines.append("settlement: not available")
    elif not s["rows"]:
        lines.append("settlement: no settlement indexed yet")
    for r in (s or {}).get("rows", []):
        lags = ", ".join(f"{k} {_secs(r.get(f'lag_{k}_s'))}" for k in ("p50", "p95", "max"))
        lines.append(f"settlement (chain {r.get('chain_id')}): {r.get('settlements')} settlements, "
                     f"{r.get('settled_inferences')} inferences; lag {lags}; blobs verified {r.get('blobs_verified')}, "
                     f"mismatch {r.get('blobs_mismatch')}, unavailable {r.get('blobs_unavailable')}")
    return "\n".join(lines)
