"""Benchmarks and reliability runs: `python -m bench.<name>`; each prints a table and verdicts."""
