"""The real SessionStore called the way the actor client calls it, for tests without Ray."""
from __future__ import annotations


class Client:
    """``await client.method(...)`` for every method of a local :class:`SessionStore`."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        method = getattr(self._store, name)

        async def call(*a, **k):
            return method(*a, **k)
        return call
