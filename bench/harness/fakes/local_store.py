"""The real SessionStore behind the typed client, in this process (tests without Ray)."""
from __future__ import annotations

from serve_app.sessions.client import LocalTransport, StoreClient
from serve_app.sessions.store import SessionStore

__all__ = ["local_client", "RecordingStore"]


def local_client(store: SessionStore) -> StoreClient:
    """``store`` called exactly as the pipeline and the ingress call the store actor."""
    return StoreClient(LocalTransport(store))


class _RecordingTransport(LocalTransport):
    def __init__(self, store: SessionStore, fetched: list[int]):
        super().__init__(store)
        self._fetched = fetched

    async def call(self, role, method, *args, **kwargs):
        result = await super().call(role, method, *args, **kwargs)
        if method == "chunk_info":
            self._fetched += [c["seq"] for c in result if "data" in c]
        return result


class RecordingStore(StoreClient):
    """:func:`local_client` that also records which chunks' audio bytes were fetched."""

    def __init__(self, store: SessionStore):
        self.store = store
        self.fetched: list[int] = []
        super().__init__(_RecordingTransport(store, self.fetched))
