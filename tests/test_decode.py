"""Pure decoders: hand-built logs (encoded with eth_abi) decode to what was encoded, malformed logs are
reported not raised, the registry matches the ABI files, rows round-trip through DuckDB exactly, and on
the devnet every log decodes and agrees with the simulator's ground truth."""

from __future__ import annotations

import re
import typing
from typing import Any

import duckdb
import pandas as pd
import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from collectors import abis
from collectors.decode import COLUMNS, decode_logs, to_frame
from collectors.decode_core import RawLog, canonical_type, signature
from collectors.decode_tables import SCHEMA
from collectors.events import EVENTS, TIMELOCK_ABI, EventSpec, by_topic0, for_kinds, load_abi
from devnet import truth as truthmod
from devnet.contracts_info import load_artifact
from devnet.nodes import rpc_batch
from devnet.world import TRUTH_FILE
from ogwatch.config import ContractKind
from store.db import Store

MAX = 2**256 - 1
BY_SIG = {s.signature: s for s in EVENTS}


def spec(sig: str) -> EventSpec:
    return BY_SIG[sig] if "(" in sig else next(s for s in EVENTS if s.name == sig)


def abi_event(s: EventSpec) -> dict[str, Any]:
    return next(e for e in load_abi(s.abi_file) if e.get("type") == "event" and signature(e) == s.signature)


def make_log(s: EventSpec, values: dict[str, Any], log_index: int = 0, tx: str = "0x" + "77" * 32) -> RawLog:
    """A log of event `s` with the given parameter values, encoded by eth_abi (not by the code under test)."""
    ev = abi_event(s)
    topics = [s.topic0] + ["0x" + encode([p["type"]], [values[p["name"]]]).hex() for p in ev["inputs"] if p["indexed"]]
    body = [p for p in ev["inputs"] if not p["indexed"]]
    data = "0x" + encode([canonical_type(p) for p in body], [values[p["name"]] for p in body]).hex()
    return RawLog(block_number=100 + log_index, block_hash="0x" + "ab" * 32, block_ts=1_700_000_000 + log_index,
                  tx_hash=tx, tx_index=3, log_index=log_index,
                  address="0x5FC8d32690cc91D4c39d9d3abcBD16989F875707", topics=topics, data=data)


def sample(abi_type: str, i: int) -> Any:
    if abi_type == "address":
        return to_checksum_address("0x" + f"{i + 0xa1:02x}" * 20)
    if abi_type == "bool":
        return True
    if abi_type == "uint256":
        return (MAX, 0, 12345678901234567890123)[i % 3]
    if m := re.fullmatch(r"uint(\d+)", abi_type):
        return 2 ** int(m.group(1)) - 1
    if m := re.fullmatch(r"bytes(\d+)", abi_type):
        return bytes([i + 1]) * int(m.group(1))
    if abi_type == "bytes":
        return bytes(range(i, i + 37))
    return f"näme ✓ {i}"


def one(logs: list[RawLog]) -> dict[str, Any]:
    tables, errors = decode_logs(logs)
    assert errors == [] and len(tables) == 1
    (rows,) = tables.values()
    assert len(rows) == 1
    return rows[0]


# ---- every simple event: each encoded value is in its column ----
RENAMED = {"digitalTwinId": "twin_id", "walrusBlobId": "walrus_blob_id_hex", "id": "operation_id",
           "index": "call_index", "typeId": "tee_type", ("TEETypeAdded", "name"): "type_name",
           ("PCRApproved", "version"): "pcr_version"}
SIMPLE = [s for s in EVENTS if s.table not in ("inferences", "inference_results")]


def column_of(event: str, name: str, table: str) -> str:
    if table == "market_events":
        return "value"
    col = RENAMED.get((event, name)) or RENAMED.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return str(col)


