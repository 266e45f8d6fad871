"""Local stand-in for OpenGradient's chains: anvil nodes, contracts with the real ABIs, a simulator.

Used by the CLI (`ogwatch demo`, `ogwatch devnet`), the tests and the benchmarks; never by collectors.
"""
