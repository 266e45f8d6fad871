-- Foundation: collector checkpoints, block headers, state reads, health and the service heartbeat.
-- uint256 values are stored as exact decimal text plus a *_f DOUBLE for charts (store/u256.py).

CREATE TABLE checkpoints (
    collector     VARCHAR NOT NULL,
    chain_id      BIGINT  NOT NULL,
    genesis_hash  VARCHAR NOT NULL,
    block_number  BIGINT  NOT NULL,
    block_hash    VARCHAR NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (collector, chain_id)
);

CREATE TABLE blocks (
    chain_id     BIGINT  NOT NULL,
    number       BIGINT  NOT NULL,
    hash         VARCHAR NOT NULL,
    parent_hash  VARCHAR NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, number)
);

-- A contract value read at a block (eth_call or eth_getStorageAt): the ground truth of state.
CREATE TABLE state_reads (
    chain_id      BIGINT  NOT NULL,
    address       VARCHAR NOT NULL,
    field         VARCHAR NOT NULL,
    block_number  BIGINT  NOT NULL,
    value         VARCHAR NOT NULL,
    value_f       DOUBLE  NOT NULL,
    PRIMARY KEY (chain_id, address, field, block_number)
);

-- One row per collector tick: what the data-health strip and the staleness rule read.
CREATE TABLE collector_health (
    collector     VARCHAR NOT NULL,
    chain_id      BIGINT  NOT NULL,
    observed_at   TIMESTAMPTZ NOT NULL,
    ok            BOOLEAN NOT NULL,
    head_block    BIGINT,
    indexed_block BIGINT,
    head_ts       TIMESTAMPTZ,
    error         VARCHAR
);

-- The scheduler's own pulse: proves the writer is alive (wall clock) and numbers every write.
CREATE TABLE service_heartbeats (
    seq  BIGINT PRIMARY KEY,
    pid  INTEGER NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL
);