@pytest.mark.parametrize("s", SIMPLE, ids=lambda s: f"{s.name}/{s.topic_count}")
def test_every_simple_event_decodes_what_was_encoded(s: EventSpec) -> None:
    ev = abi_event(s)
    values = {p["name"]: sample(p["type"], i) for i, p in enumerate(ev["inputs"])}
    row = one([make_log(s, values)])
    assert list(row) == COLUMNS[s.table] and row["event"] == s.name and row["block_ts"] == 1_700_000_000
    for p in ev["inputs"]:
        col, v = column_of(s.name, p["name"], s.table), values[p["name"]]
        if p["type"].startswith("uint") and f"{col}_f" in COLUMNS[s.table]:  # uint64 version kept like uint256
            assert (row[col], row[col + "_f"]) == (str(v), float(v)), col
        elif p["type"].startswith("bytes"):
            assert row[col] == "0x" + v.hex(), col
        else:
            assert row[col] == v, col


def test_trades_of_both_markets() -> None:
    args = {"trader": sample("address", 0), "isBuy": False, "shareAmount": MAX, "ethAmount": 0,
            "protocolEthAmount": 10**18, "subjectEthAmount": 3, "supply": 2**255}
    twin = one([make_log(spec("Trade(address,bytes16,bool,uint256,uint256,uint256,uint256,uint256)"),
                         args | {"digitalTwinId": bytes.fromhex("ef53d48a5218dea1b45ba2e11e1185d9")})])
    assert twin["twin_id"] == "0xef53d48a5218dea1b45ba2e11e1185d9" and twin["subject"] is None
    assert (twin["is_buy"], twin["share_amount"], twin["eth_amount"]) == (False, str(MAX), "0")
    assert twin["supply"] == str(2**255) and twin["protocol_eth_amount_f"] == 1e18
    ft = one([make_log(spec("Trade(address,address,bool,uint256,uint256,uint256,uint256,uint256)"),
                       args | {"subject": sample("address", 5)})])
    assert ft["subject"] == sample("address", 5) and ft["twin_id"] is None and ft["trader"] == args["trader"]


def test_setters_name_their_field() -> None:
    dest = one([make_log(spec("ProtocolFeeDestinationSet"), {"protocolFeeDestination": sample("address", 1)})])
    assert (dest["field"], dest["value"], dest["value_f"]) == ("protocolFeeDestination", sample("address", 1), None)
    fee = one([make_log(spec("SubjectFeePercentSet"), {"subjectFeePercent": 5 * 10**16})])
    assert (fee["field"], fee["value"], fee["value_f"]) == ("subjectFeePercent", "50000000000000000", 5e16)
    init = one([make_log(spec("Initialized"), {"version": 2**64 - 1})])
    assert (init["version"], init["version_f"]) == (str(2**64 - 1), float(2**64 - 1))


def test_settlement_v2_blob_id_text_and_timestamp() -> None:
    s = spec("IndividualSettlement")
    blob = "nJKB9nNgNdNS2omyhWaVh92zp0uupxg5pwE5V3160bA"
    row = one([make_log(s, {"teeId": b"\x11" * 32, "ethAddress": sample("address", 2), "inputHash": b"\x22" * 32,
                            "outputHash": b"\x33" * 32, "timestamp": 1795629172, "walrusBlobId": blob.encode(),
                            "signature": b"\x01" * 65})])
    assert row["walrus_blob_id"] == blob and row["relay_version"] == 2
    assert row["walrus_blob_id_hex"] == "0x" + blob.encode().hex()
    assert (row["tee_id"], row["timestamp"], row["timestamp_int"]) == ("0x" + "11" * 32, "1795629172", 1795629172)
    huge = one([make_log(s, {"teeId": b"\x11" * 32, "ethAddress": sample("address", 2), "inputHash": b"\x22" * 32,
                             "outputHash": b"\x33" * 32, "timestamp": MAX, "walrusBlobId": b"\xff\xfe",
                             "signature": b""})])
    assert (huge["timestamp"], huge["timestamp_int"], huge["walrus_blob_id"]) == (str(MAX), None, "\ufffd\ufffd")
    v1 = one([make_log(spec("BatchSettlement(bytes32,uint256)"), {"merkleRoot": b"\x44" * 32, "batchSize": 7})])
    assert (v1["relay_version"], v1["batch_size"], v1["walrus_blob_id"]) == (1, "7", None)


