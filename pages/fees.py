"""Fee watch: each market's current fees, who can change them, the worst case, and every change."""

from ogwatch.ui import shell

f = shell.page("Fee watch", "For traders, before a trade: what fee will this market charge, and who can change it?")
shell.empty_state(
    "No markets indexed yet",
    "For each Twin.fun or friend.tech market: protocol and subject fee, who can change them (owner, "
    "timelock, multisig, role holders), whether a ceiling exists, the worst-case fee, and every past "
    "change with block, transaction, old and new value. Markets appear when the fee collector has run "
    "on the selected network.",
)
