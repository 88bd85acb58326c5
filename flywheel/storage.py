"""The flywheel root: a local path or any ``pyarrow.fs`` URI, with atomic, durable writes.

Every file appears under its final name only when complete: it is written
under a name readers skip (a ``_tmp`` directory; Ray Data and pyarrow ignore
paths starting with ``_`` or ``.``) and then moved.  On a local filesystem the
file and its directory are fsynced before and after the move, so an
acknowledged write survives a power cut; on object stores a completed PUT is
the atomic step.
"""
from __future__ import annotations

import os
import posixpath
import uuid

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from serve_app.durable import fsync_path

__all__ = ["Root"]


class Root:
    """Files under one flywheel root (``/data/flywheel``, ``file:///...``, ``s3://bucket/prefix``)."""

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

    def files(self, rel: str, suffix: str = ".parquet") -> list[str]:
        """Paths (relative to ``rel``) of visible files under ``rel``, recursively, as readers list them."""
        base = self.path(rel)
        infos = self.fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
        out = []
        for info in infos:
            relative = info.path[len(base):].lstrip("/")
            if info.type == pafs.FileType.File and info.path.endswith(suffix) \
                    and not any(p.startswith(("_", ".")) for p in relative.split("/")):
                out.append(relative)
        return sorted(out)

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

    def write_table(self, rel: str, table: pa.Table) -> None:
        """Write the Parquet file ``rel`` atomically (readers never see a partial file)."""
        dataset = rel.split("/")[0]
        tmp = self.path(dataset, "_tmp", f"{uuid.uuid4().hex}.parquet")
        self.fs.create_dir(posixpath.dirname(tmp), recursive=True)
        pq.write_table(table, tmp, filesystem=self.fs, compression="zstd")
        self._publish(tmp, self.path(rel))

    def replace_table(self, rel: str, table: pa.Table) -> None:
        """Atomically replace the existing Parquet file ``rel`` (a temporary file renamed over it)."""
        tmp = self.path(posixpath.dirname(rel), f"_replace-{uuid.uuid4().hex}.tmp")
        pq.write_table(table, tmp, filesystem=self.fs, compression="zstd")
        self._sync(tmp)
        self.fs.move(tmp, self.path(rel))
        self._sync(posixpath.dirname(self.path(rel)))

    def delete(self, rel: str) -> None:
        try:
            self.fs.delete_file(self.path(rel))
        except FileNotFoundError:
            pass