def test_timelock_selector_and_invalid_utf8() -> None:
    row = one([make_log(spec("CallScheduled"), {"id": b"\x01" * 32, "index": 0, "target": sample("address", 3),
                                                "value": 0, "data": bytes.fromhex("a4983421") + b"\x00" * 32,
                                                "predecessor": b"\x00" * 32, "delay": 3600})])
    assert (row["selector"], row["delay"], row["call_index"]) == ("0xa4983421", "3600", "0")
    url = one([make_log(spec("DigitalTwinUrlSet"), {"digitalTwinId": b"\x09" * 16, "url": "x"})])
    assert url["url"] == "x"
    bad = make_log(spec("DigitalTwinUrlSet"), {"digitalTwinId": b"\x09" * 16, "url": "x"})
    bad["data"] = "0x" + encode(["bytes16", "bytes"], [b"\x09" * 16, b"ok\xff\xc3"]).hex()
    assert one([bad])["url"] == "ok\ufffd\ufffd"


# ---- inference events (nested tuples) ----
TENSORS = ([("input", [(-(2**127), 3), (2**127 - 1, 0)], [2])], [("tags", ["eth", "\u00e9"])])
ML_OUT = (TENSORS[0], TENSORS[1], [("meta", '{"a":1}')], True)
MSG = ("assistant", "hi", "", "", [("c1", "fn", "{}")])


def _ml(mode: int, model: str = "QmModel") -> RawLog:
    return make_log(spec("ModelInferenceEvent"), {"inferenceID": "inf-1", "request": (mode, model, TENSORS),
                                                  "response": ML_OUT})


def _chat(mode: int) -> RawLog:
    request: tuple[Any, ...] = (mode, "Qwen/Qwen2.5-72B-Instruct", [("user", "q", "", "", [])], [("d", "n", "{}")],
                                "", 64, ["\n"], 7)
    return make_log(spec("LLMChat"), {"inferenceID": "chat-1", "request": request, "response": ("stop", MSG)})


def test_ml_inference_mode_model_and_simulation_flag() -> None:
    row = one([_ml(1)])
    assert (row["kind"], row["mode_int"], row["mode"], row["model"]) == ("ml", 1, "ZKML", "QmModel")
    assert row["inference_id"] == "inf-1" and row["is_simulation_result"] is True
    assert [one([_ml(m)])["mode"] for m in (0, 2, 7)] == ["VANILLA", "TEE", "UNKNOWN(7)"]


def test_llm_tee_is_tee_not_zkml() -> None:
    row = one([_chat(1)])
    assert (row["kind"], row["mode_int"], row["mode"]) == ("llm_chat", 1, "TEE")
    assert row["model"] == "Qwen/Qwen2.5-72B-Instruct"
    assert row["is_simulation_result"] is None and one([_chat(2)])["mode"] == "UNKNOWN(2)"
    done = one([make_log(spec("LLMCompletionEvent"), {"inferenceID": "c", "request": (1, "m", "p", 9, [], 0),
                                                      "response": ("answer",)})])
    assert (done["kind"], done["mode"], done["model"]) == ("llm_completion", "TEE", "m")


def test_results_keep_outputs_as_json() -> None:
    res = one([make_log(spec("InferenceResult"), {"output": ML_OUT})])
    assert res["is_simulation_result"] is True and str(-(2**127)) in res["output_json"]
    emitted = one([make_log(spec("InferenceResultEmitted"), {"caller": sample("address", 4), "result": ML_OUT})])
    assert emitted["caller"] == sample("address", 4) and emitted["output_json"] == res["output_json"]
    chat = one([make_log(spec("LLMChatResult"), {"response": ("stop", MSG)})])
    assert '"finish_reason":"stop"' in chat["output_json"] and chat["kind"] == "llm_chat"
    bad_id = _ml(0)
    bad_id["data"] = bad_id["data"].replace(b"inf-1".hex(), "ff" + b"nf-1".hex())
    assert one([bad_id])["inference_id"] == "\ufffdnf-1"


