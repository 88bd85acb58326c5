"""Which journal backs the store: Redis when ``REDIS_URL`` is set, else the local disk."""
from __future__ import annotations

import os

from serve_app.sessions.spec import StoreSpec
from serve_app.settings import Settings

__all__ = ["open_journal"]


def open_journal(spec: StoreSpec, settings: Settings | None = None):
    """The journal of ``spec``'s store: a :class:`~.redis_journal.RedisJournal` if ``REDIS_URL`` is set
    (blobs under ``SCRIBE_BLOB_ROOT``, default ``<data_dir>/blobs``), else a
    :class:`~.disk_journal.DiskJournal` in ``spec.data_dir``.  PHI is sealed with the data keys."""
    settings = settings or Settings()
    sealer = settings.sealer(spec.data_key_path) if spec.data_key_path else None
    if settings.redis_url is not None:
        from serve_app.sessions.redis_journal import RedisJournal

        blob_root = settings.blob_root or os.path.join(spec.data_dir, "blobs")
        return RedisJournal.from_url(settings.redis_url.get_secret_value(), blob_root, sealer, spec.redis_prefix)
    from serve_app.sessions.disk_journal import DiskJournal

    return DiskJournal(spec.data_dir, sealer)
