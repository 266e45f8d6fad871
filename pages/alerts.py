"""Alerts: firing and resolved alerts, silences, and webhook deliveries."""

from ogwatch.ui import shell

f = shell.page("Alerts", "What ogwatch would page you about, and what it already sent.")
shell.empty_state(
    "No alerts yet",
    "Firing and resolved alerts (uncapped fee hikes, cap removals, Vanilla in production, settlement "
    "stalls, concentration, stale data) with their evidence, and every signed webhook delivery. Alerts "
    "appear once rules are configured and the scheduler (`ogwatch run`) is running.",
)
