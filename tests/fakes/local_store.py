"""The real SessionStore behind the typed client, in this process (tests without Ray)."""
from __future__ import annotations

from serve_app.sessions.client import LocalTransport, StoreClient
from serve_app.sessions.store import SessionStore

__all__ = ["local_client", "RecordingStore"]


def local_client(store: SessionStore) -> StoreClient:
    """``store`` called exactly as the pipeline and the ingress call the store actor."""
    return StoreClient(LocalTransport(store))


class RecordingStore(StoreClient):
    """:func:`local_client` that also records which chunks' audio bytes were fetched."""

    def __init__(self, store: SessionStore):
        super().__init__(LocalTransport(store))
        self.store = store
        self.fetched: list[int] = []

    async def chunk_info(self, sid, seqs, with_data=None):
        result = await super().chunk_info(sid, seqs, with_data)
        self.fetched += [c["seq"] for c in result if "data" in c]
        return result