# ---- malformed logs ----
def test_malformed_logs_come_back_as_errors_and_the_rest_decodes() -> None:
    trade = spec("Trade(address,bytes16,bool,uint256,uint256,uint256,uint256,uint256)")
    args = {"trader": sample("address", 0), "digitalTwinId": b"\x01" * 16, "isBuy": True, "shareAmount": 1,
            "ethAmount": 2, "protocolEthAmount": 3, "subjectEthAmount": 4, "supply": 5}
    good = [make_log(trade, args, log_index=i) for i in range(5)]
    short, extra, high, badbool, unknown = (make_log(trade, args, log_index=10 + i) for i in range(5))
    short["data"] = short["data"][:-64]
    extra["topics"] = [*extra["topics"], "0x" + "00" * 32]
    high["data"] = "0x" + "ff" * 12 + high["data"][26:]
    badbool["data"] = badbool["data"][:2 + 64 * 2] + "0" * 63 + "2" + badbool["data"][2 + 64 * 3:]
    unknown["topics"] = ["0x" + "12" * 32]
    nonhex, upper = make_log(trade, args, log_index=16), make_log(trade, args, log_index=5)
    nonhex["data"], upper["data"] = nonhex["data"][:-2] + "zz", "0x" + upper["data"][2:].upper()
    cut = _ml(0)
    cut["data"], cut["log_index"] = cut["data"][:200], 15
    tables, errors = decode_logs([short, *good[:2], extra, high, badbool, cut, unknown, *good[2:], _ml(2), nonhex,
                                  upper])
    assert [r["log_index"] for r in tables["trades"]] == [0, 1, 2, 3, 4, 5] and len(tables["inferences"]) == 1
    assert tables["trades"][5] | {"log_index": 0, "block_number": 100, "block_ts": 1_700_000_000} == tables["trades"][0]
    reasons = {e.log["log_index"]: e.reason for e in errors}
    assert set(reasons) == {10, 11, 12, 13, 14, 15, 16} and len(errors) == 7 and "not hex" in reasons[16]
    assert "bytes" in reasons[10] and "2 topics" in reasons[11] and "address" in reasons[12]
    assert "bool" in reasons[13] and "unknown topic0" in reasons[14] and reasons[15].startswith("ModelInferenceEvent")
    first = next(e for e in errors if e.log["log_index"] == 10)
    assert first.log is short and first.event == trade.signature


def test_word_slicing_matches_eth_abi_on_random_trades() -> None:
    import random

    rng, trade = random.Random(5), spec("Trade(address,bytes16,bool,uint256,uint256,uint256,uint256,uint256)")
    logs = [make_log(trade, {"trader": to_checksum_address(rng.randbytes(20)), "digitalTwinId": rng.randbytes(16),
                             "isBuy": rng.random() < 0.5, **{k: rng.randrange(2 ** rng.randrange(1, 257)) for k in (
                                 "shareAmount", "ethAmount", "protocolEthAmount", "subjectEthAmount", "supply")}},
                     log_index=i) for i in range(300)]
    rows = decode_logs(logs)[0]["trades"]
    for log, row in zip(logs, rows, strict=True):
        t, tw, buy, *nums = decode(["address", "bytes16", "bool"] + ["uint256"] * 5, bytes.fromhex(log["data"][2:]))
        assert (row["trader"], row["twin_id"], row["is_buy"]) == (to_checksum_address(t), "0x" + tw.hex(), buy)
        cols = ["share_amount", "eth_amount", "protocol_eth_amount", "subject_eth_amount", "supply"]
        assert [row[c] for c in cols] == [str(n) for n in nums]


# ---- the registry against the ABI files ----
FACT_SHEET = {"0x311a52e6": "Trade(address,bytes16,", "0x2c76e7a4": "Trade(address,address,",
              "0x1b283af3": "ModelInferenceEvent(", "0x4c92d3df": "LLMChat(", "0x51fe69d5": "LLMCompletionEvent(",
              "0xc1396ff6": "InferenceResult(", "0xc2aff8d8": "BatchSettlement(bytes32,uint256,bytes)",
              "0x74e71a19": "IndividualSettlement("}


