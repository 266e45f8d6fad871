-- 0010_verification_summary: summaries of `inference_calls` that the verification queries read at scale.
--
-- They cover a chain's rows up to its WATERMARK (verification_summary_state.watermark, a block number); the
-- queries add the rows above it, and the partial hour after a `since`, from `inference_calls` itself, so every
-- answer is exactly the one the rows alone give. store/verification_summary.py maintains them: the inference-
-- caller job folds the rows it writes in and advances the watermark (bounded per tick); a reorg rollback
-- (store/chainwrite.rollback_above) recomputes the groups it touches from the rows at or below the fork first
-- and lowers the watermark to the fork. None of these tables has a `block_number` column, so the schema-driven
-- rollback never trims them half-way (they have `first_block` / `last_block`).
--
-- ckey is lower(coalesce(caller, sender, '')): the key a production-tagged caller is matched on at read time.
-- hour / day are the UTC start of the rows' block time (block_ts // 3600 * 3600, // 86400 * 86400; NULL when
-- the block time is unknown).

CREATE TABLE verification_caller_hours (
    chain_id BIGINT NOT NULL, hour BIGINT, caller VARCHAR, ckey VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    mode VARCHAR NOT NULL, is_simulation BOOLEAN NOT NULL, caller_precision VARCHAR NOT NULL,
    n BIGINT NOT NULL, first_block BIGINT NOT NULL, last_block BIGINT NOT NULL
);
CREATE TABLE verification_caller_days (
    chain_id BIGINT NOT NULL, day BIGINT, caller VARCHAR, ckey VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    mode VARCHAR NOT NULL, is_simulation BOOLEAN NOT NULL, caller_precision VARCHAR NOT NULL,
    n BIGINT NOT NULL, first_block BIGINT NOT NULL, last_block BIGINT NOT NULL
);
CREATE TABLE verification_model_hours (
    chain_id BIGINT NOT NULL, hour BIGINT, kind VARCHAR NOT NULL, mode VARCHAR NOT NULL, model VARCHAR NOT NULL,
    is_simulation BOOLEAN NOT NULL, n BIGINT NOT NULL
);
CREATE TABLE verification_mode_hours (
    chain_id BIGINT NOT NULL, hour BIGINT, mode VARCHAR NOT NULL, is_simulation BOOLEAN NOT NULL, n BIGINT NOT NULL
);
-- One row per (chain, caller, sender) pair with a sender: the senders active since S are the pairs whose
-- last_ts >= S (exact: max of the pair's block times).
CREATE TABLE verification_senders (
    chain_id BIGINT NOT NULL, caller VARCHAR, sender VARCHAR NOT NULL,
    n BIGINT NOT NULL, first_block BIGINT NOT NULL, last_block BIGINT NOT NULL, last_ts BIGINT
);
-- How many of those pairs have their last block time in each UTC day and hour (NULL: no block time), so that
-- the count since S reads whole days and hours here and only the pairs of the partial hour above.
CREATE TABLE verification_sender_days (chain_id BIGINT NOT NULL, caller VARCHAR, day BIGINT, pairs BIGINT NOT NULL);
CREATE TABLE verification_sender_hours (chain_id BIGINT NOT NULL, caller VARCHAR, hour BIGINT, pairs BIGINT NOT NULL);
-- Per chain, over the summarised calls: the counts of `verification_coverage` for calls whose inference row
-- is stored, and `unmatched` calls without one when folded (while any, the query counts that chain's rows
-- itself: an inference stored later would change the answer). Inference rows go only with their calls (a
-- rollback or a forgotten chain), so with none unmatched the counts stay exact.
CREATE TABLE verification_coverage_counts (
    chain_id BIGINT NOT NULL, derived BIGINT NOT NULL, caller_from_trace BIGINT NOT NULL,
    caller_from_tx_to BIGINT NOT NULL, paired_with_result BIGINT NOT NULL, workflow_linked BIGINT NOT NULL,
    unmatched BIGINT NOT NULL
);
CREATE TABLE verification_summary_state (
    chain_id BIGINT PRIMARY KEY, watermark BIGINT NOT NULL, updated_at TIMESTAMPTZ NOT NULL
);
