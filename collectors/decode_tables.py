"""The event tables as the decoders fill them: names, column order and SQL types.

This mirrors `store/migrations/0002_events.sql` column for column (a test compares both). Every table
starts with chain_id, which the engine adds (decoders do not know the chain); `COLUMNS` lists the rest,
which is exactly the keys of a decoded row, in table order. uint256 values (and the uint64 `version`)
are two columns, `<name>` exact decimal text and `<name>_f` DOUBLE (store/u256.py).
"""

from __future__ import annotations

_V, _D, _B, _I, _BI = "VARCHAR", "DOUBLE", "BOOLEAN", "INTEGER", "BIGINT"
CHAIN_ID = ("chain_id", _BI)
HEAD: tuple[tuple[str, str], ...] = (
    ("block_number", _BI), ("block_hash", _V), ("block_ts", _BI), ("tx_hash", _V),
    ("tx_index", _I), ("log_index", _I), ("address", _V), ("event", _V),
)


def _u(name: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The exact-text and float column pair of one uint256."""
    return (name, _V), (name + "_f", _D)


TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "trades": (
        ("trader", _V), ("twin_id", _V), ("subject", _V), ("is_buy", _B), *_u("share_amount"), *_u("eth_amount"),
        *_u("protocol_eth_amount"), *_u("subject_eth_amount"), *_u("supply"),
    ),
    "market_events": (("field", _V), ("value", _V), ("value_f", _D)),
    "admin_events": (
        ("implementation", _V), ("previous_owner", _V), ("new_owner", _V), ("role", _V), ("account", _V),
        ("sender", _V), ("previous_admin_role", _V), ("new_admin_role", _V), *_u("version"),
    ),
    "twin_events": (("twin_id", _V), ("new_owner", _V), ("url", _V)),
    "timelock_events": (
        ("operation_id", _V), *_u("call_index"), ("target", _V), *_u("value"), ("data", _V), ("selector", _V),
        ("predecessor", _V), *_u("delay"), ("salt", _V), *_u("old_duration"), *_u("new_duration"),
    ),
    "inferences": (
        ("inference_id", _V), ("kind", _V), ("mode_int", _I), ("mode", _V), ("model", _V),
        ("is_simulation_result", _B),
    ),
    "inference_results": (("kind", _V), ("caller", _V), ("is_simulation_result", _B), ("output_json", _V)),
    "settlements": (
        ("relay_version", _I), ("merkle_root", _V), *_u("batch_size"), ("walrus_blob_id", _V),
        ("walrus_blob_id_hex", _V), ("tee_id", _V), ("eth_address", _V), ("input_hash", _V), ("output_hash", _V),
        *_u("timestamp"), ("timestamp_int", _BI), ("signature", _V), ("model_info", _V), ("input_data", _V),
        ("output_data", _V),
    ),
    "tee_events": (
        ("tee_id", _V), ("owner", _V), ("tee_type", _I), *_u("timestamp"), ("timestamp_int", _BI),
        ("type_name", _V), ("pcr_hash", _V), ("pcr_version", _V), ("cert_hash", _V),
    ),
    "registry_events": (("old_registry", _V), ("new_registry", _V)),
}

#: Every table's columns and SQL types in table order, chain_id first.
SCHEMA: dict[str, tuple[tuple[str, str], ...]] = {t: (CHAIN_ID, *HEAD, *cols) for t, cols in TABLES.items()}
#: The keys of a decoded row of each table, in table order: every column but the leading chain_id.
COLUMNS: dict[str, list[str]] = {t: [c for c, _ in cols[1:]] for t, cols in SCHEMA.items()}
