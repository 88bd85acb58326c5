"""Erase one session's rows from a flywheel root: spool, every dataset, every snapshot.

Consent withdrawn (``DELETE /v1/sessions/{sid}``) must reach the datasets, because masking is
never perfect.  Rows are matched by the session's keyed pseudonym (the ``session`` column).

* A tombstone ``_erased/<pseudonym>`` is written first (durable): from then on the writer
  refuses the session's feedback and drops it from any publication, so nothing spooled
  concurrently slips in after the sweep.
* Spooled feedback of the session is deleted.
* Each Parquet file holding the session is rewritten without its rows, atomically (a
  temporary file renamed over it; a file left empty is deleted).  On a local root every
  snapshot version is swept (compaction hard-links files into the next snapshot, and the
  previous snapshot stays for readers that listed it).

Every step is idempotent: a sweep cut short (a crash, SIGKILL) is simply run again.
"""
from __future__ import annotations

import json
import os
import posixpath

import pyarrow.compute as pc
import pyarrow.parquet as pq

from flywheel.layout import current_snapshot
from flywheel.schemas import DATASETS
from flywheel.storage import Root

__all__ = ["erase_session", "tombstone", "is_erased"]


def tombstone(root: Root, session: str) -> None:
    root.write_bytes(f"_erased/{session}", b"")


def is_erased(root: Root, session: str) -> bool:
    return root.exists(f"_erased/{session}")


def _files(root: Root, dataset: str) -> list[str]:
    """Every Parquet file of ``dataset`` a reader may still open (all snapshots on a local root)."""
    if root.local and root.exists(f"_snapshots/{dataset}"):
        base = f"_snapshots/{dataset}"
        return [posixpath.join(base, f) for f in root.files(base)]
    return [posixpath.join(dataset, f) for f in root.files(dataset)]


def _sweep_file(root: Root, rel: str, session: str) -> int:
    column = pq.read_table(root.path(rel), columns=["session"], filesystem=root.fs).column("session")
    hits = pc.sum(pc.cast(pc.equal(column, session), "int64")).as_py() or 0
    if not hits:
        return 0
    table = pq.read_table(root.path(rel), filesystem=root.fs)
    keep = table.filter(pc.invert(pc.equal(table.column("session"), session)))
    if keep.num_rows == 0:
        root.delete(rel)
    else:
        root.replace_table(rel, keep)
    return hits


def erase_session(root: Root, session: str) -> dict[str, int]:
    """Remove ``session``'s spooled feedback and rows under ``root``; returns rows removed per place
    (files of older snapshots are swept too but counted once, in the dataset's current files)."""
    tombstone(root, session)
    removed = {"spool": 0}
    for name in root.list("_spool", ".json"):
        try:
            owner = json.loads(root.read_bytes(f"_spool/{name}")).get("session")
        except (FileNotFoundError, ValueError):
            continue
        if owner == session:
            root.delete(f"_spool/{name}")
            removed["spool"] += 1
    for dataset in [d for d in DATASETS if root.exists(d)]:
        counted = dataset + "/"
        if root.local and root.exists(f"_snapshots/{dataset}"):
            counted = os.path.relpath(current_snapshot(root, dataset)[0], root.base) + "/"
        removed[dataset] = 0
        for rel in _files(root, dataset):
            hits = _sweep_file(root, rel, session)
            removed[dataset] += hits if rel.startswith(counted) else 0
    return removed
