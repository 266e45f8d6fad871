-- Decoded chain events, one table per family (rows come from collectors/decode.py, columns in this order).
-- Every table starts with chain_id and the common log columns; a row is one log, keyed by
-- (chain_id, block_number, log_index). Columns that an event of the family does not have are NULL.
-- uint256 values (and the uint64 version) are exact decimal text `<name>` plus `<name>_f` DOUBLE for charts
-- (store/u256.py); bytes/bytes32/bytes16 are 0x-hex lower text; addresses are EIP-55 checksummed text;
-- block_ts is the block's unix time in seconds (to_timestamp(block_ts) for a TIMESTAMPTZ), NULL when unknown.
--
-- family            events
-- trades            Trade of Twin.fun (twin_id = bytes16 digitalTwinId) and of friend.tech (subject = address)
-- market_events     ProtocolFeePercentSet, SubjectFeePercentSet, ProtocolFeeDestinationSet, MinSharesToCreateSet:
--                   field = protocolFeePercent | subjectFeePercent | protocolFeeDestination | minSharesToCreate,
--                   value = exact decimal (value_f its float) or, for the destination, an address (value_f NULL)
-- admin_events      Upgraded, OwnershipTransferred, RoleGranted, RoleRevoked, RoleAdminChanged, Initialized
-- twin_events       DigitalTwinOwnershipClaimed, DigitalTwinUrlSet
-- timelock_events   OpenZeppelin TimelockController: CallScheduled, CallExecuted, CallSalt, Cancelled,
--                   MinDelayChange (selector = first 4 bytes of the scheduled/executed call data)
-- inferences        precompile ModelInferenceEvent (kind ml), LLMChat (llm_chat), LLMCompletionEvent
--                   (llm_completion): mode_int as emitted, mode its label in the kind's own enum
--                   (ML: VANILLA 0, ZKML 1, TEE 2; LLM: VANILLA 0, TEE 1; else UNKNOWN(n))
-- inference_results hub InferenceResult, LLMChatResult, LLMCompletionResult; workflow InferenceResultEmitted
-- settlements       relay v2 BatchSettlement, IndividualSettlement (relay_version 2); relay v1 Settlement,
--                   BatchSettlement, SettlementWithMetadata (relay_version 1). walrus_blob_id is the UTF-8
--                   text of the blob id bytes; timestamp_int the TEE timestamp as BIGINT (NULL above 2^53-1,
--                   where it is no time and a double would round it)
-- tee_events        TEERegistered, TEEEnabled, TEEDisabled, HeartbeatReceived, TEETypeAdded, PCRApproved,
--                   PCRRevoked, AWSCertificateUpdated
-- registry_events   the TEE verifier's RegistryUpdated

CREATE TABLE trades (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    trader VARCHAR NOT NULL,
    twin_id VARCHAR,
    subject VARCHAR,
    is_buy BOOLEAN NOT NULL,
    share_amount VARCHAR NOT NULL, share_amount_f DOUBLE NOT NULL,
    eth_amount VARCHAR NOT NULL, eth_amount_f DOUBLE NOT NULL,
    protocol_eth_amount VARCHAR NOT NULL, protocol_eth_amount_f DOUBLE NOT NULL,
    subject_eth_amount VARCHAR NOT NULL, subject_eth_amount_f DOUBLE NOT NULL,
    supply VARCHAR NOT NULL, supply_f DOUBLE NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX trades_market ON trades (chain_id, address);

CREATE TABLE market_events (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    value_f DOUBLE,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX market_events_market ON market_events (chain_id, address);

CREATE TABLE admin_events (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    implementation VARCHAR,
    previous_owner VARCHAR,
    new_owner VARCHAR,
    role VARCHAR,
    account VARCHAR,
    sender VARCHAR,
    previous_admin_role VARCHAR,
    new_admin_role VARCHAR,
    version VARCHAR, version_f DOUBLE,  -- Initialized(uint64), exact text: 2^64-1 when initializers are disabled
    PRIMARY KEY (chain_id, block_number, log_index)
);

CREATE TABLE twin_events (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    twin_id VARCHAR NOT NULL,
    new_owner VARCHAR,
    url VARCHAR,
    PRIMARY KEY (chain_id, block_number, log_index)
);

CREATE TABLE timelock_events (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    operation_id VARCHAR,
    call_index VARCHAR, call_index_f DOUBLE,
    target VARCHAR,
    value VARCHAR, value_f DOUBLE,
    data VARCHAR,
    selector VARCHAR,
    predecessor VARCHAR,
    delay VARCHAR, delay_f DOUBLE,
    salt VARCHAR,
    old_duration VARCHAR, old_duration_f DOUBLE,
    new_duration VARCHAR, new_duration_f DOUBLE,
    PRIMARY KEY (chain_id, block_number, log_index)
);

CREATE TABLE inferences (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    inference_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    mode_int INTEGER NOT NULL,
    mode VARCHAR NOT NULL,
    model VARCHAR NOT NULL,           -- request.modelCID (ML model CID or LLM model name)
    is_simulation_result BOOLEAN,     -- ML only: the response's last field
    PRIMARY KEY (chain_id, block_number, log_index)
);

CREATE TABLE inference_results (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    caller VARCHAR,                   -- InferenceResultEmitted only
    is_simulation_result BOOLEAN,     -- ML outputs only
    output_json VARCHAR NOT NULL,     -- tensor numbers as [value as decimal text, decimals]
    PRIMARY KEY (chain_id, block_number, log_index)
);

CREATE TABLE settlements (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    relay_version INTEGER NOT NULL,
    merkle_root VARCHAR,
    batch_size VARCHAR, batch_size_f DOUBLE,
    walrus_blob_id VARCHAR,
    walrus_blob_id_hex VARCHAR,
    tee_id VARCHAR,
    eth_address VARCHAR,
    input_hash VARCHAR,
    output_hash VARCHAR,
    timestamp VARCHAR, timestamp_f DOUBLE,
    timestamp_int BIGINT,
    signature VARCHAR,
    model_info VARCHAR,
    input_data VARCHAR,
    output_data VARCHAR,
    PRIMARY KEY (chain_id, block_number, log_index)
);

CREATE TABLE tee_events (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    tee_id VARCHAR,
    owner VARCHAR,
    tee_type INTEGER,
    timestamp VARCHAR, timestamp_f DOUBLE,
    timestamp_int BIGINT,
    type_name VARCHAR,
    pcr_hash VARCHAR,
    pcr_version VARCHAR,
    cert_hash VARCHAR,
    PRIMARY KEY (chain_id, block_number, log_index)
);

CREATE TABLE registry_events (
    chain_id BIGINT NOT NULL, block_number BIGINT NOT NULL, block_hash VARCHAR NOT NULL, block_ts BIGINT,
    tx_hash VARCHAR NOT NULL, tx_index INTEGER NOT NULL, log_index INTEGER NOT NULL, address VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    old_registry VARCHAR NOT NULL,
    new_registry VARCHAR NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
