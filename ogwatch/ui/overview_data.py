"""Overview data: the headline fact of every watch, each with the page and URL filters that show its detail.

Reads only what the watch pages read (named queries through a `Runner` (name, **params) -> DataFrame) and
reuses their data modules, so the overview and the pages always agree: fee markets and their warnings
(`fee_markets`, `fee_queued`, ogwatch.ui.fees_worst), the production Vanilla share (verification_data), the
settlement lag (`settlement_summary`), Nakamoto coefficients (concentration_data) and firing alerts. It reads
nothing it does not show (no verification trend or coverage, no settled-work concentration), and `wanted`
lists its reads so the page asks for them in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from ogwatch import config as configmod
from ogwatch.ui import alerts_data as ad
from ogwatch.ui import concentration_data as cd
from ogwatch.ui import fees_data as fd
from ogwatch.ui import parallel_data as pdata
from ogwatch.ui import settlements_data as sd
from ogwatch.ui import verification_data as vd

Runner = fd.Runner
LAYERS = {"validators": "Validators (consensus power)", "tee_active": "TEE operators (active TEEs)"}
NOT_SHOWN = frozenset({"verification_mode_series", "verification_coverage"})  # vd.headline reads, overview omits


@dataclass(frozen=True)
class Link:
    """Where a fact's detail lives: a page file and the URL filters to open it with."""

    page: str
    params: tuple[tuple[str, str], ...]

    @property
    def query(self) -> dict[str, str]:
        """The URL query parameters."""
        return dict(self.params)

    @property
    def url(self) -> str:
        """Relative URL, e.g. '/fees?network=bsc&window=7d&market=X'."""
        path = "/" + self.page.removeprefix("pages/").removesuffix(".py")
        return path + "?" + urlencode(self.params)

    def markdown(self, label: str) -> str:
        """A markdown link to the page with the filters (works in any browser tab, shareable)."""
        return f"[{label}]({self.url})"


def link(page: str, network: str, window: str, **extra: str) -> Link:
    """A link to a page keeping the overview's network and window."""
    return Link(f"pages/{page}.py", (("network", network), ("window", window), *extra.items()))


@dataclass(frozen=True)
class MarketFlag:
    """A market a trader should look at before trading, and why."""

    label: str
    network: str
    chain_id: int
    address: str
    protocol: str
    subject: str
    flags: tuple[str, ...]
    worst_case: str


def _raised(m: dict[str, Any], since: datetime | None) -> bool:
    old, new = m.get("last_change_old"), m.get("last_change_new")
    if m.get("last_change_field") not in fd.FEES or old is None or new is None:
        return False
    when = m.get("last_change_time")
    recent = since is None or (when is not None and pd.Timestamp(when) >= pd.Timestamp(since))
    return recent and Decimal(str(new)) > Decimal(str(old))


def market_flags(run: Runner, markets: pd.DataFrame, chain_id: int | None,
                 since: datetime | None) -> list[MarketFlag]:
    """Markets with an uncapped or upgradeable fee, a raise in the window, or a queued change (others omitted)."""
    if markets.empty:
        return []
    queued = run("fee_queued", chain_id=chain_id, address=None)
    out = []
    for r in markets.to_dict("records"):
        m = {str(k): fd.clean(v) for k, v in r.items()}
        mine = queued[(queued["chain_id"] == m["chain_id"]) & (queued["address"].str.lower()
                                                               == str(m["address"]).lower())] \
            if not queued.empty else queued
        labels = [m.get(f"{s}_ceiling") for s in fd.FEES.values()]
        flags = [name for name, hit in (
            ("uncapped", "uncapped" in labels),
            ("upgradeable", bool(m.get("upgradeable")) or "capped-but-upgradeable" in labels),
            ("raised", _raised(m, since)), (f"{len(mine)} queued", len(mine) > 0)) if hit]
        if flags:
            wc = fd.worst_case(m, [{str(k): fd.clean(v) for k, v in q.items()} for q in mine.to_dict("records")])
            out.append(MarketFlag(str(m["label"]), str(m["network"]), int(m["chain_id"]), str(m["address"]),
                                  fd.fmt_percent(m.get("protocol_fee")), fd.fmt_percent(m.get("subject_fee")),
                                  tuple(flags), str(wc["text"])))
    return out


