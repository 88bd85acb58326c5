"""Offline support check with the packaged MiniLM (guardrails, issue 5 in progress)."""
from __future__ import annotations

import pytest

from serve_app.engines.guardrails.support import EmbeddingSupport, evidence_units

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


def test_agreement_outweighs_a_stray_opposite_word(support):
    """"No, I just smoke a pack a day" answers a question: it does not deny smoking."""
    segments = [{"id": "q", "text": "Do you smoke at all?"},
                {"id": "a", "text": "No, I just smoke one pack per day, it's not bad."}]
    results = support.check(["He smokes one pack per day.", "He does not smoke."], evidence_units(segments))
    assert [r.outcome for r in results] == ["supported", "contradicted"]


def test_questions_do_not_take_the_places_of_asserting_evidence():
    segments = [{"id": f"q{i}", "text": f"Have you had knee pain {w}?"} for i, w in enumerate(("before", "lately"))]
    segments.append({"id": "s", "text": "My left knee has been painful for a year."})
    result = EmbeddingSupport(top_k=1).check(["She has never had knee pain."], evidence_units(segments))[0]
    assert result.outcome == "contradicted" and result.evidence == ("s",)
