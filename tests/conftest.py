"""Tier markers by folder (tests/unit, tests/graph, tests/cluster, tests/integration, tests/e2e, and the
opt-in tests/whisperx)."""
import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        for tier in ("unit", "graph", "cluster", "integration", "e2e", "whisperx"):
            if f"tests/{tier}/" in str(item.fspath).replace("\\", "/"):
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture()
def alice(serve_app):
    """Clinician alice's API client on the tier's shared app (``serve_app`` comes from the tier's conftest)."""
    from bench.harness.client import ScribeClient
    from bench.harness.serve import TOKENS

    return ScribeClient(serve_app.url, TOKENS["alice"])


@pytest.fixture()
def bob(serve_app):
    """Clinician bob: every session of alice's is absent (404) for him."""
    from bench.harness.client import ScribeClient
    from bench.harness.serve import TOKENS

    return ScribeClient(serve_app.url, TOKENS["bob"])
