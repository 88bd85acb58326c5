"""Perturbation benchmark of the guardrail checks (issue 5, in progress: entity + support checks).

    . scripts/env.sh && python -m bench.eval_guardrails --split train [--support-min X --align-min Y]

Rows come from :mod:`bench.perturbations` (generated, never edited).  The
evidence of a reference-note sentence is its whole dialogue (reference notes
carry no citations).  A row is *flagged* by a variant if:

* ``entities``: the entity check finds anything;
* ``negation``: the support check says ``contradicted``;
* ``combined``: either;
* ``combined+unsupported``: either, or the support check says ``unsupported``.

Detection per kind = share of perturbed rows flagged; false alarms = share of
unchanged rows flagged.  Tune on ``--split train`` only; report ``dev``.
"""
from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

from bench.perturbations import _records, generate
from serve_app.engines.clinical_entities import extract
from serve_app.engines.entity_check import check_entities
from serve_app.engines.support_check import EmbeddingSupport, evidence_units
from serve_app.eval_notes import dialogue_segments
from serve_app.role_data import SHARED_DATA

VARIANTS = ("entities", "negation", "combined", "combined+unsupported")


def evaluate(split: str, support: EmbeddingSupport, limit: int | None = None) -> dict:
    records = [(s, sp, r) for s, sp, r in _records(SHARED_DATA) if sp == split][:limit]
    flagged = {v: collections.Counter() for v in VARIANTS}
    totals: collections.Counter = collections.Counter()
    started = time.perf_counter()
    for source, sp, record in records:
        rows = generate([(source, sp, record)])
        segments = dialogue_segments(record["dialogue"])
        units = evidence_units(segments)
        vectors = support.embed([u.text for u in units])
        said = extract(record["dialogue"])
        results = support.check([r.sentence for r in rows], units, vectors)
        for row, result in zip(rows, results):
            entity = bool(check_entities(row.sentence, said))
            negation = result.outcome == "contradicted"
            verdicts = {"entities": entity, "negation": negation, "combined": entity or negation,
                        "combined+unsupported": entity or negation or result.outcome == "unsupported"}
            totals[row.kind] += 1
            for variant, hit in verdicts.items():
                flagged[variant][row.kind] += hit
    report = {"split": split, "records": len(records), "rows": sum(totals.values()),
              "seconds": round(time.perf_counter() - started, 1), "counts": dict(totals),
              "support_min": support.support_min, "align_min": support.align_min, "top_k": support.top_k}
    for variant in VARIANTS:
        report[variant] = {kind: round(flagged[variant][kind] / n, 4) for kind, n in sorted(totals.items())}
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="train", choices=("train", "dev"))
    parser.add_argument("--support-min", type=float, default=0.45)
    parser.add_argument("--align-min", type=float, default=0.5)
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="first N records")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    support = EmbeddingSupport(support_min=args.support_min, align_min=args.align_min, top_k=args.top_k)
    report = evaluate(args.split, support, args.limit)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))
    kinds = sorted(report["counts"])
    print(f"{args.split}: {report['records']} records, {report['rows']} rows, {report['seconds']} s")
    print(f"{'variant':<22}" + "".join(f"{k[:12]:>13}" for k in kinds))
    for variant in VARIANTS:
        print(f"{variant:<22}" + "".join(f"{report[variant][k]:13.3f}" for k in kinds))


if __name__ == "__main__":
    main()
