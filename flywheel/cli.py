"""``flywheel`` command line: stats, compact, export, card.

    flywheel stats   [--root R]                      rows, files and quarantine per dataset; pending spool
    flywheel compact [--root R]                      merge small files, publish atomically
    flywheel export  sft|dpo|feedback --out F.jsonl  JSONL for fine-tuning tools (progress bar)
    flywheel card    [--root R]                      (re)write the dataset card README.md

``--root`` defaults to ``$SCRIBE_FLYWHEEL_ROOT``, else ``$SCRIBE_DATA_DIR/flywheel`` as the service uses.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys

import pyarrow.dataset as pads

from flywheel.records import FlywheelRules
from flywheel.schemas import DATASETS
from flywheel.storage import Root

__all__ = ["main", "stats"]


def _default_root() -> str:
    from serve_app.settings import Settings

    return Settings().resolved_flywheel_root()


def _dataset(root: Root, name: str) -> pads.Dataset:
    files = [root.path(name, f) for f in root.files(name)]
    return pads.dataset(files, schema=DATASETS[name], format="parquet", filesystem=root.fs)


def stats(root_uri: str) -> dict:
    """Counts per dataset, quarantine by entity type and target, and what is still spooled."""
    root = Root(root_uri)
    out: dict = {"root": root_uri, "datasets": {}, "pending_feedback": len(root.list("_spool", ".json")),
                 "unfinished_publications": len(root.list("_batches", ".json"))}
    for name in DATASETS:
        files = root.files(name)
        ds = _dataset(root, name)
        out["datasets"][name] = {"rows": ds.count_rows() if files else 0, "files": len(files),
                                 "dates": sorted({f.split("/")[0].split("=", 1)[1] for f in files if "=" in f})}
    if out["datasets"]["quarantine"]["rows"]:
        table = _dataset(root, "quarantine").to_table(columns=["dataset", "entity_types"])
        by_type, by_target = collections.Counter(), collections.Counter(table.column("dataset").to_pylist())
        for kinds in table.column("entity_types").to_pylist():
            by_type.update(kinds)
        out["quarantine"] = {"by_entity_type": dict(by_type), "by_target_dataset": dict(by_target)}
    return out


def export(root_uri: str, name: str, out_path: str) -> int:
    """Write ``name`` as JSONL (SFT: ``messages``; DPO: ``prompt``/``chosen``/``rejected``; plus ids)."""
    from tqdm import tqdm

    root = Root(root_uri)
    if not root.files(name):
        return 0
    ds = _dataset(root, name)
    keep = {"sft": ["messages", "feedback_id", "note_version", "model_id", "prompt_version", "source"],
            "dpo": ["prompt", "chosen", "rejected", "feedback_id", "note_version", "model_id", "prompt_version"]}
    columns = keep.get(name)
    n = 0
    with open(out_path, "w", encoding="utf-8") as fh, tqdm(total=ds.count_rows(), unit="row", desc=name) as bar:
        for batch in ds.to_batches(columns=columns):
            for row in batch.to_pylist():
                fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
            n += batch.num_rows
            bar.update(batch.num_rows)
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flywheel", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="dataset root (local path or pyarrow.fs URI)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("stats", help="rows, files, quarantine, pending spool")
    sub.add_parser("compact", help="merge small files; atomic publish")
    exp = sub.add_parser("export", help="JSONL for fine-tuning tools")
    exp.add_argument("dataset", choices=sorted(DATASETS))
    exp.add_argument("--out", required=True)
    card = sub.add_parser("card", help="write the dataset card")
    card.add_argument("--dpo-max-similarity", type=float, default=FlywheelRules().dpo_max_similarity)
    args = parser.parse_args(argv)
    root = args.root or _default_root()
    if args.command == "stats":
        print(json.dumps(stats(root), indent=1))
    elif args.command == "compact":
        from tqdm import tqdm

        from flywheel.compact import compact

        with tqdm(unit="partition", desc="compact") as bar:
            print(json.dumps(compact(root, bar.update), indent=1))
    elif args.command == "export":
        print(f"{export(root, args.dataset, args.out)} rows -> {args.out}")
    elif args.command == "card":
        from flywheel.card import write_card

        write_card(Root(root), FlywheelRules(dpo_max_similarity=args.dpo_max_similarity))
        print(f"card written to {Root(root).path('README.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
