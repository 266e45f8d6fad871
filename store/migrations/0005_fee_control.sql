-- Fee watch: who can change a market's fees, how far, and what is queued (rows from collectors/fee_control.py).
-- Addresses are EIP-55 checksummed text; uint256 values are exact decimal text plus a *_f DOUBLE (store/u256.py).
-- The three tables carry (chain_id, block_number), so a reorg rollback trims them with the event tables; the
-- views name their block columns otherwise (since_block, scheduled_block) and are never trimmed themselves.

-- One evaluation of a market's control at a block (the confirmed head when it was made).
CREATE TABLE market_control (
    chain_id          BIGINT  NOT NULL,
    address           VARCHAR NOT NULL,   -- the market
    block_number      BIGINT  NOT NULL,
    kind              VARCHAR NOT NULL,   -- config kind: twinfun_market | twinfun_docs_market | friendtech_market
    owner             VARCHAR,            -- owner() at the block; NULL when unset (zero) or unanswered
    owner_kind        VARCHAR NOT NULL,   -- eoa | timelock | multisig | contract | none
    rule              VARCHAR NOT NULL,   -- JSON: {"min_delay": s} | {"threshold": m, "signers": [...]} | {}
    implementation    VARCHAR,            -- the ERC-1967 implementation slot; NULL when not a proxy
    upgradeable       BOOLEAN NOT NULL,   -- the owner can replace the implementation (simulated upgradeToAndCall)
    admin_events_seen BIGINT  NOT NULL,   -- admin_events of the market at or below the block when evaluated
    reasons           VARCHAR NOT NULL,   -- JSON list of why it was (re-)evaluated: new, admin_events, owner, ...
    evaluated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, address, block_number)
);

-- Every simulated setter call: the owner (as `from`) calling a fee setter with `value` at the block.
CREATE TABLE ceiling_evidence (
    chain_id      BIGINT  NOT NULL,
    address       VARCHAR NOT NULL,
    field         VARCHAR NOT NULL,       -- protocolFeePercent | subjectFeePercent
    block_number  BIGINT  NOT NULL,
    seq           INTEGER NOT NULL,       -- probe order within the evaluation
    caller        VARCHAR NOT NULL,
    value         VARCHAR NOT NULL,
    value_f       DOUBLE  NOT NULL,
    reverted      BOOLEAN NOT NULL,
    PRIMARY KEY (chain_id, address, field, block_number, value)
);

-- The verdict per setter: capped (at max_accepted, 1e18 = 100 %), uncapped, or capped-but-upgradeable.
CREATE TABLE ceilings (
    chain_id        BIGINT  NOT NULL,
    address         VARCHAR NOT NULL,
    field           VARCHAR NOT NULL,
    block_number    BIGINT  NOT NULL,
    label           VARCHAR NOT NULL,     -- capped | uncapped | capped-but-upgradeable
    max_accepted    VARCHAR,              -- largest value proven accepted; NULL when the owner could set none
    max_accepted_f  DOUBLE,
    min_rejected    VARCHAR,              -- smallest value proven rejected (max_accepted + 1 when exact); NULL uncapped
    min_rejected_f  DOUBLE,
    PRIMARY KEY (chain_id, address, field, block_number)
);

-- Exact decimal text of a big-endian hex word without 0x (up to 256 bits and beyond), by BIGNUM additions.
CREATE MACRO u256_hex_text(word) AS (
    list_reduce(
        list_transform(range(1, length(word) + 1), lambda i: ('0x0' || substr(word, i, 1))::INTEGER::BIGNUM),
        lambda acc, d: (((acc + acc) + (acc + acc)) + ((acc + acc) + (acc + acc)))
                       + (((acc + acc) + (acc + acc)) + ((acc + acc) + (acc + acc))) + d,
        0::BIGNUM)::VARCHAR
);

