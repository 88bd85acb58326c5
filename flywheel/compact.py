"""Merge a dataset's small files into one file per partition, published atomically.

Under the root lock (the writer waits), for each dataset: the next snapshot
directory gets, per ``date=`` partition, either one merged file (when the
partition has more than one) or a hard link to its single file; the dataset
link is then swapped to it (:func:`.layout.swap_snapshot`).  Row counts are
checked before the swap: a snapshot that does not hold exactly the rows of the
current one is deleted and the current one stays.  The previous snapshot is
kept for readers that listed it; older ones are removed.
"""
from __future__ import annotations

import os
import shutil
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from flywheel.layout import current_snapshot, root_lock, swap_snapshot
from flywheel.schemas import DATASETS
from flywheel.storage import Root

__all__ = ["compact"]


def _partitions(snapshot: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in sorted(os.listdir(snapshot)):
        path = os.path.join(snapshot, name)
        if os.path.isdir(path) and not name.startswith(("_", ".")):
            out[name] = sorted(f for f in os.listdir(path) if f.endswith(".parquet") and not f.startswith(("_", ".")))
    return out


def _rows(snapshot: str) -> int:
    return sum(pq.ParquetFile(os.path.join(snapshot, p, f)).metadata.num_rows
               for p, files in _partitions(snapshot).items() for f in files)


def compact(root_uri: str, progress: Callable[[int], None] | None = None) -> dict[str, dict[str, int]]:
    """Compact every dataset under ``root_uri``; returns ``{dataset: {files_before, files_after, rows}}``."""
    root = Root(root_uri)
    if not root.local:
        raise RuntimeError("compact needs a local (POSIX) root: object stores cannot swap a directory atomically")
    report = {}
    with root_lock(root):
        for dataset in [d for d in DATASETS if os.path.lexists(root.path(d))]:
            current, version = current_snapshot(root, dataset)
            parts = _partitions(current)
            before = sum(len(f) for f in parts.values())
            rows = _rows(current)
            new_dir = os.path.join(os.path.dirname(current), f"v{version + 1:06d}")
            shutil.rmtree(new_dir, ignore_errors=True)
            os.makedirs(new_dir)
            for partition, files in parts.items():
                os.makedirs(os.path.join(new_dir, partition))
                if len(files) == 1:
                    os.link(os.path.join(current, partition, files[0]), os.path.join(new_dir, partition, files[0]))
                elif files:
                    table = pa.concat_tables([pq.read_table(os.path.join(current, partition, f),
                                                            schema=DATASETS[dataset]) for f in files])
                    tmp = os.path.join(new_dir, partition, "_merged.tmp")
                    pq.write_table(table, tmp, compression="zstd")
                    os.replace(tmp, os.path.join(new_dir, partition, f"part-compacted-v{version + 1:06d}.parquet"))
                if progress:
                    progress(1)
            if _rows(new_dir) != rows:
                shutil.rmtree(new_dir, ignore_errors=True)
                raise RuntimeError(f"compaction of {dataset} did not keep its {rows} rows; nothing was changed")
            os.sync()
            swap_snapshot(root, dataset, new_dir)
            for name in os.listdir(os.path.dirname(current)):
                if name.startswith("v") and name < f"v{version:06d}":
                    shutil.rmtree(os.path.join(os.path.dirname(current), name), ignore_errors=True)
            after = sum(len(f) for f in _partitions(new_dir).values())
            report[dataset] = {"files_before": before, "files_after": after, "rows": rows}
    return report
