"""Offline support check with the packaged MiniLM (guardrails, issue 5 in progress)."""
from __future__ import annotations

import pytest

from serve_app.engines.support_check import EmbeddingSupport, evidence_units

SEGMENTS = [
    {"id": "s0", "text": "Do you have any chest pain?"},
    {"id": "s1", "text": "No, none at all."},
    {"id": "s2", "text": "I have had a dry cough for about two weeks."},
]


@pytest.fixture(scope="module")
def support():
    return EmbeddingSupport()


def test_question_and_no_answer_become_one_negative_unit():
    units = evidence_units(SEGMENTS)
    pair = [u for u in units if u.segment_ids == ("s0", "s1")]
    assert pair and {"chest", "pain"} <= pair[0].polarity.negated


def test_three_outcomes(support):
    results = support.check(["The patient reports chest pain.", "The patient denies chest pain.",
                             "Dry cough for two weeks.", "The patient plays golf on weekends."],
                            evidence_units(SEGMENTS))
    assert [r.outcome for r in results] == ["contradicted", "supported", "supported", "unsupported"]
    assert results[0].evidence == ("s0", "s1")
