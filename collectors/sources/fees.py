"""Fee watch source: Twin.fun and friend.tech markets and the timelocks that own them."""

from collectors.sources.base import LogSource

SOURCE = LogSource("fees", frozenset({"twinfun_market", "twinfun_docs_market", "friendtech_market", "timelock"}),
                   "Trades, fee setters, upgrades, ownership and roles of fee-bearing markets.")
