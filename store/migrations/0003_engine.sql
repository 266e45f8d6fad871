-- Collector engine: reorg records, node capabilities, undecodable logs, richer health.

-- Every reorg found: where the chains forked and what was removed (alerts are retracted from this).
CREATE TABLE reorgs (
    chain_id      BIGINT  NOT NULL,
    detected_at   TIMESTAMPTZ NOT NULL,
    fork_block    BIGINT  NOT NULL,          -- last block both chains share
    old_hash      VARCHAR NOT NULL,          -- our stored hash at the checkpoint that no longer matched
    new_hash      VARCHAR NOT NULL,          -- the node's hash at that height
    removed       VARCHAR NOT NULL           -- JSON: {table: rows removed}
);

-- What a node can do, detected at start and re-checked now and then.
CREATE TABLE node_capabilities (
    chain_id        BIGINT  NOT NULL,
    url             VARCHAR NOT NULL,        -- redacted
    checked_at      TIMESTAMPTZ NOT NULL,
    traces          BOOLEAN NOT NULL,        -- trace_filter answers
    debug_trace     BOOLEAN NOT NULL,        -- debug_traceTransaction answers
    state_depth     BIGINT,                  -- oldest block (head - depth) whose state answers; NULL = all
    max_batch       INTEGER,                 -- largest JSON-RPC batch accepted (tested up to a ceiling)
    block_timestamps_in_logs BOOLEAN NOT NULL,
    PRIMARY KEY (chain_id, url)
);

-- Logs that matched a watched topic0 but could not be decoded (an ABI mismatch on a real chain).
CREATE TABLE decode_errors (
    chain_id      BIGINT  NOT NULL,
    block_number  BIGINT  NOT NULL,
    log_index     BIGINT  NOT NULL,
    tx_hash       VARCHAR NOT NULL,
    address       VARCHAR NOT NULL,
    topic0        VARCHAR,
    reason        VARCHAR NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);

ALTER TABLE collector_health ADD COLUMN events BIGINT;
ALTER TABLE collector_health ADD COLUMN blocks BIGINT;
ALTER TABLE collector_health ADD COLUMN rpc_calls BIGINT;
ALTER TABLE collector_health ADD COLUMN retries BIGINT;
ALTER TABLE collector_health ADD COLUMN duration_ms DOUBLE;
