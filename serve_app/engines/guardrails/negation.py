"""Which content words of a sentence are negated (NegEx with negspacy's clinical termset).

The cue lists (preceding, following, pseudo negations and scope terminators)
are negspacy's ``en_clinical`` termset; the scope is NegEx's: from a preceding
cue to the next terminator, punctuation or ``max_scope`` words, and back from
a following cue.  A doctor's yes/no question answered "no" negates the
question's content words (``Any chest pain?`` / ``No.``), which is how most
negatives are said in a consultation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from serve_app.engines.text import ALIGNMENT_STOP_WORDS

__all__ = ["Polarity", "polarity", "answer_polarity", "content_words"]

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?]")
_NO_ANSWER = re.compile(r"^\s*(no|nope|nah|never|not really|not at all|none|negative|i don't|i do not|i haven't|"
                        r"i have not|i didn't|i did not|no,|no\.)\b", re.I)
_YES_ANSWER = re.compile(r"^\s*(yes|yeah|yep|yup|i do|i have|i did|sometimes|a little|correct|right)\b", re.I)


@dataclass(frozen=True)
class Polarity:
    """Content words of a sentence, split into affirmed and negated."""

    affirmed: frozenset[str]
    negated: frozenset[str]


@lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Snowball stem, so "intolerances" meets "intolerance" and "diabetic" meets "diabetes"."""
    return _stemmer().stem(word)


def content_words(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.lower())
            if t.isalnum() and t not in ALIGNMENT_STOP_WORDS and len(t) > 2]


#: Cues of spoken English that the clinical-notes termset lacks ("Xn't" is rewritten to "X not").
_SPOKEN_CUES = ["nothing", "none", "neither", "nor", "not any"]
_CONTRACTION = re.compile(r"\s?n't\b")
_ANSWER_ONLY = frozenset({",", "."})


@lru_cache(maxsize=1)
def _cues() -> dict[str, list[list[str]]]:
    from negspacy.termsets import termset

    patterns = {k: list(v) for k, v in termset("en_clinical").get_patterns().items()}
    patterns["preceding_negations"] += _SPOKEN_CUES
    return {k: sorted((p.lower().split() for p in v), key=len, reverse=True) for k, v in patterns.items()}


def _match(tokens: list[str], i: int, phrases: list[list[str]]) -> int:
    for phrase in phrases:
        if tokens[i:i + len(phrase)] == phrase:
            return len(phrase)
    return 0


def polarity(text: str, max_scope: int = 6) -> Polarity:
    """Affirmed and negated content words of ``text``."""
    cues = _cues()
    text = _CONTRACTION.sub(" not", text.lower()).replace("can not", "cannot").replace("won not", "will not")
    tokens = _TOKEN.findall(text)
    negated_idx: set[int] = set()
    cue_idx: set[int] = set()
    i = 0
    while i < len(tokens):
        if (n := _match(tokens, i, cues["pseudo_negations"])):
            cue_idx.update(range(i, i + n))
            i += n
            continue
        if (n := _match(tokens, i, cues["preceding_negations"])):
            cue_idx.update(range(i, i + n))
            if n == 1 and tokens[i] in ("no", "nope") and tokens[i + 1:i + 2] and tokens[i + 1] in _ANSWER_ONLY:
                i += 1  # "No, I smoke a pack a day." answers a question; it negates nothing after it
                continue
            j, words = i + n, 0
            while j < len(tokens) and words < max_scope and tokens[j] not in ".;:!?" \
                    and not _match(tokens, j, cues["termination"]):
                negated_idx.add(j)
                words += tokens[j].isalnum()
                j += 1
            i = j
            continue
        if (n := _match(tokens, i, cues["following_negations"])):
            cue_idx.update(range(i, i + n))
            j = i - 1
            while j >= 0 and i - j <= max_scope and tokens[j] not in ".;:!?,":
                negated_idx.add(j)
                j -= 1
        i += 1
    affirmed, negated = set(), set()
    for k, tok in enumerate(tokens):
        if k not in cue_idx and tok.isalnum() and tok not in ALIGNMENT_STOP_WORDS and len(tok) > 2:
            (negated if k in negated_idx else affirmed).add(_stem(tok))
    return Polarity(frozenset(affirmed - negated), frozenset(negated))


def answer_polarity(question: str, answer: str) -> Polarity | None:
    """A yes/no question and its short answer as one statement; None if the answer is neither."""
    if not question.rstrip().endswith("?") or len(answer.split()) > 12:
        return None
    words = frozenset(content_words(question))
    own = polarity(answer)
    if _NO_ANSWER.match(answer):
        return Polarity(own.affirmed - words, own.negated | words)
    if _YES_ANSWER.match(answer):
        return Polarity(own.affirmed | (words - own.negated), own.negated)
    return None
