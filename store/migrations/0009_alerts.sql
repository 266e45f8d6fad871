-- Alerts: state per fingerprint, its history, grouping, silences, the outbox, every delivery attempt, dead letters.
-- No table here has both a `chain_id` and a `block_number` column: a reorg rollback must not trim alert history;
-- the chain data an alert came from is named (source_chain, source_block) and a reorg retracts the alert instead.

-- One row per alert (fingerprint: stable hash of the rule and what the alert is about).
CREATE TABLE alerts (
    fingerprint     VARCHAR PRIMARY KEY,
    rule            VARCHAR NOT NULL,
    severity        VARCHAR NOT NULL,          -- info | warning | critical
    status          VARCHAR NOT NULL,          -- firing | resolved | retracted
    group_key       VARCHAR NOT NULL,
    summary         VARCHAR NOT NULL,
    labels          VARCHAR NOT NULL,          -- JSON object of strings
    evidence        VARCHAR NOT NULL,          -- JSON: the query rows behind the alert
    source_chain    BIGINT,                    -- the chain and block of the data it came from (NULL: not chain data)
    source_block    BIGINT,
    chain_time      TIMESTAMPTZ,               -- head-block time of that chain when it was evaluated
    first_fired_at  TIMESTAMPTZ NOT NULL,      -- the evaluator's clock (wall, injectable)
    last_seen_at    TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    silenced        BOOLEAN NOT NULL DEFAULT false
);

-- Every transition of every alert: the history pages show.
CREATE TABLE alert_history (
    seq          BIGINT PRIMARY KEY,
    fingerprint  VARCHAR NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL,
    transition   VARCHAR NOT NULL,             -- firing | resolved | retracted | silenced | unsilenced
    detail       VARCHAR NOT NULL
);

-- Grouping state per (channel, group): when it was first dirty and when it last notified.
CREATE TABLE alert_groups (
    channel        VARCHAR NOT NULL,
    group_key      VARCHAR NOT NULL,
    dirty_since    TIMESTAMPTZ,                -- NULL: nothing new since the last notification
    last_sent_at   TIMESTAMPTZ,
    sent_firing    VARCHAR NOT NULL DEFAULT '[]',  -- JSON: fingerprints firing in the last notification
    PRIMARY KEY (channel, group_key)
);

-- Silences: a rule (or '*') and label matchers, until an expiry. Config silences are applied too, not stored.
CREATE TABLE silences (
    id          VARCHAR PRIMARY KEY,
    rule        VARCHAR NOT NULL,
    matchers    VARCHAR NOT NULL,              -- JSON object: label -> value, all must match
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    comment     VARCHAR NOT NULL
);

-- The outbox: every notification, written in the same transaction as the alert state that caused it.
-- id is the webhook-id, fixed when the row is written: retries and restarts resend the same id.
CREATE TABLE outbox (
    id               VARCHAR PRIMARY KEY,
    channel          VARCHAR NOT NULL,
    seq              BIGINT  NOT NULL,         -- per channel, from 1, in creation order
    kind             VARCHAR NOT NULL,         -- firing | repeat | resolved | retracted | heartbeat | test
    group_key        VARCHAR NOT NULL,
    fingerprints     VARCHAR NOT NULL,         -- JSON list
    body             VARCHAR NOT NULL,         -- the generic JSON payload (Slack/Discord are rendered from it)
    created_at       TIMESTAMPTZ NOT NULL,
    status           VARCHAR NOT NULL,         -- pending | delivered | dead | expired (a failed heartbeat)
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ,
    last_error       VARCHAR,
    UNIQUE (channel, seq)
);

-- Every delivery attempt (redacted error text; never a URL or a secret).
CREATE TABLE delivery_attempts (
    message_id   VARCHAR NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL,
    outcome      VARCHAR NOT NULL,             -- delivered | failed | timeout | refused
    status_code  INTEGER,
    error        VARCHAR,
    duration_ms  DOUBLE,
    PRIMARY KEY (message_id, attempt)
);

-- Notifications whose retries ran out; `ogwatch alerts replay` puts them back in the outbox (same id).
CREATE TABLE dead_letters (
    message_id   VARCHAR PRIMARY KEY,
    channel      VARCHAR NOT NULL,
    dead_at      TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   VARCHAR,
    replayed_at  TIMESTAMPTZ
);

-- One row per evaluation pass: what the health command and the page read.
CREATE TABLE alert_runs (
    evaluated_at   TIMESTAMPTZ NOT NULL,
    rules          INTEGER NOT NULL,
    findings       INTEGER NOT NULL,
    notifications  INTEGER NOT NULL,
    errors         VARCHAR NOT NULL            -- JSON: rule -> one redacted line
);