def test_topic0_is_keccak_of_the_signature_in_the_abi_file() -> None:
    for s in EVENTS:
        assert s.topic0 == "0x" + keccak(text=s.signature).hex() and abi_event(s)["name"] == s.name
        assert s.topic_count == 1 + sum(p["indexed"] for p in abi_event(s)["inputs"])
    for prefix, sig in FACT_SHEET.items():
        assert [s.signature for s in EVENTS if s.topic0.startswith(prefix)][0].startswith(sig)


def test_every_event_of_the_abi_files_is_registered() -> None:
    for f in sorted(abis.ABI_DIR.glob("*.json")):
        if f.stem == "StakingPrecompile":  # validators are read from views, not events
            continue
        for ev in (e for e in abis.load(f.stem) if e.get("type") == "event"):
            key = ("0x" + keccak(text=signature(ev)).hex(), 1 + sum(p["indexed"] for p in ev["inputs"]))
            assert key in {(s.topic0, s.topic_count) for s in EVENTS}, f"{f.name}: {signature(ev)}"


def test_embedded_timelock_abi_is_the_openzeppelin_one() -> None:
    compiled = {signature(e): [p["indexed"] for p in e["inputs"]]
                for e in load_artifact("DevTimelock")["abi"] if e["type"] == "event"}
    for ev in load_abi(TIMELOCK_ABI):
        assert compiled[signature(ev)] == [p["indexed"] for p in ev["inputs"]]


def test_kinds_and_lookups() -> None:
    assert set().union(*(s.kinds for s in EVENTS)) <= set(typing.get_args(ContractKind)) | {"timelock"}
    assert [s.name for s in for_kinds(["inference_precompile"])] == ["ModelInferenceEvent", "LLMChat",
                                                                     "LLMCompletionEvent"]
    assert len({s.topic0 for s in EVENTS if s.name == "BatchSettlement"}) == 2  # v1 and v2: same name
    assert sum(len(v) for v in by_topic0().values()) == len(EVENTS) and "timelock" in spec("RoleGranted").kinds


