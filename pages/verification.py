"""Verification watch: which proof each inference used, and whether proofs settle and how late."""

from ogwatch.ui import shell

f = shell.page("Verification", "How much AI runs unverified (Vanilla) in production, and do proofs settle?")
shell.empty_state(
    "No inferences indexed yet",
    "Shares of Vanilla, TEE and ZKML inference over time (production and all, with n), per model and "
    "caller; LLM settlements per hour, lag p50/p95/max and backlog. Vanilla is a signed record with no "
    "proof; TEE is hardware attestation; ZKML is a zero-knowledge proof. Data appears once the "
    "inference and settlement collectors have run.",
)
