"""Files under one root that is a local path or any ``pyarrow.fs`` URI, with atomic, durable writes.

Shared by the flywheel's datasets and the Redis store's audio blobs (a root every node reaches).
Every file appears under its final name only when complete: it is written under a name readers
skip (a ``_tmp`` directory; Ray Data and pyarrow ignore paths starting with ``_`` or ``.``) and
then moved.  On a local filesystem the file and its directory are fsynced before and after the
move, so an acknowledged write survives a power cut; on object stores a completed PUT is the
atomic step.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import uuid

import pyarrow.fs as pafs

from serve_app.durable import fsync_path

__all__ = ["FsRoot"]


class FsRoot:
    """Files under one root (``/data/flywheel``, ``file:///...``, ``s3://bucket/prefix``)."""

    def __init__(self, uri: str):
        if "://" in uri:
            self.fs, self.base = pafs.FileSystem.from_uri(uri)
        else:
            self.fs, self.base = pafs.LocalFileSystem(), os.path.abspath(uri)
        self.uri = uri
        self.local = isinstance(self.fs, pafs.LocalFileSystem)
        self.fs.create_dir(self.base, recursive=True)

    def path(self, *parts: str) -> str:
        return posixpath.join(self.base, *parts)

    # -- reading -------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type != pafs.FileType.NotFound

    def list(self, rel: str, suffix: str = "") -> list[str]:
        """Names of the files directly in ``rel`` ending with ``suffix`` (sorted; [] if absent)."""
        infos = self.fs.get_file_info(pafs.FileSelector(self.path(rel), allow_not_found=True))
        return sorted(posixpath.basename(i.path) for i in infos
                      if i.type == pafs.FileType.File and i.path.endswith(suffix))

    def read_bytes(self, rel: str) -> bytes:
        with self.fs.open_input_stream(self.path(rel)) as fh:
            return fh.read()

    # -- writing -------------------------------------------------------------
    def _sync(self, path: str) -> None:
        if self.local:
            fsync_path(path)

    def _publish(self, tmp: str, final: str) -> None:
        self._sync(tmp)
        self.fs.create_dir(posixpath.dirname(final), recursive=True)
        self.fs.move(tmp, final)
        self._sync(posixpath.dirname(final))

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``rel`` atomically and durably."""
        final = self.path(rel)
        tmp = self.path(posixpath.dirname(rel), "_tmp", f"{uuid.uuid4().hex}.part")
        self.fs.create_dir(posixpath.dirname(tmp), recursive=True)
        with self.fs.open_output_stream(tmp) as fh:
            fh.write(data)
        self._publish(tmp, final)

    def delete(self, rel: str) -> None:
        try:
            self.fs.delete_file(self.path(rel))
        except FileNotFoundError:
            pass

    def delete_dir(self, rel: str) -> None:
        """Delete the directory ``rel`` and everything under it (absent: nothing to do)."""
        try:
            self.fs.delete_dir(self.path(rel))
        except FileNotFoundError:
            pass

    def free_bytes(self) -> int | None:
        """Free space under a local root; None for object stores (no such limit to watch)."""
        return shutil.disk_usage(self.base).free if self.local else None
