"""PHI masking quality on data/dev: recall per label and over-masking.

    python -m bench.perf.pii

* recall: data/dev/phi_presidio.jsonl, a gold span counts as caught when none
  of its identifying tokens survives in the masked text.
* over-masking: words masked per 1,000 words on the data/dev ACI-Bench
  dialogues outside the silver patient-name spans, with every masked string
  listed so a human can judge which were PHI (names of relatives and staff,
  dates) and which were clinical words lost.
"""
from __future__ import annotations

import json
import re
from collections import Counter

from bench.harness.data import DEV, RESULTS, phi_records
from serve_app.engines.pii.engine import PiiEngine

OUT = RESULTS


def recall(engine: PiiEngine) -> dict:
    total, caught = Counter(), Counter()
    for rec in phi_records():
        masked = engine.mask(rec["text"], {}).text
        for span in rec["spans"]:
            tokens = [t for t in re.findall(r"\w+", span["value"]) if any(c.isdigit() or c.isupper() for c in t)]
            leaked = any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", masked) for t in tokens)
            total[span["label"]] += 1
            caught[span["label"]] += not leaked
    return {label: f"{caught[label]}/{total[label]}" for label in sorted(total)}


def over_masking(engine: PiiEngine) -> dict:
    words = masked_words = 0
    masked_strings: Counter = Counter()
    for line in (DEV / "aci_bench.jsonl").read_text().splitlines():
        rec = json.loads(line)
        text = rec["dialogue"]
        names = rec["meta"].get("name_spans_dialogue_silver") or []
        name_spans = [(s["start"], s["end"]) if isinstance(s, dict) else tuple(s[:2]) for s in names]
        words += len(text.split())
        for start, end, entity in engine.find(text):
            if any(start < e and end > s for s, e in name_spans):
                continue
            value = text[start:end]
            masked_words += len(value.split())
            masked_strings[f"{entity}:{value.lower()}"] += 1
    return {"words": words, "masked_words_outside_patient_names": masked_words,
            "per_1000_words": round(1000 * masked_words / words, 2),
            "masked": dict(masked_strings.most_common())}


if __name__ == "__main__":
    engine = PiiEngine()
    result = {"recall_per_label": recall(engine), "over_masking_aci_dev": over_masking(engine)}
    OUT.mkdir(exist_ok=True)
    (OUT / "pii.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
