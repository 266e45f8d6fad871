"""The seeder's statements for the verifiable-AI chain (inferences, settlements, TEEs, validators) and operations.

Same conventions as bench.seed_sql: bound parameters only, choices from `hash(i + $seed)` bit slices.
"""

# ruff: noqa: S608 - every statement is composed from constant fragments at import; values are bound
from __future__ import annotations

from bench.seed_sql import AI_CHAIN, COLLECTORS, HUB, LEAVES_PER_BATCH, MARKET_CHAIN, REGISTRY, RELAY

_BH = "printf('0x%04x%060x', " + str(AI_CHAIN) + ", {num})"
_TS = "$anchor - ($ai_blocks - 1 - {num}) * 2"
_INF = """
SELECT i, i // 4 AS blk, (i % 4)::INT * 2 AS li, h,
       CASE WHEN h % 3 < 2 THEN 'ml' ELSE 'llm' END AS kind,
       CASE WHEN h % 3 < 2 THEN [0, 0, 0, 0, 0, 0, 1, 1, 2, 2][1 + (h >> 4) % 10]
            ELSE [0, 0, 0, 0, 0, 1, 1, 1, 1, 1][1 + (h >> 4) % 10] END AS mode_int,
       printf('model-%02d', (h >> 12) % $models) AS model, (h >> 20) % 50 = 0 AS sim,
       printf('0x%040x', 786432 + (h >> 28) % $callers) AS caller
FROM (SELECT i, (hash(i + $seed) >> 1)::BIGINT AS h FROM range($inferences) t(i))"""
_MODE = "CASE WHEN mode_int = 0 THEN 'VANILLA' WHEN kind = 'llm' OR mode_int = 2 THEN 'TEE' ELSE 'ZKML' END"
_SETTLE = """
SELECT j, ($ai_blocks * j) // $settlements AS blk, j % 2 = 0 AS batch, j // 2 AS b,
       (hash(j + $seed + 17) >> 1)::BIGINT AS h
FROM range($settlements) t(j)"""