-- Current AccessControl role holders, rebuilt from admin_events: the latest grant or revoke per (role, account).
CREATE VIEW role_holders AS
WITH changes AS (
    SELECT chain_id, address, role, account, event, block_number,
           row_number() OVER (PARTITION BY chain_id, address, role, account
                              ORDER BY block_number DESC, log_index DESC) AS newest
    FROM admin_events
    WHERE event IN ('RoleGranted', 'RoleRevoked')
)
SELECT chain_id, address, role,
       CASE role
           WHEN '0x0000000000000000000000000000000000000000000000000000000000000000' THEN 'DEFAULT_ADMIN_ROLE'
           WHEN '0xbea6e44865e135b32714dfa043d5086c2089f80ed35a3300e8b4277dd628e9c4' THEN 'CLAIM_OWNERSHIP_ROLE'
           WHEN '0xb09aa5aeb3702cfd50b6b62bc4532604938f21248a27a1d5ca736082b6819cc1' THEN 'PROPOSER_ROLE'
           WHEN '0xd8aa0f3194971a2a116679f7c2090f6939c8d4e01a2a8d7e41d55e5351469e63' THEN 'EXECUTOR_ROLE'
           WHEN '0xfd643c72710c63c0180259aba6b2d05451e3591a24e58b62239378085726f783' THEN 'CANCELLER_ROLE'
           WHEN '0x5f58e3a2316349923ce3780f8d587db2d72378aed66a8261c916544fa6846ca5' THEN 'TIMELOCK_ADMIN_ROLE'
       END AS role_name,
       account,
       block_number AS since_block
FROM changes
WHERE newest = 1 AND event = 'RoleGranted';

-- Fee changes scheduled on a timelock for a watched market (one with a market_control row), neither executed
-- nor cancelled. eta = the schedule block's timestamp + the operation's delay (unix seconds; NULL without
-- block_ts; compare it with the chain's clock, not the wall clock). new_value: exact decimal, or the lower-case
-- address for setFeeDestination. owner_is_timelock: the market's latest evaluated owner is this timelock.
CREATE VIEW queued_changes AS
WITH scheduled AS (
    SELECT chain_id, address AS timelock, operation_id, call_index, target AS market, selector, data,
           delay, delay_f, block_number AS scheduled_block, block_ts AS scheduled_ts, tx_hash,
           CASE selector
               WHEN '0xa4983421' THEN 'protocolFeePercent'
               WHEN '0x5a8a764e' THEN 'subjectFeePercent'
               WHEN '0xfbe53234' THEN 'protocolFeeDestination'
           END AS field,
           substr(data, 11, 64) AS word
    FROM timelock_events
    WHERE event = 'CallScheduled' AND length(data) >= 74
)
SELECT s.chain_id, s.timelock, s.operation_id, s.call_index, s.market, s.field, s.selector,
       CASE WHEN s.field = 'protocolFeeDestination' THEN '0x' || substr(s.word, 25, 40)
            ELSE u256_hex_text(s.word) END AS new_value,
       CASE WHEN s.field = 'protocolFeeDestination' THEN NULL
            ELSE ('0x' || substr(s.word, 1, 16))::UBIGINT::DOUBLE * 6277101735386680763835789423207666416102355444464034512896.0
                 + ('0x' || substr(s.word, 17, 16))::UBIGINT::DOUBLE * 340282366920938463463374607431768211456.0
                 + ('0x' || substr(s.word, 33, 16))::UBIGINT::DOUBLE * 18446744073709551616.0
                 + ('0x' || substr(s.word, 49, 16))::UBIGINT::DOUBLE END AS new_value_f,
       s.word AS new_value_word,
       s.delay, s.delay_f, s.scheduled_block, s.scheduled_ts, s.tx_hash,
       s.scheduled_ts + TRY_CAST(s.delay AS BIGINT) AS eta,
       (SELECT arg_max(mc.owner, mc.block_number) FROM market_control mc
         WHERE mc.chain_id = s.chain_id AND mc.address = s.market) = s.timelock AS owner_is_timelock
FROM scheduled s
WHERE s.field IS NOT NULL
  AND s.market IN (SELECT address FROM market_control mc WHERE mc.chain_id = s.chain_id)
  AND NOT EXISTS (SELECT 1 FROM timelock_events x
                  WHERE x.chain_id = s.chain_id AND x.address = s.timelock AND x.event = 'CallExecuted'
                    AND x.operation_id = s.operation_id AND x.call_index = s.call_index)
  AND NOT EXISTS (SELECT 1 FROM timelock_events c
                  WHERE c.chain_id = s.chain_id AND c.address = s.timelock AND c.event = 'Cancelled'
                    AND c.operation_id = s.operation_id);
