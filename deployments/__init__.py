"""Thin Ray Serve wrappers, one per file: each builds one engine package of ``serve_app/engines``
from its typed config (or takes an engine factory, for the graph test tier), plus the ingress, the
pipeline and the session-store actor.  ``serve_app.app.build_app`` composes them."""