def settlement(run: Runner, chain_id: int | None) -> dict[str, Any]:
    """Settlement totals and lag of the selection ({} when nothing settled)."""
    return sd.totals(run("settlement_summary", chain_id=chain_id))


def nakamoto(cfg: configmod.Config, run: Runner, chain_id: int | None) -> dict[str, dict[str, Any] | None]:
    """Per layer, per entity: Nakamoto coefficients at 1/3, 1/2, 2/3 with count and total (None: no data).

    The same weights and metrics as `cd.summary`'s validator and active-TEE layers (its settled-work layer,
    which the overview does not show, is not read)."""
    entities, bands = cd.entity_map(cfg), cfg.concentration.hhi_bands
    weights = {"validators": cd.validator_weights(run, chain_id)[0], "tee_active": cd.tee_active_weights(run, chain_id)}
    out: dict[str, dict[str, Any] | None] = {}
    for key in LAYERS:
        m = cd.breakdown(weights[key], entities, bands)["per_entity"]["metrics"]
        out[key] = None if m is None else {"nakamoto": m["nakamoto"], "count": m["count"], "total": m["total"],
                                           "band": m["band"]}
    return out


def verification(cfg: configmod.Config, run: Runner, chain_id: int | None, since: datetime | None) -> dict[str, Any]:
    """The verification headline of `vd.headline` (production Vanilla share with n, the all-inference split, the
    production definition), without its trend and coverage: the overview shows neither, so their two scans of
    the inference tables are not run."""
    def headline_only(name: str, **params: Any) -> pd.DataFrame:
        return pd.DataFrame() if name in NOT_SHOWN else run(name, **params)

    view = vd.headline(cfg, headline_only, chain_id, since)
    return {k: view[k] for k in ("headline", "production", "all", "production_definition")}


def nakamoto_text(n: dict[str, Any]) -> str:
    """'1 · 2 · 3' for the 1/3, 1/2 and 2/3 thresholds."""
    return " · ".join(str(n.get(k, "n/a")) for k in ("1/3", "1/2", "2/3"))


def firing(run: Runner) -> list[dict[str, Any]]:
    """Firing alerts that are not silenced, worst first."""
    return [a for a in ad.alerts(run, "firing") if not a["silenced"]]


def wanted(cfg: configmod.Config, chain_id: int | None, since: datetime | None) -> list[tuple[str, dict[str, Any]]]:
    """Every named query (with its parameters) the overview reads for a selection, for one batched prefetch
    (`ogwatch.ui.data.prefetch`)."""
    chain = {"chain_id": chain_id}
    return [("fee_markets", chain), ("fee_queued", {**chain, "address": None}),
            ("verification_modes", vd.params(cfg, chain_id, since)), ("settlement_summary", chain),
            ("validators_current", chain), ("tee_operators", chain), ("alerts_list", {"status": "firing"})]


def facts(cfg: configmod.Config, run: Runner, markets: pd.DataFrame, chain_id: int | None,
          since: datetime | None) -> dict[str, Any]:
    """Every headline fact of the selection (the page draws these), gathered concurrently (they read
    independent named queries; see ogwatch.ui.parallel_data)."""
    return pdata.gather({
        "markets": lambda: market_flags(run, markets, chain_id, since),
        "verification": lambda: verification(cfg, run, chain_id, since),
        "settlement": lambda: settlement(run, chain_id),
        "nakamoto": lambda: nakamoto(cfg, run, chain_id),
        "alerts": lambda: firing(run)})
