"""Benchmarks: speed and memory measured against baselines, printed as ratios."""
