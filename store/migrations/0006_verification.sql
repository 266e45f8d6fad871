-- 0006_verification: one derived row per inference (collectors/inference_callers.py).
--
-- A row is one precompile inference log (ModelInferenceEvent, LLMChat, LLMCompletionEvent), keyed like the
-- `inferences` row it comes from, paired with the hub's result log of the same kind by log order within the
-- transaction (`result_log_index`), linked to a workflow's InferenceResultEmitted that repeats it
-- (`workflow_log_index`, `workflow`; the repeat is never a row of its own), and with who called:
--   sender            the transaction's `from`
--   caller            the contract that called the hub (NULL when an account called the hub directly)
--   caller_precision  'trace' (from the node's call traces) or 'tx_to' (the transaction's `to`: exact for a
--                     direct call into the hub or a caller contract, approximate inside batching contracts)
-- mode is the label in the kind's own enum (ML: VANILLA 0, ZKML 1, TEE 2; LLM: VANILLA 0, TEE 1), so an LLM TEE
-- inference is TEE, never ZKML. is_simulation is the ML response's flag (false for LLM kinds).
-- chain_id + block_number make it chain data: store/chainwrite.rollback_above trims it on a reorg and the job
-- derives it again from the re-indexed logs.

CREATE TABLE inference_calls (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL,
    position INTEGER NOT NULL,            -- 0-based order of this inference within its transaction
    inference_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    mode_int INTEGER NOT NULL,
    mode VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    is_simulation BOOLEAN NOT NULL,
    result_log_index INTEGER,
    workflow_log_index INTEGER,
    workflow VARCHAR,
    sender VARCHAR,
    caller VARCHAR,
    caller_precision VARCHAR NOT NULL,
    resolved_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX inference_calls_ts ON inference_calls (chain_id, block_ts);
