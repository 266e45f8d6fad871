"""Pairing of one transaction's inference logs, callers from call trees: hand-built cases, no node."""

from __future__ import annotations

from typing import Any

from collectors import verification_pairing as vp

HUB, PRE, WF, BATCH, CALLER, EOA = "0xhub", "0xf4", "0xwf", "0xbatch", "0xcaller", "0xeoa"
HUBS, PRES = {HUB}, {PRE}


def test_several_inferences_pair_with_the_next_result_of_their_kind() -> None:
    infs = [vp.InferenceLog(0, "ml"), vp.InferenceLog(2, "ml"), vp.InferenceLog(4, "llm_chat")]
    results = [vp.ResultLog(1, "ml", "InferenceResult", HUB), vp.ResultLog(3, "ml", "InferenceResult", HUB),
               vp.ResultLog(5, "llm_chat", "LLMChatResult", HUB)]
    got = vp.pair(infs, results)
    assert [(p.log_index, p.position, p.result_log_index) for p in got] == [(0, 0, 1), (2, 1, 3), (4, 2, 5)]
    assert all(p.workflow_log_index is None for p in got)


def test_kinds_do_not_cross_and_a_missing_result_stays_unpaired() -> None:
    infs = [vp.InferenceLog(0, "llm_completion"), vp.InferenceLog(1, "ml")]
    results = [vp.ResultLog(2, "ml", "InferenceResult", HUB)]
    got = vp.pair(infs, results)
    assert [(p.log_index, p.result_log_index) for p in got] == [(0, None), (1, 2)]


def test_workflow_repeat_links_to_the_inference_before_it() -> None:
    infs = [vp.InferenceLog(3, "ml"), vp.InferenceLog(0, "ml")]  # given out of order
    results = [vp.ResultLog(1, "ml", "InferenceResult", HUB), vp.ResultLog(2, "ml", vp.WORKFLOW_EVENT, WF),
               vp.ResultLog(4, "ml", "InferenceResult", HUB)]
    got = vp.pair(infs, results)
    assert [(p.log_index, p.result_log_index, p.workflow_log_index, p.workflow) for p in got] == \
        [(0, 1, 2, WF), (3, 4, None, None)]


def test_parity_traces_mark_calls_under_a_failed_call() -> None:
    traces: list[dict[str, Any]] = [
        {"type": "call", "traceAddress": [], "action": {"from": EOA, "to": BATCH}},
        {"type": "call", "traceAddress": [0], "action": {"from": BATCH, "to": HUB}, "error": "Reverted"},
        {"type": "call", "traceAddress": [0, 0], "action": {"from": HUB, "to": PRE}},
        {"type": "call", "traceAddress": [1], "action": {"from": BATCH, "to": CALLER}},
        {"type": "call", "traceAddress": [1, 0], "action": {"from": CALLER, "to": HUB}},
        {"type": "call", "traceAddress": [1, 0, 0], "action": {"from": HUB, "to": PRE}},
        {"type": "create", "traceAddress": [2], "action": {"from": BATCH}},
    ]
    calls = vp.calls_from_parity(traces)
    assert [(c.path, c.inert) for c in calls] == [((), False), ((0,), True), ((0, 0), True), ((1,), False),
                                                   ((1, 0), False), ((1, 0, 0), False)]
    assert vp.callers_from_calls(calls, HUBS, PRES, EOA, 1) == [CALLER]


def test_call_tracer_tree_in_execution_order_static_calls_inert() -> None:
    tree = {"type": "CALL", "from": EOA, "to": BATCH, "calls": [
        {"type": "STATICCALL", "from": BATCH, "to": PRE},  # a view call cannot leave an inference event
        {"type": "CALL", "from": BATCH, "to": HUB, "calls": [{"type": "CALL", "from": HUB, "to": PRE}]},
        {"type": "CALL", "from": BATCH, "to": CALLER, "calls": [
            {"type": "CALL", "from": CALLER, "to": HUB, "calls": [{"type": "CALL", "from": HUB, "to": PRE}]}]},
    ]}
    calls = vp.calls_from_tree(tree)
    assert [(c.path, c.inert) for c in calls] == [((), False), ((0,), True), ((1,), False), ((1, 0), False),
                                                  ((2,), False), ((2, 0), False), ((2, 0, 0), False)]
    assert vp.callers_from_calls(calls, HUBS, PRES, EOA, 2) == [BATCH, CALLER]


def test_direct_account_call_has_no_caller_and_a_mismatch_gives_up() -> None:
    calls = vp.calls_from_tree({"type": "CALL", "from": EOA, "to": HUB,
                                "calls": [{"type": "CALL", "from": HUB, "to": PRE}]})
    assert vp.callers_from_calls(calls, HUBS, PRES, EOA, 1) == [None]
    assert vp.callers_from_calls(calls, HUBS, PRES, EOA, 2) is None


def test_hub_calls_stand_in_when_the_precompile_is_not_traced() -> None:
    calls = vp.calls_from_tree({"type": "CALL", "from": EOA, "to": WF, "calls": [{"type": "CALL", "from": WF,
                                                                                   "to": HUB}]})
    assert vp.callers_from_calls(calls, HUBS, PRES, EOA, 1) == [WF]


def test_tx_to_fallback() -> None:
    assert vp.caller_from_tx_to("0xBATCH", HUBS, PRES) == BATCH
    assert vp.caller_from_tx_to(HUB, HUBS, PRES) is None
    assert vp.caller_from_tx_to(None, HUBS, PRES) is None
