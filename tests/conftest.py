"""Tier markers by folder (tests/unit, tests/graph, tests/integration, tests/e2e)."""
import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        for tier in ("unit", "graph", "integration", "e2e"):
            if f"tests/{tier}/" in str(item.fspath).replace("\\", "/"):
                item.add_marker(getattr(pytest.mark, tier))
