"""Dataset directories that can be swapped atomically (for ``flywheel compact``).

On a local root each dataset path (``<root>/sft``) is a symbolic link to a
snapshot directory (``<root>/_snapshots/sft/v000001``).  Readers follow the link
(``ray.data.read_parquet("<root>/sft")``); the writer appends through it.
Compaction builds the next snapshot beside it and replaces the link with one
``rename`` (atomic on POSIX), so a reader lists either the old files or the new
ones, never both and never neither.  Object-store roots have no links: their
dataset paths are plain prefixes and compaction is refused there.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Iterator

from flywheel.schemas import DATASETS
from flywheel.storage import Root
from serve_app.durable import fsync_path

__all__ = ["ensure_layout", "current_snapshot", "swap_snapshot", "root_lock"]

_VERSION = re.compile(r"v(\d{6})$")


def ensure_layout(root: Root, datasets=tuple(DATASETS)) -> None:
    """Create each dataset path (a link to its first snapshot on local roots)."""
    for dataset in datasets:
        link = root.path(dataset)
        if not root.local:
            root.fs.create_dir(link, recursive=True)
            continue
        if os.path.islink(link) or os.path.isdir(link):
            continue
        first = root.path("_snapshots", dataset, "v000001")
        os.makedirs(first, exist_ok=True)
        tmp = f"{link}.link-tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.relpath(first, os.path.dirname(link)), tmp)
        os.replace(tmp, link)


def current_snapshot(root: Root, dataset: str) -> tuple[str, int]:
    """(absolute snapshot directory, its version number) a dataset link points at."""
    target = os.path.realpath(root.path(dataset))
    match = _VERSION.search(target)
    if not match:
        raise RuntimeError(f"{dataset} is not a snapshot link; was this root made by another version?")
    return target, int(match.group(1))


def swap_snapshot(root: Root, dataset: str, new_dir: str) -> None:
    """Point the dataset link at ``new_dir`` in one atomic rename."""
    link = root.path(dataset)
    tmp = f"{link}.link-tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(os.path.relpath(new_dir, os.path.dirname(link)), tmp)
    os.replace(tmp, link)
    fsync_path(os.path.dirname(link))


@contextmanager
def root_lock(root: Root, timeout_s: float = 600.0) -> Iterator[None]:
    """Exclusive between the writer's publications and compaction (a file lock on local roots)."""
    if not root.local:
        yield
        return
    from filelock import FileLock

    with FileLock(root.path("_lock"), timeout=timeout_s):
        yield
