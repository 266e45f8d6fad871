-- 0008_concentration: the decentralization watch. TEE registry state read from each registry's own views,
-- and validator voting power from the staking precompile and CometBFT. Filled by collectors/tee_state.py
-- and collectors/validators.py. Every table has chain_id + block_number, so a reorg rollback trims it.
--
-- History is kept as change rows: a TEE, PCR or validator row is written at the block of a reading
-- only when it differs from the last stored row for the same key, so "the state at block N" is the
-- latest row at or below N per key, and every row is a change. The *_reads tables have one row per
-- reading (what was read, at which block and block time, and what could not be read).

-- One row per registry reading: the views that answered, the registry's shape, its heartbeat max age
-- (NULL when it has no such view), where PCR approval came from (view | events | none), and notes.
CREATE TABLE tee_registry_reads (
    chain_id          BIGINT  NOT NULL,
    block_number      BIGINT  NOT NULL,
    registry          VARCHAR NOT NULL,
    block_ts          BIGINT  NOT NULL,            -- unix seconds of the read block (liveness is judged at it)
    shape             VARCHAR NOT NULL,            -- v1 | ohttp | unknown (from getTEE's answer)
    views             VARCHAR NOT NULL,            -- comma-separated views that answered
    missing           VARCHAR NOT NULL,            -- comma-separated views that did not
    heartbeat_max_age BIGINT,
    pcr_source        VARCHAR NOT NULL,
    tees              INTEGER NOT NULL,
    active            INTEGER,                     -- TEEs active per isTEEActive (NULL without that view)
    note              VARCHAR,
    read_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, registry, block_number)
);

-- One row per TEE change. owner is the operator. active is the registry's own isTEEActive at
-- block_number (NULL when the registry has no such view); pcr_approved NULL when it cannot be known.
CREATE TABLE tee_state (
    chain_id          BIGINT  NOT NULL,
    block_number      BIGINT  NOT NULL,
    registry          VARCHAR NOT NULL,
    tee_id            VARCHAR NOT NULL,
    owner             VARCHAR NOT NULL,
    payment_address   VARCHAR,
    endpoint          VARCHAR,
    pcr_hash          VARCHAR NOT NULL,
    tee_type          INTEGER NOT NULL,
    enabled           BOOLEAN NOT NULL,
    registered_at     BIGINT  NOT NULL,
    last_heartbeat_at BIGINT  NOT NULL,
    active            BOOLEAN,
    pcr_approved      BOOLEAN,
    PRIMARY KEY (chain_id, registry, tee_id, block_number)
);
CREATE INDEX tee_state_owner ON tee_state (chain_id, owner);

-- One row per PCR change: approved or not for a TEE type, its version label (from PCRApproved) and source.
CREATE TABLE tee_pcrs (
    chain_id          BIGINT  NOT NULL,
    block_number      BIGINT  NOT NULL,
    registry          VARCHAR NOT NULL,
    pcr_hash          VARCHAR NOT NULL,
    tee_type          INTEGER NOT NULL,
    approved          BOOLEAN NOT NULL,
    version           VARCHAR,
    source            VARCHAR NOT NULL,            -- view | events
    PRIMARY KEY (chain_id, registry, pcr_hash, tee_type, block_number)
);

-- One row per validator change. source: staking (the precompile's validators(), BOND_STATUS_BONDED) or
-- cometbft (GET /validators; block_number is the CometBFT height). validator: the operator address
-- (staking) or the consensus address (cometbft); operator_address joins CometBFT rows to the staking set
-- by consensus public key when it can. power is consensus power (staking: tokens / 10^18), exact text;
-- present false: the validator left the set at this reading (power 0).
CREATE TABLE validator_powers (
    chain_id          BIGINT  NOT NULL,
    block_number      BIGINT  NOT NULL,
    source            VARCHAR NOT NULL,
    validator         VARCHAR NOT NULL,
    operator_address  VARCHAR,
    consensus_pubkey  VARCHAR,
    moniker           VARCHAR,
    jailed            BOOLEAN,
    status            INTEGER,
    tokens            VARCHAR,
    power             VARCHAR NOT NULL,
    power_f           DOUBLE  NOT NULL,
    present           BOOLEAN NOT NULL,
    PRIMARY KEY (chain_id, source, validator, block_number)
);

-- One row per validator reading: how many, the total power, pages asked, notes.
CREATE TABLE validator_reads (
    chain_id          BIGINT  NOT NULL,
    block_number      BIGINT  NOT NULL,
    source            VARCHAR NOT NULL,
    block_ts          BIGINT,
    validators        INTEGER NOT NULL,
    total_power       VARCHAR NOT NULL,
    total_power_f     DOUBLE  NOT NULL,
    pages             INTEGER NOT NULL,
    note              VARCHAR,
    read_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, source, block_number)
);
