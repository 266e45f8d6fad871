"""tee_health on the devnet when the TEE registries are read ahead of the indexed events (a backfill, a restart).

The OHTTP registry has no PCR views: the TEE watch replays its PCR approval from the indexed PCRApproved /
PCRRevoked events. A reading taken at the head while the log engine has indexed only the first blocks sees no
approval yet, and the crash run found tee_health alerts that fired on such readings and resolved later (so the
alerts of a crashed run differed from an uninterrupted one). Here the events are indexed only up to the block
before the OHTTP registry's first approval: the registries are read at that block, not at the head (a reading never
runs ahead of the events it replays), no approved PCR looks revoked, and nothing is flagged that the ground truth
(the simulator's truth.jsonl, replayed at the head) does not flag; once everything is indexed and read again, the
flags are exactly the truth's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from alerts.rules import BY_NAME, RuleContext
from collectors import runner
from collectors.concentration_jobs import concentration_jobs
from devnet.world import World
from store.db import Store
from tests import concentration_helpers as ch
from tests.test_alerts_rules_devnet import unhealthy_tees

pytestmark = pytest.mark.devnet
RULE = BY_NAME["tee_health"]


def flagged(store: Store) -> set[tuple[str, str]]:
    """(tee_id, pcr|heartbeat) of the rule's findings on the store."""
    found = RULE.evaluate(RuleContext(store.query, datetime.now(UTC), RULE.defaults))
    return {(f.labels["tee_id"], str(f.key[2])) for f in found}


def index_and_read(store: Store, cfg: Any, until: int | None) -> None:
    """OG EVM's logs indexed up to `until` (None: the head); then the registries read (at the confirmed head, or
    where the index stops when that is lower)."""
    pools = runner.pools(cfg, [ch.NET])
    for eng in runner.engines(cfg, store, [ch.NET], shared=pools):
        while eng.tick(until).spans:
            pass
    for job in concentration_jobs(cfg, store, pools):
        assert job.tees is not None
        job.tees.tick()


def test_reading_ahead_of_the_index_flags_only_what_the_truth_flags(devnet_world: World, devnet_snapshot: Path,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "ogwatch.duckdb"
    approvals = [r for r in ch.records(devnet_snapshot) if r["kind"] == "pcr_approved" and r["status"] == 1]
    truth = unhealthy_tees(devnet_world, devnet_snapshot)
    with Store(path, serve=False) as store:
        index_and_read(store, ch.og_config(ch.og_toml(devnet_world, path)), None)
        (ohttp,) = [str(r["registry"]) for r in store.query("tee_registries").to_dict("records")
                    if r["pcr_source"] == "events"]  # the devnet has one registry without PCR views
        assert flagged(store) == truth and truth  # complete data: exactly the truth

    early = tmp_path / "early.duckdb"
    cfg = ch.og_config(ch.og_toml(devnet_world, early))
    with Store(early, serve=False) as store:
        first = min(a["block"] for a in approvals if a["intent"]["registry_address"] == ohttp)
        index_and_read(store, cfg, first - 1)
        reads = store.query("tee_registries").to_dict("records")
        assert {int(r["block_number"]) for r in reads} == {first - 1}  # the reading waits for the index
        behind = {(str(t["tee_id"]), "pcr") for t in store.query("tee_current").to_dict("records")
                  if str(t["registry"]) == ohttp and t["pcr_approved"] is False and t["enabled"]}
        assert not behind  # read at the head, these approved OHTTP PCRs looked revoked (the crash run's alerts)
        assert flagged(store) <= truth
        index_and_read(store, cfg, None)
        assert flagged(store) == truth
