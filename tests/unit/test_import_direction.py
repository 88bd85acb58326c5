"""Dependencies point one way: tests -> bench -> service; the service ships serving code only."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str, dotted: bool = False) -> dict[str, set[str]]:
    """module path -> top-level packages it imports (module level and inside functions), or the
    full dotted names with ``dotted``."""
    name = (lambda n: n) if dotted else (lambda n: n.split(".")[0])
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(name(node.module))
            elif isinstance(node, ast.Import):
                found.update(name(alias.name) for alias in node.names)
        out[str(path.relative_to(ROOT))] = found
    return out


@pytest.mark.parametrize("package, forbidden", [
    ("serve_app", {"tests", "bench", "flywheel"}),
    ("deployments", {"tests", "bench"}),
    ("flywheel", {"tests", "bench", "deployments"}),
    ("bench", {"tests"}),
])
def test_no_package_imports_against_the_direction(package, forbidden):
    offenders = {module: sorted(found & forbidden) for module, found in _imports(package).items() if found & forbidden}
    assert offenders == {}


def test_engines_never_import_ray():
    offenders = [m for m, found in _imports("serve_app/engines").items() if "ray" in found]
    assert offenders == []


def test_the_page_reaches_the_service_only_through_the_public_api():
    """The UI may not import the store, the pipeline, the deployments or Ray: what it does, any
    other client of the HTTP API can do."""
    forbidden = ("serve_app.sessions", "serve_app.pipeline", "serve_app.clients", "serve_app.ingress.service",
                 "deployments", "ray")
    offenders = {m: sorted(n for n in found if n.startswith(forbidden))
                 for m, found in _imports("serve_app/ui", dotted=True).items()}
    assert {m: f for m, f in offenders.items() if f} == {}
