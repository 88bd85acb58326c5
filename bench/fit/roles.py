"""``python -m bench fit roles``: fit the text role model on ../shared/data/train and ship it.

Training data (CC BY 4.0, attribution in README): the 49 PriMock57
consultations of data/train (gold roles) and the MTS-Dialog train+valid
dialogues, minus any item that data/dev also holds.  ACI-Bench is left out:
some of its subsets carry swapped doctor/patient tags (see its README).
Every text is masked with the service's own PII engine first, so the model
sees what it will see in production.  Before the final fit, a 5-fold
cross-validation grouped by consultation over PriMock57 train gives the
figures written into the model card (``role_model.json``); data/dev is never
used here.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from bench.fit.corpora import dialogue_keys, dialogue_sessions, primock_sessions
from bench.harness.data import SHARED_DATA
from serve_app.engines.roles.text_model import DEFAULT_MODEL_PATH, RoleTextModel

__all__ = ["mask_sessions", "fit_roles", "role_accuracy"]


def mask_sessions(sessions: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[str, str]]]:
    """{id: segments} -> {id: [(masked text, role)]}, one placeholder map per session."""
    from serve_app.config import PiiConfig
    from serve_app.engines.pii.engine import PiiEngine, mask_segments

    engine = PiiEngine.from_config(PiiConfig())
    out = {}
    for sid, segs in sessions.items():
        masked, _ = mask_segments(engine, [{"text": s["text"]} for s in segs], {})
        out[sid] = [(m["text"], s["role"]) for m, s in zip(masked, segs)]
    return out


def role_accuracy(pairs: list[tuple[str, str, str]]) -> dict[str, float]:
    """``(text, gold, predicted)`` -> segment accuracy and word-weighted accuracy."""
    if not pairs:
        return {"segments": 0, "segment_accuracy": 0.0, "word_accuracy": 0.0}
    words = np.array([max(1, len(t.split())) for t, _, _ in pairs])
    ok = np.array([g == p for _, g, p in pairs])
    return {"segments": len(pairs), "segment_accuracy": round(float(ok.mean()), 4),
            "word_accuracy": round(float((ok * words).sum() / words.sum()), 4)}


def _cross_validate(primock: dict, extra: list, folds: int = 5) -> dict[str, float]:
    ids = sorted(primock)
    random.Random(0).shuffle(ids)
    pairs = []
    for k in range(folds):
        held = set(ids[k::folds])
        model = RoleTextModel.fit([primock[i] for i in ids if i not in held] + extra)
        for i in sorted(held):
            p = model.predict([t for t, _ in primock[i]])
            pairs += [(t, r, "doctor" if q >= 0.5 else "patient") for (t, r), q in zip(primock[i], p)]
    return role_accuracy(pairs)


def _masked_corpus(data: Path, cache: Path | None) -> tuple[dict, dict, int]:
    """(PriMock57 train, MTS-Dialog train) masked, read from ``cache`` if it is there (it holds
    no PHI beyond what the PII engine missed in public data, and stays local)."""
    if cache is not None and cache.exists():
        saved = json.loads(cache.read_text())
        return saved["primock"], saved["mts"], saved["excluded"]
    train, dev = Path(data) / "train", Path(data) / "dev"
    exclude = dialogue_keys([dev / "mts_dialog.jsonl", dev / "aci_bench.jsonl"])
    primock = mask_sessions(primock_sessions(train / "primock57"))
    mts = mask_sessions(dialogue_sessions(train / "mts_dialog_train_valid.jsonl", exclude))
    if cache is not None:
        cache.write_text(json.dumps({"primock": primock, "mts": mts, "excluded": len(exclude)}))
    return primock, mts, len(exclude)


def fit_roles(data: Path = SHARED_DATA, out: Path = DEFAULT_MODEL_PATH, cv: bool = True,
              cache: Path | None = None) -> dict[str, Any]:
    """Fit on data/train, write the model and its card; returns the card."""
    import sklearn

    primock, mts, excluded = _masked_corpus(Path(data), cache)
    primock = {k: [tuple(p) for p in v] for k, v in primock.items()}
    mts = {k: [tuple(p) for p in v] for k, v in mts.items()}
    card: dict[str, Any] = {
        "model": "hashed TF-IDF (segment word 1-2 grams + char 2-4 grams, neighbour unigrams) + logistic regression",
        "trained_on": {
            "primock57_train": {"consultations": len(primock), "segments": sum(map(len, primock.values()))},
            "mts_dialog_train_valid": {"dialogues": len(mts), "segments": sum(map(len, mts.values())),
                                       "excluded_dev_items": excluded},
        },
        "masked_with": "serve_app PiiEngine (default PiiConfig)",
        "sklearn": sklearn.__version__,
        "license_of_data": "CC BY 4.0: PriMock57 (Papadopoulos Korfiatis et al., ACL 2022); "
                           "MTS-Dialog (Ben Abacha et al., EACL 2023)",
    }
    if cv:
        card["cv_primock57_train_5fold"] = _cross_validate(primock, list(mts.values()))
    model = RoleTextModel.fit(list(primock.values()) + list(mts.values()), meta=card)
    model.save(out)
    Path(out).with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    return card