# ---- DuckDB ----
def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in cur.execute("SELECT column_name, data_type FROM information_schema.columns "
                                          "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()]


def plain_frame(table: str, rows: list[dict[str, Any]], chain_id: int) -> pd.DataFrame:
    """What an engine may build without `to_frame`: default dtypes, chain_id inserted first."""
    df = pd.DataFrame.from_records(rows, columns=COLUMNS[table])
    df.insert(0, "chain_id", chain_id)
    return df


def _insert_and_read(store: Store, tables: dict[str, list[dict[str, Any]]], chain_id: int) -> None:
    """Insert through `to_frame` (as chain_id) and a plain DataFrame (as chain_id + 1), twice; read back equal."""
    for cid, frame in ((chain_id, to_frame), (chain_id + 1, plain_frame)):
        with store.transaction() as cur:
            for table, rows in tables.items():
                df = frame(table, rows, cid)  # noqa: F841 - read by DuckDB's replacement scan below
                for _ in range(2):  # the second insert is ignored: same keys
                    cur.execute(f"INSERT OR IGNORE INTO {table} SELECT * FROM df")  # noqa: S608 - table from SCHEMA
        for table, rows in tables.items():
            got = store.cursor().execute(f"SELECT * FROM {table} WHERE chain_id = ? "  # noqa: S608
                                         "ORDER BY block_number, log_index", [cid]).fetchall()
            want = sorted(rows, key=lambda r: (r["block_number"], r["log_index"]))
            assert got == [(cid, *[r[c] for c in COLUMNS[table]]) for r in want], (table, frame.__name__)


def test_schema_and_exact_roundtrip_through_duckdb(tmp_path) -> None:
    logs = [make_log(s, {p["name"]: sample(p["type"], i) for i, p in enumerate(abi_event(s)["inputs"])}, log_index=i)
            for i, s in enumerate(SIMPLE)]
    logs += [_ml(2), _chat(1), make_log(spec("InferenceResult"), {"output": ML_OUT})]
    for i, log in enumerate(logs):
        log["log_index"], log["block_ts"] = i, None if i % 2 else log["block_ts"]
    tables, errors = decode_logs(logs)
    assert errors == [] and set(tables) == set(SCHEMA)
    with Store(tmp_path / "x.duckdb", serve=False) as store:
        for table, cols in SCHEMA.items():
            assert _columns(store.cursor(), table) == list(cols)
            assert ["chain_id", *COLUMNS[table]] == [c for c, _ in cols]
        _insert_and_read(store, tables, 56)
        exact = store.cursor().execute("SELECT count(*) FROM trades WHERE share_amount = ?", [str(MAX)]).fetchone()
        assert exact == (4,)  # both Trade variants carry share_amount 2^256-1, stored under two chain ids


# ---- the devnet: every log decodes, and agrees with what the simulator meant ----
def _raw(lg: dict[str, Any], ts: dict[int, int]) -> RawLog:
    n = int(lg["blockNumber"], 16)
    return RawLog(block_number=n, block_hash=lg["blockHash"], block_ts=ts[n], tx_hash=lg["transactionHash"],
                  tx_index=int(lg["transactionIndex"], 16), log_index=int(lg["logIndex"], 16),
                  address=to_checksum_address(lg["address"]), topics=lg["topics"], data=lg["data"])


@pytest.fixture(scope="module")
def devnet(devnet_world, devnet_snapshot) -> dict[str, Any]:
    chains = {}
    for key, chain in devnet_world.chains.items():
        found = chain.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"})
        blocks = sorted({int(lg["blockNumber"], 16) for lg in found})
        heads = rpc_batch(chain.url, [("eth_getBlockByNumber", [hex(n), False]) for n in blocks])
        ts = {n: int(h["timestamp"], 16) for n, h in zip(blocks, heads, strict=True)}
        logs = [_raw(lg, ts) for lg in found]
        chains[key] = (chain.chain_id, logs, *decode_logs(logs))
    by_tx: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for key, (_cid, _logs, tables, _errors) in chains.items():
        for table, rows in tables.items():
            for row in rows:
                by_tx.setdefault((key, table, row["tx_hash"]), []).append(row)
    return {"chains": chains, "by_tx": by_tx, "truth": list(truthmod.read(devnet_snapshot / TRUTH_FILE)),
            "dep": devnet_world.dep}


def _in_tx(devnet: dict[str, Any], r: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return list(devnet["by_tx"].get((r["chain"], table, r["tx"]), []))


@pytest.mark.devnet
def test_devnet_every_registered_log_decodes_and_kinds_match_emitters(devnet) -> None:
    kind_of = {(c.chain, c.address): c.kind or ("timelock" if c.artifact == "DevTimelock" else "")
               for c in devnet["dep"].contracts}
    helpers = {(c.chain, c.address) for c in devnet["dep"].contracts if c.artifact in (
        "SimpleMultisig", "StakingPrecompileStandIn")}  # events ogwatch does not index
    topics = by_topic0()
    for key, (_cid, logs, tables, errors) in devnet["chains"].items():
        assert all(e.reason.startswith("unknown topic0") and (key, e.log["address"]) in helpers for e in errors)
        assert sum(map(len, tables.values())) + len(errors) == len(logs)
        for lg in logs:
            kind = kind_of.get((key, lg["address"]))
            if lg["topics"][0] in topics and kind:
                assert any(kind in s.kinds for s in topics[lg["topics"][0]]), (key, lg["address"], kind)


@pytest.mark.devnet
def test_devnet_inferences_match_the_ground_truth(devnet) -> None:
    records = [r for r in devnet["truth"] if r["kind"] == "inference"]
    assert len(records) >= 2000
    for r in records:
        intent, rows = r["intent"], _in_tx(devnet, r, "inferences")
        assert len(rows) == intent["count_in_tx"], r["tx"]
        assert [row["model"] for row in rows] == intent.get("models", [intent["model"]])
        for row in rows:
            assert (row["kind"], row["mode_int"], row["mode"]) == (intent["kind"], intent["mode_int"], intent["mode"])
            assert row["is_simulation_result"] is (intent["simulation"] if intent["kind"] == "ml" else None)


@pytest.mark.devnet
def test_devnet_trades_and_fee_setters_match_the_ground_truth(devnet) -> None:
    trades = [r for r in devnet["truth"] if r["kind"] in ("trade", "twin_create", "batch_trade")]
    assert sum(r["kind"] == "trade" for r in trades) >= 2000
    for r in trades:
        intent, rows = r["intent"], _in_tx(devnet, r, "trades")
        row = rows[int(intent.get("trade_index", 0))]
        assert (row["trader"], row["share_amount"], row["is_buy"]) == (intent["trader"], str(intent["amount"]),
                                                                       intent["is_buy"])
        assert row["address"] == intent["market"] and row["twin_id"] == intent.get("twin")
    fee_sets = [r for r in devnet["truth"] if r["kind"] == "fee_set" and r["intent"]["market_name"].startswith("twin_")]
    assert {r["intent"]["path"] for r in fee_sets} >= {"direct", "multisig", "timelock", "batcher"}
    for r in fee_sets:
        intent, rows = r["intent"], _in_tx(devnet, r, "market_events")
        want = (intent["market"], intent["field"], str(intent["new"]))
        assert (want in {(m["address"], m["field"], m["value"]) for m in rows}) is intent["emits_event"], r["tx"]


TEE_COLS = ("tee_id", "owner", "tee_type")


@pytest.mark.devnet
def test_devnet_settlements_and_tee_events_match_the_ground_truth(devnet) -> None:
    seen = 0
    for r in devnet["truth"]:
        intent, rows = r["intent"], _in_tx(devnet, r, "settlements")
        if r["kind"] == "settlement_individual":
            (row,) = rows
            assert (row["tee_id"], row["timestamp"], row["timestamp_int"]) == (
                intent["tee_id"], str(intent["timestamp"]), intent["timestamp"])
            assert (row["walrus_blob_id"], row["input_hash"], row["eth_address"]) == (
                intent["blob_id"], intent["input_hash"], intent["eth_address"])
        elif r["kind"] == "settlement_batch":
            (row,) = rows
            assert (row["merkle_root"], row["batch_size"], row["walrus_blob_id"]) == (
                intent["root"], str(intent["batch_size"]), intent["blob_id"])  # on chain: the real root
        elif r["kind"] == "settlement_v1":
            (row,) = rows
            want = intent | {"merkle_root": intent.get("root"), "batch_size": str(intent.get("batch_size")),
                             "input_data": "0x" + intent.get("input_data", "").encode().hex()}
            cols = {"Settlement": ("input_hash", "output_hash"), "BatchSettlement": ("merkle_root", "batch_size"),
                    "SettlementWithMetadata": ("input_hash", "output_hash", "model_info", "input_data")}
            assert row["relay_version"] == 1 and all(row[c] == want[c] for c in cols[intent["event"]]), r["tx"]
        elif r["kind"] == "tee_registered":
            (row,) = _in_tx(devnet, r, "tee_events")
            assert [row[c] for c in TEE_COLS] == [intent[c] for c in TEE_COLS]
        elif r["kind"] == "heartbeat" and intent.get("emits_event"):
            (row,) = _in_tx(devnet, r, "tee_events")
            assert (row["tee_id"], row["timestamp_int"]) == (intent["tee_id"], intent["timestamp"])
        else:
            continue
        seen += 1
    assert seen >= 20


@pytest.mark.devnet
def test_devnet_rows_roundtrip_through_a_fresh_store(devnet, tmp_path) -> None:
    with Store(tmp_path / "x.duckdb", serve=False) as store:
        for chain_id, _logs, tables, _errors in devnet["chains"].values():
            _insert_and_read(store, tables, chain_id)
