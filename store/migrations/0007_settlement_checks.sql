-- 0007_settlement_checks: Walrus blob checks of LLM settlement batches, and the leaves of verified batches.
-- Filled by collectors/blob_check.py. Both tables carry chain_id + block_number (the batch settlement's), so a
-- reorg rollback (store/chainwrite.rollback_above) trims them together with the settlements they describe.

-- One row per batch settlement (key of its `settlements` row). status:
--   verified     the root rebuilt from the published tree dump equals the root settled on chain
--   mismatch     the blob was read but does not prove the on-chain root (other root, wrong leaf count, not a dump)
--   unavailable  the batch could not be checked (no blob id, blob not found, aggregator unreachable); rechecked
-- reason: one line saying why. proof_checked/proof_ok: one leaf's proof checked on chain with the relay's
-- verifyProof (NULL proof_ok: not checked, see reason).
CREATE TABLE settlement_checks (
    chain_id       BIGINT  NOT NULL,
    block_number   BIGINT  NOT NULL,
    log_index      INTEGER NOT NULL,
    address        VARCHAR NOT NULL,
    merkle_root    VARCHAR NOT NULL,
    walrus_blob_id VARCHAR,
    status         VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    rebuilt_root   VARCHAR,
    leaves         INTEGER,
    proof_checked  BOOLEAN NOT NULL,
    proof_ok       BOOLEAN,
    attempts       INTEGER NOT NULL,
    checked_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);

-- The leaves of each verified batch (a dump that does not prove its root is not trusted: its leaves are not
-- stored). One row per settled inference: leaf_index is its position in the dump's values; hashes are 0x-hex;
-- timestamp_int the TEE's signing time (NULL above 2^53-1).
CREATE TABLE settlement_leaves (
    chain_id       BIGINT  NOT NULL,
    block_number   BIGINT  NOT NULL,
    log_index      INTEGER NOT NULL,
    leaf_index     INTEGER NOT NULL,
    tee_id         VARCHAR NOT NULL,
    input_hash     VARCHAR NOT NULL,
    output_hash    VARCHAR NOT NULL,
    timestamp_int  BIGINT,
    leaf_hash      VARCHAR NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index, leaf_index)
);
CREATE INDEX settlement_leaves_tee ON settlement_leaves (chain_id, tee_id);
