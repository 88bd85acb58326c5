"""The untuned PHI test split stays frozen: it is measured, never regenerated or edited after tuning."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from bench.eval.phi_split import CLASSES, SPLIT_DIR, load
from bench.eval.phi_untuned import identifying_tokens

pytestmark = pytest.mark.unit


def test_the_test_split_has_its_frozen_hash():
    manifest = json.loads((SPLIT_DIR / "MANIFEST.json").read_text())
    assert hashlib.sha256((SPLIT_DIR / "test.jsonl").read_bytes()).hexdigest() == manifest["test_sha256"]


def test_every_class_is_in_both_halves_and_no_template_is_shared():
    rows = {split: load(split) for split in ("tune", "test")}
    for split in rows:
        labels = Counter(span["label"] for row in rows[split] for span in row["spans"])
        assert set(labels) == set(CLASSES), split
    assert not {r["template_id"] for r in rows["tune"]} & {r["template_id"] for r in rows["test"]}
    for row in rows["test"]:
        for span in row["spans"]:
            assert row["text"][span["start"]:span["end"]] == span["value"]


def test_identifying_tokens_skip_generic_address_words_but_keep_lower_case_names():
    assert identifying_tokens("ulica Baczyńskiego 66") == ["Baczyńskiego", "66"]
    assert identifying_tokens("margaret thompson") == ["margaret", "thompson"]
    assert identifying_tokens("Ms Claire Smith") == ["Claire", "Smith"]