AI_STEPS: list[tuple[str, str]] = [
    ("inferences", f"""
INSERT INTO inferences
SELECT {AI_CHAIN}, blk, {_BH.format(num='blk')}, {_TS.format(num='blk')}, printf('0x%064x', 5000000 + i),
       li // 2, li, '{HUB}', 'InferenceRequested', printf('0x%064x', i), kind, mode_int, {_MODE}, model,
       CASE WHEN kind = 'ml' THEN sim END
FROM ({_INF})"""),
    ("inference_calls", f"""
INSERT INTO inference_calls
SELECT {AI_CHAIN}, blk, {_TS.format(num='blk')}, printf('0x%064x', 5000000 + i), li // 2, li, 0,
       printf('0x%064x', i), kind, mode_int, {_MODE}, model, sim, li + 1, NULL, NULL,
       printf('0x%040x', 917504 + (h >> 36) % 997), caller, 'trace', to_timestamp($anchor)
FROM ({_INF})"""),
    ("inference_results", f"""
INSERT INTO inference_results
SELECT {AI_CHAIN}, blk, {_BH.format(num='blk')}, {_TS.format(num='blk')}, printf('0x%064x', 5000000 + i), li // 2,
       li + 1, '{HUB}', 'InferenceResultEmitted', kind, caller, CASE WHEN kind = 'ml' THEN sim END, '[]'
FROM ({_INF})"""),
    ("settlements", f"""
INSERT INTO settlements
SELECT {AI_CHAIN}, blk, {_BH.format(num='blk')}, {_TS.format(num='blk')}, printf('0x%064x', 7000000 + j), 0,
       500 + j % 7, '{RELAY}', CASE WHEN batch THEN 'BatchSettlement' ELSE 'IndividualSettlement' END, 2,
       CASE WHEN batch THEN printf('0x%064x', 6000000 + b) END,
       CASE WHEN batch THEN '{LEAVES_PER_BATCH}' END, CASE WHEN batch THEN {LEAVES_PER_BATCH} END,
       CASE WHEN batch THEN printf('blob-%d', b) END, NULL,
       CASE WHEN NOT batch THEN printf('0x%064x', 3000 + h % $tees) END,
       NULL, NULL, NULL, NULL, NULL,
       CASE WHEN NOT batch THEN {_TS.format(num='blk')} - 5 - (h >> 8) % 600 END, NULL, NULL, NULL, NULL
FROM ({_SETTLE})"""),
    ("settlement_checks", f"""
INSERT INTO settlement_checks
SELECT {AI_CHAIN}, blk, 500 + j % 7, '{RELAY}', printf('0x%064x', 6000000 + b), printf('blob-%d', b), st,
       CASE st WHEN 'verified' THEN 'root matches' WHEN 'mismatch' THEN 'root differs' ELSE 'blob not found' END,
       CASE WHEN st <> 'unavailable' THEN printf('0x%064x', 6000000 + b + (st = 'mismatch')::INT) END,
       CASE WHEN st <> 'unavailable' THEN {LEAVES_PER_BATCH} END, st = 'verified', CASE WHEN st = 'verified'
       THEN true END, 1, to_timestamp($anchor)
FROM (SELECT *, CASE WHEN b % 20 = 7 THEN 'mismatch' WHEN b % 20 = 13 THEN 'unavailable' ELSE 'verified' END AS st
      FROM ({_SETTLE}) WHERE batch)"""),
    ("settlement_leaves", f"""
INSERT INTO settlement_leaves
SELECT {AI_CHAIN}, blk, 500 + j % 7, k, printf('0x%064x', 3000 + (h + k) % $tees), printf('0x%064x', j * 16 + k),
       printf('0x%064x', j * 16 + k + 8), {_TS.format(num='blk')} - 5 - ((h >> 8) + k * 37) % 900,
       printf('0x%064x', j * 16 + k + 1000000000)
FROM ({_SETTLE}), range({LEAVES_PER_BATCH}) l(k) WHERE batch AND b % 20 NOT IN (7, 13)"""),
    ("tee_registry_reads", f"""
INSERT INTO tee_registry_reads
SELECT {AI_CHAIN}, blk, '{REGISTRY}', {_TS.format(num='blk')}, 'v1', 'getTEE,isTEEActive,getActiveTEEs', '',
       3600, 'view', $tees, $tees - 3 - r % 3, NULL, to_timestamp({_TS.format(num='blk')})
FROM (SELECT r, $ai_blocks - 1 - ($tee_reads - 1 - r) * 50 AS blk FROM range($tee_reads) t(r))"""),
    ("tee_state", f"""
INSERT INTO tee_state
SELECT {AI_CHAIN}, blk, '{REGISTRY}', printf('0x%064x', 3000 + k),
       printf('0x%040x', 20480 + [0, 0, 0, 1, 1, 2, 3, 4][1 + k % 8]),
       printf('0x%040x', 24576 + k), printf('https://tee-%d.example', k), printf('0x%064x', 100 + k % 3), k % 2,
       NOT (k = 7 AND r % 2 = 0), 1700000000 + k, ts - k % 90, (k + r) % 13 <> 0, k % 3 <> 2
FROM (SELECT r, $ai_blocks - 1 - ($tee_reads - 1 - r) * 50 AS blk FROM range($tee_reads) t(r)),
     LATERAL (SELECT {_TS.format(num='blk')} AS ts), range($tees) x(k)"""),
    ("tee_pcrs", f"""
INSERT INTO tee_pcrs
SELECT {AI_CHAIN}, blk, '{REGISTRY}', printf('0x%064x', 100 + p), p % 2, p <> 2, printf('v%d', p), 'view'
FROM (SELECT $ai_blocks - 1 - ($tee_reads - 1 - r) * 50 AS blk FROM range($tee_reads) t(r)), range(3) q(p)"""),
    ("validator_reads", f"""
INSERT INTO validator_reads
SELECT {AI_CHAIN}, blk, src, {_TS.format(num='blk')}, $validators, CAST(tot AS VARCHAR), tot, 1, NULL,
       to_timestamp({_TS.format(num='blk')})
FROM (SELECT $ai_blocks - 1 - ($validator_reads - 1 - r) * 50 AS blk FROM range($validator_reads) t(r)),
     (SELECT unnest(['staking', 'cometbft']) AS src),
     (SELECT sum(1000 + (v * v * 37) % 5000)::BIGINT AS tot FROM range($validators) x(v))"""),
    ("validator_powers", f"""
INSERT INTO validator_powers
SELECT {AI_CHAIN}, blk, src, printf('val-%03d', v), printf('ogvaloper%03d', v), printf('pk%03d', v),
       printf('validator %d', v), false, 3, CAST(pw AS VARCHAR), CAST(pw AS VARCHAR), pw, true
FROM (SELECT $ai_blocks - 1 - ($validator_reads - 1 - r) * 50 AS blk FROM range($validator_reads) t(r)),
     (SELECT unnest(['staking', 'cometbft']) AS src),
     (SELECT v, 1000 + (v * v * 37) % 5000 AS pw FROM range($validators) x(v))"""),
]

