"""Deterministic fakes, one per engine protocol and for the store client (unit and graph tiers,
and the store benchmarks); :mod:`.graph` builds the production graph with all of them."""
