"""Throughput and latency benchmarks against a real Serve app (see bench/README.md)."""
