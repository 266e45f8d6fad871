"""The seeder's plan (how many rows of what) and its set-based INSERT statements, one per table.

Every statement reads only bound parameters (`$name`) and `range()`; pseudo-random choices come from
`hash(i + $seed)` and its bit slices, so the same plan always writes the same rows.
Layout: Twin.fun trades on chain 56 (5 per block, 3 s blocks); inferences, settlements, the TEE registry and
validators on chain 10740 (4 inferences per block, 2 s blocks); both chains end at the anchor time.
"""

# ruff: noqa: S608 - every statement is composed from constant fragments at import; values are bound
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

MARKET_CHAIN, AI_CHAIN = 56, 10740
HUB = "0x8383c9bd7462f12eb996dd02f78234c0421a6fae"
RELAY = "0xf1dc0d5dcf2a01924fac78185b9227cf3ec839a5"
REGISTRY = "0x3d641a2791533b4a0000345ea8d509d01e1ec301"
TRADES_PER_BLOCK, INF_PER_BLOCK, LEAVES_PER_BATCH = 5, 4, 8
COLLECTORS = ("engine", "fees", "verification", "settlements", "concentration")


@dataclass(frozen=True)
class Plan:
    """Row counts and layout for one seeding run."""

    seed: int
    anchor: int            # unix seconds of both chains' newest block
    trades: int
    markets: int
    twins: int
    inferences: int
    models: int
    callers: int
    settlements: int
    tees: int
    tee_reads: int
    validators: int
    validator_reads: int
    alerts: int
    health_ticks: int

    @classmethod
    def at(cls, scale: float, seed: int, anchor: int) -> Plan:
        """The plan for a scale (1 = a million trades and a million inferences)."""
        def n(full: int, least: int) -> int:
            return max(least, round(full * scale))
        return cls(seed=seed, anchor=anchor, trades=n(1_000_000, 50), markets=40, twins=n(5_000, 200),
                   inferences=n(1_000_000, 40), models=60, callers=n(2_000, 10), settlements=n(50_000, 20),
                   tees=40, tee_reads=n(500, 4), validators=60, validator_reads=n(500, 4), alerts=n(2_000, 10),
                   health_ticks=n(2_000, 5))

    @property
    def market_blocks(self) -> int:
        """Blocks of chain 56 (every one holds trades)."""
        return -(-self.trades // TRADES_PER_BLOCK)

    @property
    def ai_blocks(self) -> int:
        """Blocks of chain 10740 (every one holds inferences)."""
        return -(-self.inferences // INF_PER_BLOCK)

    def params(self, sql: str) -> dict[str, Any]:
        """The bound values a statement names (DuckDB rejects unused named parameters)."""
        values = asdict(self) | {"market_blocks": self.market_blocks, "ai_blocks": self.ai_blocks}
        return {k: values[k] for k in set(re.findall(r"\$([a-z_]+)", sql))}

    def counts(self) -> dict[str, int]:
        """Rows each table holds after seeding."""
        batches = (self.settlements + 1) // 2
        verified = len([b for b in range(batches) if _check_status(b) == "verified"])
        return {
            "blocks": self.market_blocks + self.ai_blocks, "trades": self.trades,
            "market_state": self.markets * 3 * 4, "market_control": self.markets * 2,
            "ceilings": self.markets * 2, "fee_changes": self.markets * 3, "market_events": self.markets * 4,
            "fee_watch_coverage": self.health_ticks, "node_capabilities": 2,
            "inferences": self.inferences, "inference_calls": self.inferences,
            "inference_results": self.inferences, "settlements": self.settlements,
            "settlement_checks": batches, "settlement_leaves": verified * LEAVES_PER_BATCH,
            "tee_registry_reads": self.tee_reads, "tee_state": self.tee_reads * self.tees,
            "tee_pcrs": self.tee_reads * 3, "validator_reads": self.validator_reads * 2,
            "validator_powers": self.validator_reads * 2 * self.validators,
            "alerts": self.alerts, "alert_history": self.alerts * 2, "outbox": self.alerts,
            "delivery_attempts": self.alerts, "alert_runs": self.health_ticks,
            "collector_health": self.health_ticks * len(COLLECTORS) * 2,
            "checkpoints": len(COLLECTORS) * 2, "service_heartbeats": self.health_ticks,
        }


def _check_status(batch: int) -> str:
    """A batch's blob check outcome (mirrors the SQL CASE in the settlement_checks step)."""
    return "mismatch" if batch % 20 == 7 else "unavailable" if batch % 20 == 13 else "verified"


def _hex(width: int, expr: str) -> str:
    return f"printf('0x%0{width}x', {expr})"


_BLOCK_HASH = "printf('0x%04x%060x', {chain}, {num})"
_MKT = "printf('0x%040x', 40960 + ({twin}) % $markets)"
_WEI = "CAST(CAST({f} AS HUGEINT) AS VARCHAR)"

STEPS: list[tuple[str, str]] = [
    ("blocks", f"""
INSERT INTO blocks SELECT {MARKET_CHAIN}, i, {_BLOCK_HASH.format(chain=MARKET_CHAIN, num='i')},
       {_BLOCK_HASH.format(chain=MARKET_CHAIN, num='i - 1')}, to_timestamp($anchor - ($market_blocks - 1 - i) * 3)
FROM range($market_blocks) t(i)
UNION ALL
SELECT {AI_CHAIN}, i, {_BLOCK_HASH.format(chain=AI_CHAIN, num='i')}, {_BLOCK_HASH.format(chain=AI_CHAIN, num='i - 1')},
       to_timestamp($anchor - ($ai_blocks - 1 - i) * 2)
FROM range($ai_blocks) t(i)"""),
    ("trades", f"""
INSERT INTO trades
SELECT {MARKET_CHAIN}, blk, {_BLOCK_HASH.format(chain=MARKET_CHAIN, num='blk')},
       $anchor - ($market_blocks - 1 - blk) * 3,
       {_hex(64, 'i + 1')}, (i % 5)::INT, (i % 5)::INT, {_MKT.format(twin='twin')}, 'Trade',
       {_hex(40, '1048576 + (h >> 20) % 50000')}, {_hex(64, 'twin')}, NULL, is_buy,
       CAST(shares AS VARCHAR), shares, {_WEI.format(f='eth')}, eth, {_WEI.format(f='eth * 0.05')}, eth * 0.05,
       {_WEI.format(f='eth * 0.05')}, eth * 0.05, CAST(supply AS VARCHAR), supply
FROM (SELECT i, i // 5 AS blk, h, (h >> 8) % $twins AS twin, (h >> 40) % 3 <> 0 AS is_buy,
             1 + (h >> 12) % 5 AS shares, (1 + (h >> 24) % 1000) * 1e15 AS eth, 1 + (h >> 32) % 500 AS supply
      FROM (SELECT i, (hash(i + $seed) >> 1)::BIGINT AS h FROM range($trades) t(i)))"""),
    ("market_state", f"""
INSERT INTO market_state
SELECT {MARKET_CHAIN}, printf('0x%040x', 40960 + m), $market_blocks - 1 - r * 1000, f,
       CASE f WHEN 'protocolFeeDestination' THEN printf('0x%040x', 4096) ELSE {_WEI.format(f='v')} END,
       CASE f WHEN 'protocolFeeDestination' THEN NULL ELSE v END
FROM range($markets) a(m), range(4) b(r),
     (SELECT unnest(['protocolFeePercent', 'subjectFeePercent', 'protocolFeeDestination']) AS f) c,
     LATERAL (SELECT (50 + (m % 5) * 10 - r * 5) * 1e15 AS v)"""),
    ("market_control", f"""
INSERT INTO market_control
SELECT {MARKET_CHAIN}, printf('0x%040x', 40960 + m), $market_blocks - 1 - r * 5000, 'twinfun_market',
       printf('0x%040x', 8192 + m % 4), ['eoa', 'timelock', 'multisig', 'eoa'][1 + m % 4],
       CASE m % 4 WHEN 1 THEN '{{"min_delay": 86400}}' ELSE '{{}}' END,
       CASE WHEN m % 3 = 0 THEN printf('0x%040x', 12288 + m) END, m % 3 = 0, r, '["new"]', to_timestamp($anchor)
FROM range($markets) a(m), range(2) b(r)"""),
    ("ceilings", f"""
INSERT INTO ceilings
SELECT {MARKET_CHAIN}, printf('0x%040x', 40960 + m), f, $market_blocks - 1,
       CASE WHEN m % 5 = 0 THEN 'uncapped' WHEN m % 3 = 0 THEN 'capped-but-upgradeable' ELSE 'capped' END,
       '100000000000000000', 1e17, CASE WHEN m % 5 <> 0 THEN '100000000000000001' END,
       CASE WHEN m % 5 <> 0 THEN 1e17 + 1 END
FROM range($markets) a(m), (SELECT unnest(['protocolFeePercent', 'subjectFeePercent']) AS f)"""),
    ("fee_changes", f"""
INSERT INTO fee_changes
SELECT {MARKET_CHAIN}, printf('0x%040x', 40960 + m), 'protocolFeePercent',
       {_WEI.format(f='(40 + k * 5) * 1e15')}, {_WEI.format(f='(45 + k * 5) * 1e15')}, (40 + k * 5) * 1e15,
       (45 + k * 5) * 1e15, blk, blk, {_hex(64, '900000 + m * 10 + k')}, 0, printf('0x%040x', 8192 + m % 4),
       printf('0x%040x', 8192 + m % 4), printf('0x%040x', 40960 + m), 'direct', 'trace', 'tx', NULL,
       to_timestamp($anchor)
FROM range($markets) a(m), range(3) b(k), LATERAL (SELECT ($market_blocks * (k + 1)) // 4 + m AS blk)"""),
    ("market_events", f"""
INSERT INTO market_events
SELECT {MARKET_CHAIN}, blk, {_BLOCK_HASH.format(chain=MARKET_CHAIN, num='blk')},
       $anchor - ($market_blocks - 1 - blk) * 3,
       {_hex(64, '800000 + m * 10 + k')}, 0, 100 + k, printf('0x%040x', 40960 + m), 'SubjectFeePercentUpdated',
       'subjectFeePercent', {_WEI.format(f='(50 + k) * 1e15')}, (50 + k) * 1e15
FROM range($markets) a(m), range(4) b(k), LATERAL (SELECT ($market_blocks * (k + 1)) // 5 + m AS blk)"""),
    ("fee_watch_coverage", f"""
INSERT INTO fee_watch_coverage
SELECT {MARKET_CHAIN}, i * 100 + 1, i * 100 + 100, $markets, true, true, NULL, NULL, 3 + $markets * 2,
       to_timestamp($anchor - ($health_ticks - i) * 30)
FROM range($health_ticks) t(i)"""),
    ("node_capabilities", f"""
INSERT INTO node_capabilities VALUES
({MARKET_CHAIN}, 'http://node-a/…', to_timestamp($anchor), true, true, NULL, 100, false),
({AI_CHAIN}, 'http://node-b/…', to_timestamp($anchor), true, true, NULL, 100, true)"""),
]
