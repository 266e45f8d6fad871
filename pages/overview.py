"""Overview: the headline facts of every watch at a glance."""

from ogwatch.ui import shell

f = shell.page("ogwatch", "Fees, verification and concentration of OpenGradient and Twin.fun, with evidence.")
shell.empty_state(
    "Headline facts will appear here",
    "Markets with uncapped, upgradeable or recently raised fees; the share of production inference "
    "running Vanilla (with n); settlement lag; Nakamoto coefficients of TEE operators and validators; "
    "firing alerts. They appear once the collectors have indexed the configured networks.",
)
