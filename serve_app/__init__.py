"""Clinical scribe backend: the serving code only (no offline tools).

``app.build_app`` composes the graph from ``config.AppArgs``; ``engines/`` holds one package per
capability; ``ingress/``, ``pipeline/`` and ``sessions/`` are the HTTP surface, the per-session
orchestration and the event-sourced store; ``contracts`` defines the shapes that cross processes.
"""
