"""``python -m bench``: the offline commands (evaluation and fitting).

::

    python -m bench eval notes [--limit N] [--modes fact,section] [--out FILE]
    python -m bench eval citations FILE     # citation precision over a labelled sample
    python -m bench fit roles [--data DIR]  # fit the shipped role model on ../shared/data/train

The benchmarks run as modules of their own: ``python -m bench.perf.pipeline`` and so on
(see bench/README.md).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from bench.harness.data import DEV, SHARED_DATA
from serve_app.engines.roles.text_model import DEFAULT_MODEL_PATH

__all__ = ["main"]


def _summary(report: dict) -> str:
    lines = []
    for name, out in report["datasets"].items():
        lines.append(f"{name} (n={out['n']})  ROUGE F1 x100: rouge1 / rouge2 / rougeLsum")
        for key, value in out.items():
            if isinstance(value, dict) and "rouge1" in value:
                extra = ""
                if "schema_valid_rate" in value:
                    extra = (f"   schema-valid {value['schema_valid_rate']:.2%} of {value['answers']} answers,"
                             f" items kept {value['items_kept']} repaired {value['items_repaired']}"
                             f" fallback {value['items_fallback']} dropped {value['items_dropped']},"
                             f" empty notes {value['empty_notes']}")
                scores = " / ".join(f"{value[k]:6.2f}" for k in ("rouge1", "rouge2", "rougeLsum"))
                lines.append(f"  {key:<16} {scores}{extra}")
    return "\n".join(lines)


def _eval_notes(args) -> int:
    from bench.eval.notes import evaluate
    from serve_app.config import NotesConfig, PiiConfig
    from serve_app.settings import Settings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{(os.cpu_count() or 1) - 1}")
    notes = NotesConfig(**json.loads(args.notes_config)) if args.notes_config else NotesConfig()
    report = asyncio.run(evaluate(Path(args.data), args.modes.split(","), notes, PiiConfig(),
                                  str(Settings().resolved_model_cache()), limit=args.limit,
                                  mask=not args.no_mask, concurrency=args.concurrency))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))
    if args.sample_out:
        with open(args.sample_out, "w") as fh:
            for name, out in report["datasets"].items():
                for pair in out["citation_sample"]:
                    fh.write(json.dumps({"dataset": name, **pair, "label": None}) + "\n")
    print(_summary(report))
    return 0


def _eval_citations(args) -> int:
    from bench.eval.notes import citation_precision

    print(json.dumps(citation_precision(Path(args.file))))
    return 0


def _fit_roles(args) -> int:
    from bench.fit.roles import fit_roles

    card = fit_roles(Path(args.data), Path(args.out), cv=not args.no_cv,
                     cache=Path(args.cache) if args.cache else None)
    print(json.dumps(card, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval", help="evaluations on data/dev").add_subparsers(dest="what", required=True)
    notes = ev.add_parser("notes", help="ROUGE of notes vs copy and facts-only baselines")
    notes.add_argument("--data", default=str(DEV), help="folder with aci_bench.jsonl, mts_dialog.jsonl")
    notes.add_argument("--limit", type=int, default=None, help="first N dialogues of each dataset")
    notes.add_argument("--modes", default="fact", help="writer modes to run, comma separated (fact,section)")
    notes.add_argument("--notes-config", default=None, help="JSON overrides of the notes config")
    notes.add_argument("--concurrency", type=int, default=4, help="notes generated at once")
    notes.add_argument("--no-mask", action="store_true", help="skip PII masking of the dialogues")
    notes.add_argument("--out", default=None, help="write the full JSON report here")
    notes.add_argument("--sample-out", default=None, help="write the citation sample to label (JSONL)")
    notes.set_defaults(func=_eval_notes)
    cit = ev.add_parser("citations", help="citation precision over a labelled sample")
    cit.add_argument("file")
    cit.set_defaults(func=_eval_citations)
    fit = sub.add_parser("fit", help="fit shipped models").add_subparsers(dest="what", required=True)
    roles = fit.add_parser("roles", help="the text role model, on data/train")
    roles.add_argument("--data", default=str(SHARED_DATA), help="folder holding train/ and dev/")
    roles.add_argument("--out", default=str(DEFAULT_MODEL_PATH))
    roles.add_argument("--cache", default=None, help="keep the masked corpus in this JSON file (re-fits skip masking)")
    roles.add_argument("--no-cv", action="store_true", help="skip the grouped cross-validation")
    roles.set_defaults(func=_fit_roles)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
