"""Named queries of the alerts work: chain clocks and change histories rules read, and alert/delivery state.

Rules read `alerts_chain_heads` (the head-block time of each chain: chain-derived rules never use the wall
clock), the ceiling and control histories; the page and the CLI read the alert, silence and delivery tables.
"""

from __future__ import annotations

from store.queries import Query, register

register(Query(
    "alerts_chain_heads",
    "SELECT chain_id, max(number) AS head_block, max(ts) AS head_time FROM blocks GROUP BY chain_id ORDER BY chain_id",
    "Each chain's highest indexed block and its time: the clock of chain-derived alert rules.",
))

register(Query(
    "alerts_ceiling_changes",
    """
    WITH h AS (
        SELECT chain_id, address, field, block_number, label, max_accepted,
               lag(label) OVER w AS prev_label, lag(max_accepted) OVER w AS prev_max
        FROM ceilings WINDOW w AS (PARTITION BY chain_id, address, field ORDER BY block_number)
    )
    SELECT h.*, b.ts AS block_time FROM h LEFT JOIN blocks b ON b.chain_id = h.chain_id AND b.number = h.block_number
    WHERE h.prev_label IS NOT NULL
      AND (h.prev_label <> h.label OR h.prev_max IS DISTINCT FROM h.max_accepted)
    ORDER BY h.chain_id, h.address, h.block_number, h.field
    """,
    "Every change of a fee's ceiling verdict (label or largest accepted value) between two evaluations.",
))

register(Query(
    "alerts_control_changes",
    """
    WITH h AS (
        SELECT chain_id, address, block_number, owner, owner_kind, implementation, upgradeable,
               lag(owner) OVER w AS prev_owner, lag(owner_kind) OVER w AS prev_owner_kind,
               lag(implementation) OVER w AS prev_implementation, lag(upgradeable) OVER w AS prev_upgradeable,
               row_number() OVER w AS n
        FROM market_control WINDOW w AS (PARTITION BY chain_id, address ORDER BY block_number)
    )
    SELECT h.*, b.ts AS block_time FROM h LEFT JOIN blocks b ON b.chain_id = h.chain_id AND b.number = h.block_number
    WHERE h.n > 1 AND (h.prev_owner IS DISTINCT FROM h.owner OR h.prev_implementation IS DISTINCT FROM h.implementation
                       OR h.prev_upgradeable IS DISTINCT FROM h.upgradeable)
    ORDER BY h.chain_id, h.address, h.block_number
    """,
    "Every change of who controls a market: owner, owner kind, implementation (upgrade) or upgradeability.",
))

register(Query(
    "alerts_reorgs_after",
    "SELECT chain_id, detected_at, fork_block FROM reorgs WHERE detected_at > $since ORDER BY detected_at",
    "Reorgs recorded after a time (alerts whose data lay above the fork point are retracted).",
    {"since": "ts"},
))

register(Query(
    "alerts_list",
    """
    SELECT fingerprint, rule, severity, status, silenced, summary, labels, evidence, source_chain, source_block,
           chain_time, first_fired_at, last_seen_at, resolved_at
    FROM alerts WHERE ($status IS NULL OR status = $status)
    ORDER BY CASE status WHEN 'firing' THEN 0 ELSE 1 END,
             CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, last_seen_at DESC
    LIMIT 1000
    """,
    "Alerts (firing first, then by severity): summary, labels and evidence JSON, source block, times.",
    {"status": "str"},
    frozenset({"status"}),
))

register(Query(
    "alerts_history",
    "SELECT h.seq, h.happened_at, h.transition, h.detail, h.fingerprint, a.rule, a.severity FROM alert_history h "
    "LEFT JOIN alerts a USING (fingerprint) ORDER BY h.seq DESC LIMIT $limit",
    "The latest alert transitions (firing, resolved, retracted, silenced).",
    {"limit": "int"},
))

register(Query(
    "alerts_silences",
    "SELECT id, rule, matchers, created_at, expires_at, comment, expires_at > $now AS active FROM silences "
    "ORDER BY expires_at DESC",
    "Stored silences and whether each is active at a time.",
    {"now": "ts"},
))

register(Query(
    "alerts_outbox",
    """
    SELECT id, channel, seq, kind, status, attempts, created_at, next_attempt_at, delivered_at, last_error,
           fingerprints
    FROM outbox WHERE ($status IS NULL OR status = $status) AND ($channel IS NULL OR channel = $channel)
    ORDER BY created_at DESC, channel, seq DESC LIMIT 500
    """,
    "Notifications in the outbox: channel, per-channel sequence, kind, delivery status and attempts.",
    {"status": "str", "channel": "str"},
    frozenset({"status", "channel"}),
))

register(Query(
    "alerts_delivery_summary",
    """
    SELECT channel, count(*) AS notifications,
           count(*) FILTER (WHERE status = 'delivered') AS delivered,
           count(*) FILTER (WHERE status = 'pending') AS pending,
           count(*) FILTER (WHERE status = 'dead') AS dead,
           max(seq) AS last_seq, max(delivered_at) AS last_delivered_at,
           min(created_at) FILTER (WHERE status = 'pending') AS oldest_pending
    FROM outbox GROUP BY channel ORDER BY channel
    """,
    "Delivery status per channel: delivered, pending, dead-lettered, last delivery, oldest pending.",
))

register(Query(
    "alerts_attempts",
    "SELECT message_id, attempt, attempted_at, outcome, status_code, error, duration_ms FROM delivery_attempts "
    "WHERE ($message_id IS NULL OR message_id = $message_id) ORDER BY attempted_at DESC, attempt DESC LIMIT 500",
    "Delivery attempts (every one is recorded): outcome, HTTP status, redacted error, duration.",
    {"message_id": "str"},
    frozenset({"message_id"}),
))

register(Query(
    "alerts_dead_letters",
    "SELECT d.message_id, d.channel, d.dead_at, d.attempts, d.last_error, d.replayed_at, o.kind, o.seq "
    "FROM dead_letters d LEFT JOIN outbox o ON o.id = d.message_id ORDER BY d.dead_at DESC",
    "Notifications whose retries ran out, and whether they were replayed.",
))

register(Query(
    "alerts_last_run",
    "SELECT evaluated_at, rules, findings, notifications, errors FROM alert_runs ORDER BY evaluated_at DESC LIMIT 1",
    "The latest alert evaluation pass: when, how many rules, findings and notifications, rule errors.",
))
