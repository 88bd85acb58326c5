"""Bench: guardrail checks over a session's note versions, with and without the embedding cache (issue 16).

    . scripts/env.sh && python -m bench.perf.guardrails_versions [--fractions 0.25,0.5,0.75,1] [--label X]

A live session's note is checked on every version: drafts while the consultation goes on, then the final
note.  Each version is checked against the transcript so far, so most of its evidence sentences were
embedded for the version before.  For every note the product wrote on ``data/dev``
(``bench/results/generated_notes_dev.json``, see :mod:`bench.eval.guardrails_generated`) this replays:

* one version per transcript prefix in ``--fractions`` (the items whose citations all lie in the prefix,
  and the items citing nothing, which are checked against the whole prefix);
* the last version once more (the final note after a draft that saw every segment).

Both engines (``guardrails.embedding_cache`` 0 and the default) check the same versions in the same run,
alternating note by note, each engine shared across notes as in a replica, torch on 1 thread as in the
replica.  Reported: wall and CPU ms per check, the time spent embedding, sentences sent to the model,
and whether the warnings are the same.

Results: ``bench/results/guardrails_versions[_<label>].json``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.harness.data import RESULTS, save_result


def versions(record: dict, fractions: list[float]) -> list[tuple[dict, list[dict]]]:
    """``(note, segments)`` per transcript prefix, then the last one again."""
    segments = record["segments"]
    out = []
    for frac in fractions:
        prefix = segments[:max(1, round(len(segments) * frac))]
        ids = {s["id"] for s in prefix}
        note = {section: [i for i in items if set(i.get("citations") or []) <= ids]
                for section, items in record["note"].items() if isinstance(items, list)}
        out.append((note, prefix))
    return out + out[-1:]


class _Timed:
    """Wraps a support backend's ``embed`` to add up the time it takes."""

    def __init__(self, support):
        self.support, self.seconds = support, 0.0
        self._embed = support.embed
        support.embed = self._timed

    def _timed(self, texts):
        started = time.perf_counter()
        try:
            return self._embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fractions", default="0.25,0.5,0.75,1")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    import torch

    from deployments.guardrails import build_guardrail_engine
    from serve_app.config import GuardrailsConfig

    torch.set_num_threads(1)
    fractions = [float(f) for f in args.fractions.split(",")]
    records = [r for r in json.loads((RESULTS / "generated_notes_dev.json").read_text()) if r.get("note")]
    modes = {"no_cache": GuardrailsConfig(embedding_cache=0), "cache": GuardrailsConfig()}
    engines = {name: build_guardrail_engine(cfg) for name, cfg in modes.items()}
    timers = {name: _Timed(engine._support) for name, engine in engines.items()}
    for engine in engines.values():
        engine.check({"plan": [{"id": "w", "text": "warm up", "citations": []}]}, [{"id": "s", "text": "warm up"}])
    for timer in timers.values():
        timer.seconds = 0.0
    start_encoded = {name: e._support.encoded for name, e in engines.items()}
    wall = {name: [] for name in modes}
    cpu = {name: 0.0 for name in modes}
    last_wall = {name: [] for name in modes}
    same, checks = 0, 0
    for k, record in enumerate(records):
        order = list(modes) if k % 2 == 0 else list(reversed(modes))
        results = {}
        for name in order:
            got = []
            for v, (note, prefix) in enumerate(versions(record, fractions)):
                w0, c0 = time.perf_counter(), time.process_time()
                got.append(engines[name].check(note, prefix))
                elapsed = time.perf_counter() - w0
                cpu[name] += time.process_time() - c0
                wall[name].append(elapsed)
                if v == len(fractions):
                    last_wall[name].append(elapsed)
            results[name] = got
        for a, b in zip(results["no_cache"], results["cache"]):
            checks += 1
            same += a == b
    row = {"notes": len(records), "fractions": fractions, "checks_per_mode": len(wall["cache"]),
           "warnings_identical_share": round(same / checks, 4)}
    for name in modes:
        row[name] = {
            "check_wall_ms_p50": round(1000 * statistics.median(wall[name]), 1),
            "check_wall_ms_mean": round(1000 * statistics.mean(wall[name]), 1),
            "final_after_full_draft_ms_p50": round(1000 * statistics.median(last_wall[name]), 1),
            "cpu_s_total": round(cpu[name], 2),
            "embed_s_total": round(timers[name].seconds, 2),
            "sentences_encoded": engines[name]._support.encoded - start_encoded[name],
        }
    row["cpu_ratio_cache_over_none"] = round(row["cache"]["cpu_s_total"] / row["no_cache"]["cpu_s_total"], 3)
    print(json.dumps(row, indent=2))
    save_result("guardrails_versions", args.label, row)


if __name__ == "__main__":
    main()
