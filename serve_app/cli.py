"""The ``scribe`` command (ops tools that ship with the service).

::

    scribe prepare-models      # convert the packaged note model once into the model cache

Evaluation and fitting are offline tools: ``python -m bench --help``.
"""
from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _prepare(args) -> int:
    from serve_app.config import NotesConfig
    from serve_app.engines.notes.models import resolve_note_model
    from serve_app.settings import Settings

    cfg = NotesConfig()
    if cfg.backend == "vllm":
        print(f"[prepare-models] note model: {resolve_note_model(cfg.model, Settings().resolved_model_cache())}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scribe")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare-models", help="convert the packaged note model once").set_defaults(func=_prepare)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
