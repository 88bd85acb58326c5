"""NegEx scope with negspacy's clinical termset (guardrails, issue 5 in progress)."""
from __future__ import annotations

from serve_app.engines.guardrails.negation import answer_polarity, polarity


def test_preceding_and_following_cues_negate_their_scope_only():
    p = polarity("Denies chest pain but reports fever.")
    assert {"chest", "pain"} <= p.negated and "fever" in p.affirmed and "fever" not in p.negated
    assert {"chest", "pain"} <= polarity("Chest pain was ruled out.").negated
    assert {"diabet"} <= polarity("No history of diabetes.").negated
    assert "fever" in polarity("She reports fever.").affirmed


def test_cue_words_are_not_content_words():
    p = polarity("Negative for cough.")
    assert "negative" not in p.affirmed | p.negated and "cough" in p.negated


def test_a_no_answer_negates_the_question():
    assert answer_polarity("Any chest pain?", "No, none at all.").negated == {"chest", "pain"}
    yes = answer_polarity("Any chest pain?", "Yeah, a little.")
    assert {"chest", "pain"} <= yes.affirmed and not yes.negated
    assert answer_polarity("Tell me about the pain.", "No.") is None
