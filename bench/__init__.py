"""Offline tools: evaluation (``bench.eval``), fitting (``bench.fit``), performance
benchmarks (``bench.perf``) and the harness they share (``bench.harness``).

They import the service; the service never imports them, and none of them is
shipped in the wheel.  ``python -m bench --help`` lists the commands.
"""
