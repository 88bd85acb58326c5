"""PHI masking recall per Safe Harbor class on the frozen untuned split (and its tune half).

    python -m bench.eval.phi_untuned   # writes bench/results/phi_untuned.json

A labelled span counts as caught when none of its identifying tokens survives in the masked
text.  Identifying tokens are the span's words with a digit, or of three or more letters that
are not generic address words ("street", "ul.", "rue"...); so a name typed in lower case counts,
and "rue" left beside a masked street name does not count as a leak.  Over-masking and data/dev
figures stay in ``python -m bench.perf.pii``.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter

from bench.eval.phi_split import CLASSES, load
from bench.harness.data import RESULTS

__all__ = ["identifying_tokens", "score"]

_GENERIC = {"street", "st", "road", "rd", "avenue", "ave", "apt", "suite", "unit", "box", "flat", "studio", "lane",
            "rue", "ulica", "ul", "út", "utca", "via", "calle", "ronda", "contrada", "praça", "rua", "straße",
            "strasse", "allee", "weg", "platz", "laan", "baan", "straat", "plein", "the", "and", "of", "de", "la",
            "le", "del", "der", "van", "da", "do", "dos", "das", "di", "du", "des", "mr", "mrs", "ms", "dr", "miss",
            "prof", "sir", "tel", "ext", "path", "end", "cove", "court", "square", "place", "drive", "close"}


def identifying_tokens(value: str) -> list[str]:
    return [t for t in re.findall(r"\w+", value) if any(c.isdigit() for c in t)
            or (len(t) >= 3 and t.lower() not in _GENERIC)]


def score(rows: list[dict], mask) -> dict:
    """Per class: caught / total, recall, and the first missed values (for reading, not tuning the test)."""
    total, caught, missed = Counter(), Counter(), {}
    for row in rows:
        masked = mask(row["text"])
        for span in row["spans"]:
            tokens = identifying_tokens(span["value"])
            leaked = [t for t in tokens if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", masked)]
            total[span["label"]] += 1
            caught[span["label"]] += not leaked
            if leaked:
                missed.setdefault(span["label"], []).append(span["value"])
    out = {c: {"caught": caught[c], "total": total[c], "recall": round(caught[c] / total[c], 3) if total[c] else None,
               "missed_examples": missed.get(c, [])[:5]} for c in CLASSES}
    out["all"] = {"caught": sum(caught.values()), "total": sum(total.values()),
                  "recall": round(sum(caught.values()) / max(1, sum(total.values())), 3)}
    return out


def _present(tokens: list[str], text: str) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", text) for t in tokens)


def rescan(rows: list[dict], mask, scanner) -> dict:
    """Identifiers the masking let through, and how many of those the flywheel's re-scan (both
    detectors) still finds: what reaches a dataset is what slips past both."""
    leaked = past_both = 0
    for row in rows:
        masked = mask(row["text"])
        _, redacted = scanner.scan({"reason": masked})
        after = (redacted or {"reason": masked})["reason"]
        for span in row["spans"]:
            tokens = identifying_tokens(span["value"])
            if _present(tokens, masked):
                leaked += 1
                past_both += _present(tokens, after)
    total = sum(len(r["spans"]) for r in rows)
    return {"identifiers": total, "past_masking": leaked, "past_masking_and_rescan": past_both,
            "recall_masking_plus_rescan": round(1 - past_both / total, 3)}


def main() -> None:
    from flywheel.phi_scan import PhiScanner
    from serve_app.config import PiiConfig
    from serve_app.engines.pii.engine import PiiEngine

    engine = PiiEngine()
    scanner = PhiScanner.from_config(PiiConfig(), engine)
    mask = lambda text: engine.mask(text, {}).text
    result = {}
    for split in ("test", "tune"):
        rows = load(split)
        began = time.perf_counter()
        result[split] = score(rows, mask)
        result[split]["ms_per_sentence"] = round(1000 * (time.perf_counter() - began) / len(rows), 1)
        if split == "test":  # the frozen split is measured, never read for misses (that would be tuning on it)
            for c in CLASSES:
                result[split][c].pop("missed_examples")
        result[split]["flywheel"] = rescan(rows, mask, scanner)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "phi_untuned.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for split in ("test", "tune"):
        print(split, {c: result[split][c]["recall"] for c in (*CLASSES, "all")},
              f"{result[split]['ms_per_sentence']} ms/sentence", result[split]["flywheel"])


if __name__ == "__main__":
    main()
