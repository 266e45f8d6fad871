"""Decentralization watch: how concentrated TEE operators and validators are."""

from ogwatch.ui import shell

f = shell.page("Decentralization", "Is a broad verification layer sitting on a narrow execution market?")
shell.empty_state(
    "No TEE registry or validator data yet",
    "TEE operators (from the registry and the settlements they sign) and validators (voting power), "
    "side by side: Nakamoto coefficients at 1/3, 1/2 and 2/3, HHI, Gini and top-N shares, per "
    "identifier and per entity. Data appears once the registry and validator collectors have run.",
)