OPS_STEPS: list[tuple[str, str]] = [
    ("alerts", f"""
INSERT INTO alerts
SELECT printf('fp-%06d', a), ['fee_raised', 'settlement_lag', 'collector_stale', 'tee_inactive'][1 + a % 4],
       ['critical', 'warning', 'info'][1 + (a // 10) % 3], CASE WHEN a % 10 = 0 THEN 'firing' ELSE 'resolved' END,
       printf('group-%d', a % 25), printf('finding %d', a), printf('{{"chain_id": "%d"}}', {MARKET_CHAIN}), '[]',
       {MARKET_CHAIN}, a, to_timestamp($anchor), to_timestamp($anchor - ($alerts - a) * 60),
       to_timestamp($anchor - ($alerts - a) * 30),
       CASE WHEN a % 10 <> 0 THEN to_timestamp($anchor - ($alerts - a) * 30) END, false
FROM range($alerts) t(a)"""),
    ("alert_history", """
INSERT INTO alert_history
SELECT a * 2 + k, printf('fp-%06d', a), to_timestamp($anchor - ($alerts - a) * 60 + k * 30),
       CASE WHEN k = 0 THEN 'firing' ELSE 'resolved' END, '{}'
FROM range($alerts) t(a), range(2) u(k)"""),
    ("outbox", """
INSERT INTO outbox
SELECT printf('msg-%06d', a), 'ops', a + 1, 'firing', printf('group-%d', a % 25), printf('["fp-%06d"]', a), '{}',
       to_timestamp($anchor - ($alerts - a) * 60), CASE WHEN a % 50 = 3 THEN 'dead' ELSE 'delivered' END,
       1, to_timestamp($anchor - ($alerts - a) * 60),
       CASE WHEN a % 50 <> 3 THEN to_timestamp($anchor - ($alerts - a) * 60 + 1) END, NULL
FROM range($alerts) t(a)"""),
    ("delivery_attempts", """
INSERT INTO delivery_attempts
SELECT printf('msg-%06d', a), 1, to_timestamp($anchor - ($alerts - a) * 60 + 1),
       CASE WHEN a % 50 = 3 THEN 'failed' ELSE 'delivered' END, CASE WHEN a % 50 = 3 THEN 500 ELSE 200 END,
       NULL, 40.0 + a % 30
FROM range($alerts) t(a)"""),
    ("alert_runs", """
INSERT INTO alert_runs SELECT to_timestamp($anchor - ($health_ticks - i) * 30), 4, i % 3, i % 2, '{}'
FROM range($health_ticks) t(i)"""),
    ("collector_health", f"""
INSERT INTO collector_health
SELECT c, ch, to_timestamp($anchor - ($health_ticks - 1 - i) * 30), i % 97 <> 5, head, head - 2 - i % 3,
       to_timestamp($anchor), CASE WHEN i % 97 = 5 THEN 'timeout after 10 s' END, 40, 10, 12, (i % 97 = 5)::INT, 180.5
FROM range($health_ticks) t(i), (SELECT unnest({list(COLLECTORS)}) AS c),
     (SELECT unnest([{MARKET_CHAIN}, {AI_CHAIN}]) AS ch),
     LATERAL (SELECT CASE ch WHEN {MARKET_CHAIN} THEN $market_blocks ELSE $ai_blocks END - 1 AS head)"""),
    ("checkpoints", f"""
INSERT INTO checkpoints
SELECT c, ch, printf('0x%04x%060x', ch, 0), head, printf('0x%04x%060x', ch, head), to_timestamp($anchor)
FROM (SELECT unnest({list(COLLECTORS)}) AS c), (SELECT unnest([{MARKET_CHAIN}, {AI_CHAIN}]) AS ch),
     LATERAL (SELECT CASE ch WHEN {MARKET_CHAIN} THEN $market_blocks ELSE $ai_blocks END - 1 AS head)"""),
    ("service_heartbeats", """
INSERT INTO service_heartbeats SELECT i + 1, 4242, to_timestamp($anchor - ($health_ticks - 1 - i) * 5)
FROM range($health_ticks) t(i)"""),
]
