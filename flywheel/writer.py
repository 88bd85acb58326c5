"""Acknowledged feedback -> Parquet, exactly once, whatever crashes in between.

Layout under the root (see :mod:`.storage`)::

    _spool/<feedback_id>.json                one acknowledged feedback (written before the 201)
    _batches/<batch>.json                    a publication in progress: its ids and target files
    _ledger/<batch>.json                     ids a finished publication holds (idempotency index)
    _erased/<session pseudonym>              a session whose rows were erased (consent withdrawn)
    feedback|sft|dpo/date=YYYY-MM-DD/part-<batch>.parquet
    README.md                                the dataset card

and, under a separate quarantine root (``<root>-quarantine`` unless configured), which the
people who read the datasets need not be given::

    quarantine/date=YYYY-MM-DD/part-<batch>.parquet

:meth:`FlywheelWriter.submit` makes a feedback durable (``_spool``) and is what
the 201 waits for.  :meth:`FlywheelWriter.publish` turns the spool into files:

1. build every row (pure, :func:`.records.rows_for`) and scan it for PHI
   (rows with findings go to ``quarantine``, redacted);
2. stage each target's rows (``_staged/<batch>/<n>.parquet``, in the target's root), then write
   the manifest ``_batches/<batch>.json`` (ids, target files, their staged rows);
3. write each target that does not exist yet (atomic: complete or absent),
   then the ledger;
4. delete the spooled feedback, then the manifest.

A crash anywhere is repaired by re-running the manifest on the next start:
targets that exist are kept, missing ones are written from their staged rows
(the spool is only deleted after every target exists), so each acknowledged id
ends up in the data exactly once, even if the PHI scanner changed in between.
A feedback id already spooled or published is not taken again (retries with the same ``Idempotency-Key`` map to the same
id).
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import threading
import time
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from flywheel.card import card_text
from flywheel.erase import erase_session, is_erased
from flywheel.layout import ensure_layout, root_lock
from flywheel.phi_scan import PhiScanner, quarantine_row
from flywheel.records import Feedback, FlywheelRules, rows_for
from flywheel.schemas import DATASETS
from flywheel.storage import Root

__all__ = ["FlywheelWriter", "quarantine_root_for", "PUBLIC_DATASETS"]

#: what data scientists read; ``quarantine`` lives under its own root
PUBLIC_DATASETS = ("feedback", "sft", "dpo")


def quarantine_root_for(root: str) -> str:
    """The default quarantine root: a sibling of ``root`` (``/data/flywheel`` -> ``/data/flywheel-quarantine``)."""
    return root.rstrip("/") + "-quarantine"

log = logging.getLogger("scribe.flywheel")


def _date(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d")


def _target(key: tuple[str, str], batch: str) -> str:
    """The file a batch writes for (dataset, day)."""
    return f"{key[0]}/date={key[1]}/part-{batch}.parquet"


class FlywheelWriter:
    """Spool and publish feedback under ``root`` (local path or pyarrow.fs URI).

    Args:
        root: where the datasets live.
        rules: classification thresholds.
        scanner: PHI scan of each row (None: no scan, for tests of layout only).
        quarantine_root: where quarantined rows go (default :func:`quarantine_root_for`).
    """

    def __init__(self, root: str, rules: FlywheelRules, scanner: PhiScanner | None, quarantine_root: str | None = None):
        self.root = Root(root)
        self.quarantine = Root(quarantine_root or quarantine_root_for(root))
        self.rules = rules
        self._scanner = scanner
        self._lock = lambda: root_lock(self.root)  # shared with `flywheel compact`
        self._guard = threading.Lock()
        self._known: set[str] = set()
        self.quarantined_rows = 0  # rows routed to the quarantine by this writer (metrics)
        for name in self.root.list("_ledger", ".json"):
            self._known.update(json.loads(self.root.read_bytes(f"_ledger/{name}"))["feedback_ids"])
        self._known.update(n[:-5] for n in self.root.list("_spool", ".json"))
        ensure_layout(self.root, PUBLIC_DATASETS)
        ensure_layout(self.quarantine, ("quarantine",))
        card = card_text(rules).encode()
        if not self.root.exists("README.md") or self.root.read_bytes("README.md") != card:
            self.root.write_bytes("README.md", card)

    # -- acknowledgement -------------------------------------------------------
    def submit(self, fb: Feedback) -> bool:
        """Make ``fb`` durable; False if this id was already taken (a retry) or its session was erased.
        Returns after fsync."""
        if is_erased(self.root, fb.session):
            return False
        with self._guard:
            if fb.feedback_id in self._known:
                return False
            self._known.add(fb.feedback_id)
        try:
            self.root.write_bytes(f"_spool/{fb.feedback_id}.json", fb.to_json().encode())
        except BaseException:
            with self._guard:
                self._known.discard(fb.feedback_id)
            raise
        return True

    def pending(self) -> int:
        return len(self.root.list("_spool", ".json"))

    # -- publication -----------------------------------------------------------
    def _spooled(self, ids: list[str]) -> list[Feedback]:
        out = []
        for fid in ids:
            if self.root.exists(f"_spool/{fid}.json"):
                out.append(Feedback.from_json(self.root.read_bytes(f"_spool/{fid}.json").decode()))
        return out

    def _route(self, feedback: list[Feedback]) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """(dataset, date) -> rows, PHI findings sent to the quarantine."""
        out: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
        for fb in feedback:
            if is_erased(self.root, fb.session):  # spooled while its session was being erased
                continue
            day = _date(fb.received_at)
            for dataset, rows in rows_for(fb, self.rules).items():
                for row in rows:
                    kinds, redacted = self._scanner.scan(row) if self._scanner else ([], None)
                    if kinds:
                        log.warning("flywheel: a %s row was quarantined (found %s)", dataset, ",".join(kinds))
                        out[("quarantine", day)].append(quarantine_row(row, dataset, kinds, redacted))
                        self.quarantined_rows += 1
                    else:
                        out[(dataset, day)].append(row)
        return out

    def _apply(self, batch: str, manifest: dict[str, Any], routed: dict | None = None) -> int:
        """Make every target of ``manifest`` exist, then the ledger; only then forget the spool.

        Each target's rows were staged (``_staged/<batch>/``, in the target's own root) before the
        manifest was written, so a restart writes exactly the rows decided at the cut, whatever
        the PHI scanner says now (review M3).  A manifest from before staging is re-routed, and
        any (dataset, day) the new routing needs is added to it first, so no id is marked
        published that no dataset holds."""
        staged = manifest.get("staged", {})
        for target in list(manifest["targets"]):
            root = self._root_for(target)
            if root.exists(target):
                continue
            if target in staged:
                root.write_table(target, pq.read_table(root.path(staged[target]), filesystem=root.fs))
                continue
            if routed is None:
                routed = self._route(self._spooled(manifest["feedback_ids"]))
                extra = [_target(key, batch) for key, rows in sorted(routed.items())
                         if rows and _target(key, batch) not in manifest["targets"]]
                if extra:  # the scanner changed since the cut: the new routing's targets join the batch
                    manifest = {**manifest, "targets": manifest["targets"] + extra}
                    self.root.write_bytes(f"_batches/{batch}.json", json.dumps(manifest).encode())
                    return self._apply(batch, manifest, routed)
            dataset, partition, _ = target.split("/")
            rows = routed.get((dataset, partition.split("=", 1)[1]), [])
            if rows:  # empty when its feedback's session was erased since the manifest was written
                root.write_table(target, pa.Table.from_pylist(rows, schema=DATASETS[dataset]))
        ledger = f"_ledger/{batch}.json"
        if not self.root.exists(ledger):
            self.root.write_bytes(ledger, json.dumps({"feedback_ids": manifest["feedback_ids"]}).encode())
        for fid in manifest["feedback_ids"]:
            self.root.delete(f"_spool/{fid}.json")
        for target, rel in staged.items():
            self._root_for(target).delete(rel)
        self.root.delete(f"_batches/{batch}.json")
        return len(manifest["feedback_ids"])

    def recover(self) -> int:
        """Finish publications a crash interrupted; returns the feedback count they held."""
        done = 0
        with self._lock():
            for name in self.root.list("_batches", ".json"):
                done += self._apply(name[:-5], json.loads(self.root.read_bytes(f"_batches/{name}")))
        return done

    def publish(self, max_feedback: int = 5000) -> int:
        """Publish what is spooled (at most ``max_feedback``); returns how many feedback were published."""
        self.recover()
        ids = [n[:-5] for n in self.root.list("_spool", ".json")][:max_feedback]
        if not ids:
            return 0
        with self._lock():
            feedback = self._spooled(ids)
            routed = self._route(feedback)
            batch = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
            staged = {}
            for i, (key, rows) in enumerate(sorted((k, r) for k, r in routed.items() if r)):
                target, rel = _target(key, batch), f"_staged/{batch}/{i}.parquet"
                self._root_for(target).write_table(rel, pa.Table.from_pylist(rows, schema=DATASETS[key[0]]))
                staged[target] = rel
            manifest = {"feedback_ids": [fb.feedback_id for fb in feedback], "targets": list(staged),
                        "staged": staged}
            self.root.write_bytes(f"_batches/{batch}.json", json.dumps(manifest).encode())
            return self._apply(batch, manifest, routed)

    def _root_for(self, target: str) -> Root:
        return self.quarantine if target.startswith("quarantine/") else self.root

    # -- erasure -----------------------------------------------------------------
    def erase(self, session: str) -> dict[str, int]:
        """Erase ``session`` (its pseudonym) from the spool, the datasets and the quarantine; idempotent.
        Returns rows removed per place."""
        self.recover()
        with self._lock():
            removed = erase_session(self.root, session)
            removed["quarantine"] = erase_session(self.quarantine, session).get("quarantine", 0)
        return removed

    def purge_quarantine(self, days: float, now: float | None = None) -> int:
        """Delete quarantine partitions older than ``days`` (the review window); returns files deleted."""
        cutoff = _date((now or time.time()) - days * 86400)
        base = "_snapshots/quarantine" if self.quarantine.local and self.quarantine.exists("_snapshots/quarantine") \
            else "quarantine"
        deleted = 0
        with self._lock():
            for rel in self.quarantine.files(base):
                partition = [p for p in rel.split("/") if p.startswith("date=")]
                if partition and partition[0][5:] < cutoff:
                    self.quarantine.delete(f"{base}/{rel}")
                    deleted += 1
        return deleted
