"""The flywheel root: a local path or any ``pyarrow.fs`` URI, with atomic, durable writes.

Every file appears under its final name only when complete: it is written
under a name readers skip (a ``_tmp`` directory; Ray Data and pyarrow ignore
paths starting with ``_`` or ``.``) and then moved.  On a local filesystem the
file and its directory are fsynced before and after the move, so an
acknowledged write survives a power cut; on object stores a completed PUT is
the atomic step.
"""
from __future__ import annotations

import posixpath
import uuid

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from serve_app.fsroot import FsRoot

__all__ = ["Root"]


class Root(FsRoot):
    """A flywheel root (``/data/flywheel``, ``file:///...``, ``s3://bucket/prefix``): Parquet files too."""

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

