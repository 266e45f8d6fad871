"""Alerts: rules over the named queries, alert state with grouping and silences, an outbox, signed webhooks.

Flow: `evaluate.run_pass` asks every enabled rule (alerts/rules/) for its findings, turns them into alert
state transitions and writes the notifications they cause to the outbox in the same transaction;
`delivery.Worker` sends the outbox at least once per notification, each with its own stable webhook-id.
This package never imports `collectors/` or `pages/`; it is the only code sending HTTP to receivers.
"""
