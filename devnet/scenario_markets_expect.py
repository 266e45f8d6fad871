"""What a fee monitor should find of each setter record, per node capability: the ``expected`` intent field.

Every truth record of a setter call (``fee_set``, ``fee_destination_set``, ``min_shares_set``, and the reverted
``setter_reverted`` / ``setter_inner_reverted``) carries ``intent["expected"]``, an object with one key per way a
monitor can learn of the change. A monitor uses the first key that applies to it, in this order:

``traces``
    The node gives call traces: ``"tx"`` (the transaction itself, its sender and path; a change undone before the
    next reading is seen too).
``events``
    No traces, the market's setter events are indexed: ``"tx"`` when the market emits the setter's event (found
    from the event, exact transaction), ``"as_state"`` when it emits none (the three ``state*`` keys apply).
``undone_before_reading``
    State readings only, and the field is back at its value of the previous reading by the next reading (A->B->A,
    or any longer loop between two readings): ``"invisible"``, nothing can be found.
``state_beyond_window``
    State readings only, and the node no longer keeps the state of the block before the change when the next
    reading runs (the change's block is at or before the oldest block the node keeps): ``"range"``. The
    changes of one field in one reading interval that are beyond the window make one range, from the previous
    reading to the oldest block kept, old = the value at the previous reading, new = the value at that oldest
    block (nothing when both are equal).
``state``
    State readings only, the state before the change still kept at the next reading: ``"block"`` (exact block by
    bisection of historical state; the transaction only suggested). Exact when the field takes no value twice
    between two readings.

The two conditions that depend on when the monitor reads (which reading interval holds the change, how far back
the node keeps state then) are rules above, decided by the reader, not by the simulator. What the simulator
knows is stated: whether the market emits setter events, and whether it undoes a change itself (intent ``undo``:
``"there"`` on a change it undoes with its next change of the same field, ``"back"`` with ``undoes`` = the
undone change's tx on that next change; ``None`` otherwise). A reverted setter is ``"never"`` under every key:
it is never a change, whatever the node offers.
"""

from __future__ import annotations

#: the keys of `expected`, in the order a monitor applies them
KEYS = ("traces", "events", "undone_before_reading", "state_beyond_window", "state")
#: every value any key can take; "tx", "block" and "range" are the precisions a fee change row carries
WORDS = frozenset({"tx", "block", "range", "as_state", "invisible", "never"})


def expected_change(emits_event: bool) -> dict[str, str]:
    """What each capability level should find of a successful setter change."""
    return {"traces": "tx", "events": "tx" if emits_event else "as_state", "undone_before_reading": "invisible",
            "state_beyond_window": "range", "state": "block"}


def expected_reverted() -> dict[str, str]:
    """A reverted setter call (or a reverted inner call) is never a change, at any level."""
    return dict.fromkeys(KEYS, "never")
