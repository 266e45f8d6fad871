"""Settlements: do LLM proofs settle on chain, how fast, how late, and can the batches be checked."""

from ogwatch.ui import shell

f = shell.page("Settlements", "Do proofs settle, and how late? Throughput by mode, lag, backlog, blob checks.")
shell.empty_state(
    "No settlements indexed yet",
    "Settled inferences per hour by mode, lag p50/p95/max (block time minus the TEE's timestamp), backlog "
    "signals, and whether each batch's Merkle root could be rebuilt from its Walrus blob.",
)
