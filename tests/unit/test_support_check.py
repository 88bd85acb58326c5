"""Offline support check with the packaged MiniLM (guardrails, issue 5 in progress)."""
from __future__ import annotations

import numpy as np
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


def test_vectors_are_kept_between_calls_so_a_later_version_embeds_only_new_sentences():
    support = EmbeddingSupport(cache_size=8)
    first = support.embed(["Dry cough for two weeks.", "No chest pain."])
    assert support.encoded == 2
    again = support.embed(["No chest pain.", "Fever since Monday.", "Dry cough for two weeks.", "No chest pain."])
    assert support.encoded == 3  # only "Fever since Monday." reached the model
    assert again.shape == (4, 384)
    assert np.allclose(again[0], first[1], atol=1e-5) and np.allclose(again[2], first[0], atol=1e-5)
    assert np.allclose(again[0], again[3])
    uncached = EmbeddingSupport(cache_size=0)
    assert np.allclose(uncached.embed(["Fever since Monday."])[0], again[1], atol=1e-5)


def test_the_cache_forgets_the_least_recently_used_sentence_first():
    support = EmbeddingSupport(cache_size=2)
    support.embed(["a cough", "a fever"])
    support.embed(["a cough"])  # now more recent than "a fever"
    support.embed(["a rash"])  # evicts "a fever"
    before = support.encoded
    support.embed(["a cough", "a rash"])
    assert support.encoded == before
    support.embed(["a fever"])
    assert support.encoded == before + 1
    assert support.embed(["a cough", "a cough"]).shape == (2, 384)  # a batch larger than the cache is whole
    assert EmbeddingSupport(cache_size=1).embed(["x one", "y two", "z three"]).shape == (3, 384)
