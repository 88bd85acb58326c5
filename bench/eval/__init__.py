"""Evaluations on ../shared/data: notes, roles, guardrails (see bench/README.md)."""
