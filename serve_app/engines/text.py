"""Text utilities shared by the engines: placeholders, sentences, stop words, negation.

One definition of each:

* :data:`PLACEHOLDER` matches the masking placeholders (``[PERSON_1]``, ``[PHONE_2]``);
  groups: kind, number.
* :func:`split_sentences` cuts text after ``.``, ``?`` or ``!``.
* :data:`STOP_WORDS` are words that carry no clinical content; :data:`SPOKEN_FILLERS`
  (conversation noise the note's fact selection ignores) and :data:`REPORTING_WORDS`
  (words of reporting and hedging the guardrails' alignment ignores) extend it.
* Negation is content: :data:`NEGATION_WORDS` are never stop words, so "no chest
  pain" and "chest pain" never look alike to a content-word comparison.
"""
from __future__ import annotations

import re

__all__ = ["PLACEHOLDER", "split_sentences", "STOP_WORDS", "SPOKEN_FILLERS", "REPORTING_WORDS",
           "NEGATION_WORDS", "is_negation", "NOTE_STOP_WORDS", "ALIGNMENT_STOP_WORDS"]

PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]*?)_(\d+)\]")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")

#: Words that never negate, qualify or name anything clinical.
STOP_WORDS = frozenset("""
a an and are as at be been by can could did do does for from get got had has have he her him his how i if in into
is it its just know me my of okay on or our really she so some than that the their them then there these they this
those to up us very was we well were what when where which who will with would yeah yes you your
""".split())

#: Conversation noise (contractions, fillers) the note writer's fact selection also ignores.
SPOKEN_FILLERS = frozenset("""
'll 'm 're 's 've but doing go going i'm i've it's kind let like mm-hmm now oh ok right sort that's thing things
uh um we'll while you're
""".split())

#: Reporting and hedging words the guardrails' claim/evidence alignment also ignores.
REPORTING_WORDS = frozenset("""
about all also any anything being down else having here may might must notes other out over patient reports see
shall should states think too under whom why
""".split())

#: Words that negate what follows; content, never stop words.
NEGATION_WORDS = frozenset("no not n't never none nothing without don't denies denied deny negative".split())

NOTE_STOP_WORDS = STOP_WORDS | SPOKEN_FILLERS
ALIGNMENT_STOP_WORDS = STOP_WORDS | REPORTING_WORDS
assert not (NOTE_STOP_WORDS | ALIGNMENT_STOP_WORDS) & NEGATION_WORDS


def is_negation(word: str) -> bool:
    """True for a negating word (``no``, ``not``, ``never``, ``doesn't``...)."""
    word = word.lower()
    return word in NEGATION_WORDS or word.endswith("n't")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (cut after ``.``, ``?`` or ``!`` followed by space), stripped, none empty."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
