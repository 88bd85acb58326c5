"""Deterministic fakes, one per engine protocol and for the store client (unit and graph tiers)."""
