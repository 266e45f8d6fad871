"""Verification watch data for the page and the CLI: the production definition, the headline, shares, tables.

Everything reads named queries (`verification_*`, store/queries_verification.py) through a `Runner`
(name, **params) -> DataFrame: the cached `ogwatch.ui.data.query` for the page, a store Reader for the
CLI, so both show the same numbers. The production definition comes from the config and is passed to the
queries as parameters; it is returned beside every number so it is always visible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ogwatch import config as configmod
from store.errors import StoreError

Runner = Callable[..., pd.DataFrame]
MODES = ("VANILLA", "TEE", "ZKML")
NO_SOURCE = "no production-tagged source"
NO_PRODUCTION = "no production inference in this selection"
PRIVATE_NOTE = ("Private-mode LLM inferences leave no trace on chain (only the x402 payment on Base), so they are "
                "not counted here: the shares cover on-chain inference only.")
PROMISES = {
    "VANILLA": "a signed record of the request and answer: no proof that the stated model produced the answer.",
    "TEE": "hardware attestation: the answer came from a measured enclave build; it trusts the chip vendor and "
           "the approved enclave measurements, and proves nothing about the model's quality.",
    "ZKML": "a zero-knowledge proof that the stated model produced the answer from the input; it says nothing "
            "about whether the model is good, and large proofs sit off chain (Walrus) with a reference on chain.",
}


INFERENCE_KINDS = frozenset({"inference_hub", "inference_precompile", "workflow"})


@dataclass(frozen=True)
class Production:
    """Which inferences count as production under the config in use."""

    networks: tuple[str, ...]                    # inference networks with production = true
    test_networks: tuple[str, ...]               # inference networks that are not production
    callers: tuple[tuple[str, str, str], ...]    # (network, address, label) tagged "production"
    chain_ids: dict[str, int]

    def tagged(self, chain_id: int | None = None) -> bool:
        """Whether anything is production (on one chain, or anywhere)."""
        keys = [*self.networks, *(n for n, _a, _l in self.callers)]
        return any(chain_id is None or self.chain_ids[k] == chain_id for k in keys)

    @property
    def chain_params(self) -> str:
        """`prod_chains` query parameter."""
        return ",".join(str(self.chain_ids[k]) for k in self.networks)

    @property
    def caller_params(self) -> str:
        """`prod_callers` query parameter."""
        return ",".join(f"{self.chain_ids[n]}:{a.lower()}" for n, a, _l in self.callers)

    def text(self) -> str:
        """The definition in one sentence."""
        nets = ", ".join(self.networks) or "none"
        tests = f"; test networks: {', '.join(self.test_networks)}" if self.test_networks else ""
        calls = ", ".join(f"{label or address} ({net})" for net, address, label in self.callers) or "none"
        return (f"Production = an inference on a production network ({nets}{tests}) or made by a "
                f"production-tagged caller ({calls}); simulation results never count.")

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"networks": list(self.networks), "test_networks": list(self.test_networks),
                "callers": [{"network": n, "address": a, "label": lbl} for n, a, lbl in self.callers],
                "simulations_count": False, "text": self.text()}


def production(cfg: configmod.Config) -> Production:
    """The production definition of a config: inference networks marked `production`, and callers tagged
    "production" in `[[callers]]` (or a `[[contracts]]` entry, such as a workflow, carrying that tag)."""
    inference = [k for k in cfg.networks if any(c.kind in INFERENCE_KINDS for c in cfg.contracts_on(k))]
    seen: dict[tuple[str, str], str] = {}
    tagged = [(c.network, c.address, c.label, c.tags) for c in cfg.callers]
    tagged += [(c.network, c.address, c.label, c.tags) for c in cfg.contracts if c.kind in INFERENCE_KINDS]
    for net, address, label, tags in tagged:
        if "production" in tags:
            seen.setdefault((net, address), label)
    return Production(tuple(k for k in inference if cfg.networks[k].production),
                      tuple(k for k in inference if not cfg.networks[k].production),
                      tuple((n, a, lbl) for (n, a), lbl in seen.items()),
                      {k: n.chain_id for k, n in cfg.networks.items()})


def params(cfg: configmod.Config, chain_id: int | None, since: datetime | None) -> dict[str, Any]:
    """The bound parameters every verification query takes."""
    p = production(cfg)
    return {"chain_id": chain_id, "since": since, "prod_chains": p.chain_params, "prod_callers": p.caller_params}


def clean(value: Any) -> Any:
    """A cell as plain JSON-able Python (NaN -> None, numpy -> int/float/bool, times -> ISO)."""
    if value is None or (not isinstance(value, list | dict | str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).tz_convert(UTC).isoformat() if pd.Timestamp(value).tzinfo else value.isoformat()
    return value.item() if hasattr(value, "item") else value


def pct(share: float | None) -> str:
    """'42.5 %' (or 'n/a')."""
    return "n/a" if share is None else f"{share * 100:.1f} %"


def _scope(modes: pd.DataFrame, scope: str) -> dict[str, Any]:
    part = modes[modes["scope"] == scope] if not modes.empty else modes
    n = int(part["inferences"].sum()) if not part.empty else 0
    counts = {str(m): int(c) for m, c in zip(part.get("mode", []), part.get("inferences", []), strict=True)}
    out: dict[str, Any] = {"n": n, "modes": {}}
    for mode in sorted(set(MODES) | set(counts)):
        c = counts.get(mode, 0)
        out["modes"][mode] = {"count": c, "share": (c / n) if n else None}
    return out


def headline(cfg: configmod.Config, run: Runner, chain_id: int | None = None,
             since: datetime | None = None, bucket: str = "hour") -> dict[str, Any]:
    """The headline (share of production inference running Vanilla, with n and trend), all-inference shares,
    the production definition in use and coverage; JSON-able (the CLI prints this)."""
    prod = production(cfg)
    modes = run("verification_modes", **params(cfg, chain_id, since))
    every, in_prod = _scope(modes, "all"), _scope(modes, "production")
    vanilla = in_prod["modes"]["VANILLA"]
    if not prod.tagged(chain_id):
        status, text = NO_SOURCE, f"{NO_SOURCE} (n = {every['n']} inferences, none of them production)"
    elif in_prod["n"] == 0:
        status, text = NO_PRODUCTION, f"{NO_PRODUCTION} (n = 0 of {every['n']})"
    else:
        status = "ok"
        text = f"{pct(vanilla['share'])} of production inferences run Vanilla (n = {in_prod['n']})"
    return {"headline": {"status": status, "text": text, "vanilla_share": vanilla["share"] if status == "ok" else None,
                         "vanilla": vanilla["count"], "n": in_prod["n"]},
            "trend": trend(run("verification_mode_series", bucket=bucket, **params(cfg, chain_id, since)), bucket),
            "production": in_prod, "all": every, "production_definition": prod.as_dict(),
            "coverage": coverage(run, chain_id)}


def trend(series: pd.DataFrame, bucket: str) -> dict[str, Any]:
    """Production Vanilla share in the latest bucket against the one before it, each with its n."""
    points = shares(series, "production", "VANILLA")
    out: dict[str, Any] = {"bucket": bucket, "points": len(points), "latest": None, "previous": None, "change": None}
    if points:
        out["latest"] = points[-1]
    if len(points) > 1:
        out["previous"] = points[-2]
        out["change"] = points[-1]["share"] - points[-2]["share"]
    return out


def shares(series: pd.DataFrame, scope: str, mode: str) -> list[dict[str, Any]]:
    """[{bucket, share, n}] of one mode in one scope, oldest first (buckets with no inference are absent)."""
    if series.empty:
        return []
    part = series[series["scope"] == scope]
    totals = part.groupby("bucket")["inferences"].sum()
    hits = part[part["mode"] == mode].set_index("bucket")["inferences"]
    return [{"bucket": clean(b), "share": float(hits.get(b, 0)) / float(n), "n": int(n)}
            for b, n in totals.sort_index().items()]


def coverage(run: Runner, chain_id: int | None) -> dict[str, Any]:
    """Indexed vs derived inferences and how callers were found, summed over the selected chains."""
    df = run("verification_coverage", chain_id=chain_id)
    cols = ("indexed", "derived", "pending", "caller_from_trace", "caller_from_tx_to", "paired_with_result",
            "workflow_linked", "workflow_results")
    return {c: int(df[c].sum()) if not df.empty else 0 for c in cols}


def settlement(run: Runner, chain_id: int | None) -> dict[str, Any] | None:
    """The settlement headline (part of the settlement watch); None when that query is not available."""
    try:
        df = run("settlement_summary", chain_id=chain_id)
    except StoreError:
        return None
    return {"rows": [{str(k): clean(v) for k, v in r.items()} for r in df.to_dict("records")]}


def labels(cfg: configmod.Config) -> dict[tuple[int, str], str]:
    """(chain_id, lower address) -> label of configured callers and contracts."""
    named = [(c.network, c.address, c.label) for c in cfg.contracts]
    named += [(c.network, c.address, c.label) for c in cfg.callers]
    return {(cfg.networks[n].chain_id, a.lower()): lbl for n, a, lbl in named if lbl}


def by_caller(cfg: configmod.Config, run: Runner, chain_id: int | None, since: datetime | None) -> pd.DataFrame:
    """Per caller with its label and tags; accounts calling the hub directly are one row."""
    df = run("verification_by_caller", **params(cfg, chain_id, since))
    if df.empty:
        return df
    names, prod = labels(cfg), {(a.lower()) for _n, a, _l in production(cfg).callers}
    keys = [(int(c), str(a).lower() if isinstance(a, str) else "") for c, a in zip(df["chain_id"], df["caller"],
                                                                                   strict=True)]
    out = df.copy()
    out.insert(0, "label", [names.get(k, "(accounts calling the hub directly)" if not k[1] else "") for k in keys])
    out.insert(2, "production_tagged", [k[1] in prod for k in keys])
    return out


def by_model(cfg: configmod.Config, run: Runner, chain_id: int | None, since: datetime | None) -> pd.DataFrame:
    """Per model and kind."""
    return run("verification_by_model", **params(cfg, chain_id, since))


def series(cfg: configmod.Config, run: Runner, chain_id: int | None, since: datetime | None,
           bucket: str) -> pd.DataFrame:
    """Counts and shares per mode per bucket (hour | day), scopes all and production."""
    if bucket not in ("hour", "day"):
        raise ValueError(f"bucket must be hour or day, not {bucket!r}")
    return run("verification_mode_series", bucket=bucket, **params(cfg, chain_id, since))
