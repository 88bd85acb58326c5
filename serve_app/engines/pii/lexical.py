"""Recognizers that find names and places from word lists rather than from NER alone.

spaCy's NER misses names it was not trained on (foreign names, names typed in lower case,
names at the start of a sentence) and most town names outside the US.  These recognizers
read the words themselves:

* :class:`NameRunRecognizer`: a run of words that are first names or surnames and not
  common words (lists from philter-lite, :mod:`.name_lists`), or of capitalised words that
  are not in the common-word list, is a person's name.
* :class:`PlaceCueRecognizer`: capitalised words that are not common words, after a
  locative cue ("in", "from", "near", "moved to"), are a place.

Clinical words (the drug lexicon, ``configs/clinical_terms.txt``) are never part of a run.
"""
from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult

from serve_app.engines.pii.name_lists import NameLists

__all__ = ["NameRunRecognizer", "PlaceCueRecognizer"]

_WORD = re.compile(r"[^\W\d_](?:[\w'’]|-(?=[^\W\d_]))*")
_PARTICLES = frozenset("de da do dos das del della di du des van von der den ter la le bin al ben".split())
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n]|[\"“(])\s*$")
_LOCATIVE = frozenset("in from near to at around outside visiting".split())
_ACRONYM = re.compile(r"[A-Z0-9]{2,5}s?")
_CONTRACTION = re.compile(r"(?:n['’]t|['’](?:s|m|re|ll|d|ve))$", re.IGNORECASE)


def _base(word: str) -> str:
    """The word without a contraction or possessive ending ("I'm" -> "I", "Walter's" -> "Walter")."""
    return _CONTRACTION.sub("", word)


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def _adjacent(text: str, left: re.Match, right: re.Match) -> bool:
    """Only spaces (one line) between two words."""
    gap = text[left.end():right.start()]
    return 0 < len(gap) <= 2 and gap.strip(" ") == ""


class _WordListRecognizer(EntityRecognizer):
    """Shared set-up: word lists, clinical words, one entity type."""

    def __init__(self, entity: str, name: str, lists: NameLists, clinical: frozenset[str], score: float):
        self._lists = lists
        self._clinical = clinical
        self._score = score
        super().__init__(supported_entities=[entity], name=name, supported_language="en")

    def load(self) -> None:  # the lists are passed in
        return None

    def _clinical_word(self, word: str) -> bool:
        return word.casefold() in self._clinical

    def _unknown_capital(self, word: str) -> bool:
        """Capitalised, not an acronym, not a common or clinical word ("I'm", "It's" are common)."""
        word = _base(word)
        return (word[:1].isupper() and not _ACRONYM.fullmatch(word) and len(word) > 1
                and not self._lists.is_common(word) and not self._clinical_word(word))

    def _result(self, start: int, end: int, score: float | None = None) -> RecognizerResult:
        return RecognizerResult(self.supported_entities[0], start, end, score or self._score)


class NameRunRecognizer(_WordListRecognizer):
    """Person names from name lists, in any case and position."""

    def __init__(self, lists: NameLists, clinical: frozenset[str], score: float = 0.5):
        super().__init__("PERSON", "name_run", lists, clinical, score)

    def _kind(self, word: str) -> str | None:
        if self._clinical_word(word):
            return None
        parts = _base(word).split("-")
        if all(self._lists.is_name(p) for p in parts):
            return "name"
        if self._unknown_capital(word):
            return "capital"
        if word.casefold() in _PARTICLES:
            return "particle"
        return None

    def analyze(self, text, entities, nlp_artifacts=None):
        if entities and "PERSON" not in entities:
            return []
        words = _words(text)
        results, i = [], 0
        while i < len(words):
            run = []
            j = i
            while j < len(words) and (kind := self._kind(words[j].group())) \
                    and (not run or _adjacent(text, words[j - 1], words[j])):
                run.append((words[j], kind))
                j += 1
            while run and run[-1][1] == "particle":
                run.pop()
            while run and run[0][1] == "particle":
                run.pop(0)
            if run:
                results.extend(self._judge(text, run))
            i = max(j, i + 1)
        return results

    def _judge(self, text: str, run: list[tuple[re.Match, str]]) -> list[RecognizerResult]:
        kinds = [k for _, k in run]
        start, end = run[0][0].start(), run[-1][0].end()
        capitalised = [m.group()[:1].isupper() for m, _ in run]
        names = kinds.count("name")
        real = [k for k in kinds if k != "particle"]
        if len(real) >= 2 and names >= 1 and (all(capitalised) or names == len(real)):
            return [self._result(start, end)]
        if len(real) >= 2 and all(capitalised):  # two unknown capitalised words: a foreign name or place
            return [self._result(start, end, self._score - 0.05)]
        if len(real) == 1 and names == 1 and capitalised[0] and not _SENTENCE_END.search(text[:start]):
            return [self._result(start, end, self._score - 0.05)]
        return []


class PlaceCueRecognizer(_WordListRecognizer):
    """Capitalised uncommon words after a locative preposition: "moved here from Gransee"."""

    def __init__(self, lists: NameLists, clinical: frozenset[str], score: float = 0.5):
        super().__init__("LOCATION", "place_cue", lists, clinical, score)

    def analyze(self, text, entities, nlp_artifacts=None):
        if entities and "LOCATION" not in entities:
            return []
        words = _words(text)
        results = []
        for k in range(1, len(words)):
            cue, word = words[k - 1], words[k]
            if cue.group() not in _LOCATIVE or not _adjacent(text, cue, word):
                continue
            value = word.group()
            if not (self._unknown_capital(value) or self._lists.is_name(value) and value[:1].isupper()):
                continue
            end = word.end()
            for m in range(k + 1, min(k + 3, len(words))):
                nxt = words[m]
                if _adjacent(text, words[m - 1], nxt) and nxt.group()[:1].isupper() \
                        and not self._clinical_word(nxt.group()):
                    end = nxt.end()
                else:
                    break
            results.append(self._result(word.start(), end))
        return results
