-- Fee watch from state: every tick's reading of each market, every fee change found (whichever path made it),
-- and what each tick could and could not check. Filled by collectors/fee_state.py.
-- Values are text: uint256 as exact decimal (`*_f` its DOUBLE, for charts only), addresses EIP-55 checksummed
-- (`*_f` NULL). All three tables have chain_id + block_number, so a reorg rollback trims them.

-- One row per (market, field) per tick: the contract's state at block_number, the ground truth.
-- field: protocolFeePercent, subjectFeePercent, protocolFeeDestination, minSharesToCreate (Twin.fun BSC only),
-- owner (owner()), implementation (ERC-1967 slot; NULL when the slot is empty: not a proxy).
CREATE TABLE market_state (
    chain_id      BIGINT  NOT NULL,
    address       VARCHAR NOT NULL,
    block_number  BIGINT  NOT NULL,
    field         VARCHAR NOT NULL,
    value         VARCHAR,                   -- NULL: no value (no code at that block, empty slot)
    value_f       DOUBLE,
    PRIMARY KEY (chain_id, address, field, block_number)
);

-- One row per fee change. The change lies in blocks [block_from, block_number]; precision says how sure:
--   tx     exact transaction (a setter event, or a successful setter call in the traces): tx_hash set
--   block  exact block, found by reading historical state (bisection); tx_hash NULL
--   range  only bounds: state inside the range could not be read (node's state window, refusals)
-- detected_by: event | state+trace | state+history | state. path: direct (the tx called the market) |
-- via-contract (an owner contract made the call: timelock, multisig, batcher) | unknown; tx_to is the
-- transaction's `to`, sender its `from`, caller the account that called the setter, each when known.
-- note: what could not be checked for this change (and, at precision block, the likely transaction).
CREATE TABLE fee_changes (
    chain_id      BIGINT  NOT NULL,
    address       VARCHAR NOT NULL,
    field         VARCHAR NOT NULL,
    old           VARCHAR NOT NULL,
    new           VARCHAR NOT NULL,
    old_f         DOUBLE,
    new_f         DOUBLE,
    block_number  BIGINT  NOT NULL,          -- the exact block, or the upper bound
    block_from    BIGINT  NOT NULL,          -- the lower bound (= block_number when exact)
    tx_hash       VARCHAR,                   -- NULL unless precision is tx
    tx_index      INTEGER,
    sender        VARCHAR,
    caller        VARCHAR,
    tx_to         VARCHAR,
    path          VARCHAR NOT NULL,
    detected_by   VARCHAR NOT NULL,
    precision     VARCHAR NOT NULL,
    note          VARCHAR,
    detected_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, address, field, block_number, old, new)
);
CREATE INDEX fee_changes_market ON fee_changes (chain_id, address);

-- One row per tick and chain: the blocks compared, which evidence was available, what could not be checked
-- (e.g. "no traces: a change undone before the next reading (A->B->A) cannot be seen").
CREATE TABLE fee_watch_coverage (
    chain_id      BIGINT  NOT NULL,
    block_from    BIGINT  NOT NULL,          -- first block compared (the previous reading + 1)
    block_number  BIGINT  NOT NULL,          -- this tick's reading
    markets       INTEGER NOT NULL,
    traces        BOOLEAN NOT NULL,          -- every setter call in the range was checked in traces
    events        BOOLEAN NOT NULL,          -- setter events were indexed for the whole range
    state_from    BIGINT,                    -- oldest block whose state the node answered; NULL = all
    note          VARCHAR,
    rpc_calls     BIGINT  NOT NULL,
    checked_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, block_number)
);
