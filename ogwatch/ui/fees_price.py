"""The trader's price check on the fees page: buy and sell after fees, now and at the worst-case fees.

Live prices come from the market's own views through `collectors.live_prices` (read-only, cached for
10 s). When the RPC is down the section says so and shows the last indexed values it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from collectors import live_prices
from collectors.live_prices import LiveUnavailable, Quote
from ogwatch.config import Config

MAX_AMOUNT = 1000


@st.cache_data(ttl=10, show_spinner=False)
def cached_quote(_cfg: Config, net_key: str, network: str, market: str, kind: str, subject: str,
                 amount: int) -> Quote:
    """`live_prices.quote`, cached for 10 s per network settings, market, subject and amount (errors are not)."""
    return live_prices.quote(_cfg, network, market, kind, subject, amount)


def _net_key(cfg: Config, network: str) -> str:
    net = cfg.networks.get(network)
    return net.model_dump_json(include={"chain_id", "rpc_urls", "rpc_url_env"}) if net else ""


def price_rows(q: Quote, worst_total_wad: int, symbol: str, amount: int) -> list[dict[str, str]]:
    """The table: current vs worst-case buy and sell after fees, exact, in the chain's token."""
    current_total = q.protocol_fee_pct + q.subject_fee_pct
    worst = live_prices.worst_case(q.buy_price, q.sell_price, [worst_total_wad])
    cur_head = f"Current fees ({live_prices.wad_to_pct(current_total)} %)"
    worst_head = f"Worst case ({live_prices.wad_to_pct(worst_total_wad)} %)"
    no_sell = "not possible (supply too small)"
    if worst.sell is None:
        worst_sell = no_sell
    elif worst.sell_returns_nothing:
        worst_sell = f"{live_prices.format_amount(0, symbol)} (selling returns nothing)"
    else:
        worst_sell = live_prices.format_amount(worst.sell, symbol)
    return [
        {"": f"Buy {amount} after fees", cur_head: live_prices.format_amount(q.buy_after_fee, symbol),
         worst_head: live_prices.format_amount(worst.buy, symbol)},
        {"": f"Sell {amount} after fees",
         cur_head: no_sell if q.sell_after_fee is None else live_prices.format_amount(q.sell_after_fee, symbol),
         worst_head: worst_sell},
    ]


def render_price_check(cfg: Config, network: str, market_address: str, kind: str,
                       worst_case_total_pct: float | None, *,
                       last_indexed: Mapping[str, Any] | None = None) -> None:
    """The price-check section for one market; `worst_case_total_pct` in percent (None: unbounded, 100 %).

    `last_indexed` (optional) is shown as-is when the live views cannot be read.
    """
    st.subheader("Price check for a trader")
    key = f"price_check_{network}_{market_address}"
    is_ft = kind == "friendtech_market"
    subject = st.text_input("Subject address" if is_ft else "Twin id (0x + 32 hex digits)", key=f"{key}_subject",
                            max_chars=66)  # an address is 42, a twin id 34: longer input is never valid
    amount = int(st.number_input("Amount (shares)", min_value=1, max_value=MAX_AMOUNT, value=1, step=1,
                                 key=f"{key}_amount"))
    if not subject.strip():
        st.caption("Enter a subject to see what buying and selling cost now and at the worst-case fees.")
        return
    net = cfg.networks.get(network)
    symbol = net.native_symbol if net else "?"
    try:
        worst_wad = live_prices.WAD if worst_case_total_pct is None else live_prices.pct_to_wad(worst_case_total_pct)
        q = cached_quote(cfg, _net_key(cfg, network), network, market_address, kind, subject.strip(), amount)
    except ValueError as err:
        st.error(f"Cannot check this price: {err}")
        return
    except LiveUnavailable as err:
        st.warning(f"Live prices unavailable (RPC down): {err}")
        if last_indexed:
            st.caption("Last indexed values")
            st.table([{"": str(k), "value": str(v)} for k, v in last_indexed.items()])
        else:
            st.caption("No indexed values to show instead.")
        return
    st.table(price_rows(q, worst_wad, symbol, amount))
    unbounded = " (no bound known: 100 %)" if worst_case_total_pct is None else ""
    st.caption(f"From the market's own views at block {q.block}; worst case assumes a total fee of "
               f"{live_prices.wad_to_pct(worst_wad)} %{unbounded}. Amounts in {symbol}, 18 decimals.")
