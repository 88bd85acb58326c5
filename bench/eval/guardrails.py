"""Perturbation benchmark of the guardrail checks (issue 5, in progress: entity + support checks).

    . scripts/env.sh && python -m bench.eval.guardrails --split train [--support-min X --align-min Y]

Rows come from :mod:`bench.eval.perturbations` (generated, never edited).  The
evidence of a reference-note sentence is its whole dialogue (reference notes
carry no citations).  A row is *flagged* by a variant if:

* ``entities``: the entity check finds anything;
* ``negation``: the support check says ``contradicted``;
* ``combined``: either;
* ``combined+unsupported``: either, or the support check says ``unsupported``.

``grounded/...`` repeats each figure on the rows whose *original* sentence the
dialogue supports (best alignment >= ``support_min``): a reference-note sentence
the dialogue never says (exam findings dictated elsewhere, history from the
chart) cannot have its flip detected against the dialogue by any checker.

Detection per kind = share of perturbed rows flagged; false alarms = share of
unchanged rows flagged.  Tune on ``--split train`` only; report ``dev``.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from bench.eval.notes import dialogue_segments
from bench.eval.perturbations import _records, generate
from bench.harness.data import SHARED_DATA
from serve_app.engines.guardrails.entities import extract
from serve_app.engines.guardrails.entity_check import check_entities
from serve_app.engines.guardrails.support import EmbeddingSupport, evidence_units

VARIANTS = ("entities", "negation", "combined", "combined+unsupported")


def _vectors(support: EmbeddingSupport, texts: list[str], cache: Path | None, key: str) -> np.ndarray:
    """Embeddings of ``texts``, kept in ``cache`` (texts are hashed into the key) for rule tuning."""
    if cache is None:
        return support.embed(texts)
    digest = hashlib.sha1("\x00".join(texts).encode()).hexdigest()[:16]
    path = cache / f"{key.replace('/', '_')}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = support.embed(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def evaluate(split: str, support: EmbeddingSupport, limit: int | None = None, cache: Path | None = None) -> dict:
    records = [(s, sp, r) for s, sp, r in _records(SHARED_DATA) if sp == split][:limit]
    flagged = {scope: {v: collections.Counter() for v in VARIANTS} for scope in ("all", "grounded")}
    totals = {scope: collections.Counter() for scope in ("all", "grounded")}
    started = time.perf_counter()
    for source, sp, record in records:
        rows = generate([(source, sp, record)])
        if not rows:
            continue
        segments = dialogue_segments(record["dialogue"])
        units = evidence_units(segments)
        key = f"{split}-{rows[0].record_id}"
        vectors = _vectors(support, [u.text for u in units], cache, key + "-units")
        claims = [r.sentence for r in rows]
        said = extract(record["dialogue"])
        results = support.check(claims, units, vectors, _vectors(support, claims, cache, key + "-claims"))
        originals = _vectors(support, [r.original for r in rows], cache, key + "-originals")
        grounded = (originals @ vectors.T).max(axis=1) >= support.support_min if len(units) else [False] * len(rows)
        for row, result, is_grounded in zip(rows, results, grounded):
            entity = bool(check_entities(row.sentence, said))
            negation = result.outcome == "contradicted"
            verdicts = {"entities": entity, "negation": negation, "combined": entity or negation,
                        "combined+unsupported": entity or negation or result.outcome == "unsupported"}
            for scope in ("all", "grounded") if is_grounded else ("all",):
                totals[scope][row.kind] += 1
                for variant, hit in verdicts.items():
                    flagged[scope][variant][row.kind] += hit
    report = {"split": split, "records": len(records), "rows": sum(totals["all"].values()),
              "seconds": round(time.perf_counter() - started, 1), "counts": dict(totals["all"]),
              "grounded_counts": dict(totals["grounded"]),
              "support_min": support.support_min, "align_min": support.align_min, "top_k": support.top_k}
    for scope, prefix in (("all", ""), ("grounded", "grounded/")):
        for variant in VARIANTS:
            report[prefix + variant] = {kind: round(flagged[scope][variant][kind] / n, 4)
                                        for kind, n in sorted(totals[scope].items())}
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="train", choices=("train", "dev"))
    parser.add_argument("--support-min", type=float, default=0.3)
    parser.add_argument("--align-min", type=float, default=0.3)
    parser.add_argument("--top-k", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="first N records")
    parser.add_argument("--out", default=None)
    parser.add_argument("--cache", default=None, help="keep embeddings here between runs (rule tuning)")
    args = parser.parse_args()
    support = EmbeddingSupport(support_min=args.support_min, align_min=args.align_min, top_k=args.top_k)
    report = evaluate(args.split, support, args.limit, Path(args.cache) if args.cache else None)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))
    kinds = sorted(report["counts"])
    print(f"{args.split}: {report['records']} records, {report['rows']} rows, {report['seconds']} s")
    print(f"{'variant':<31}" + "".join(f"{k[:12]:>13}" for k in kinds))
    print(f"{'rows (grounded)':<31}" + "".join(f"{report['counts'][k]:>7}({report['grounded_counts'].get(k, 0):>4})"
                                               for k in kinds))
    for variant in VARIANTS + tuple(f"grounded/{v}" for v in VARIANTS):
        print(f"{variant:<31}" + "".join(f"{report[variant].get(k, float('nan')):13.3f}" for k in kinds))


if __name__ == "__main__":
    main()
