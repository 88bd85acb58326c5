"""Support check with an NLI cross-encoder loaded from an operator-given local path.

No NLI weights ship on PyPI, so this backend is used when ``guardrails.nli_model``
names a local directory holding a transformers sequence-classification model
with entailment / neutral / contradiction labels (for example a DeBERTa or
RoBERTa MNLI model the operator copied there).  It never reaches for a hub
(``local_files_only``).

Labels are found by name in the model's ``id2label`` (``entail*``,
``contra*``, ``neutral*``), never by position.  A premise longer than the
window is cut into overlapping token windows; each (window, claim) pair is
scored in batches, and a claim takes the highest entailment and contradiction
over its windows.  Outcomes match :class:`.support_check.SupportResult`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from serve_app.engines.guardrails.support import EvidenceUnit, SupportResult

__all__ = ["NliSupport", "label_indices"]


def label_indices(id2label: dict) -> dict[str, int]:
    """``{"entailment": i, "contradiction": j, "neutral": k}`` from a model's ``id2label``."""
    out = {}
    for idx, name in id2label.items():
        low = str(name).lower()
        for key in ("entailment", "contradiction", "neutral"):
            if low.startswith(key[:6]):
                out[key] = int(idx)
    missing = {"entailment", "contradiction"} - set(out)
    if missing:
        raise ValueError(f"the NLI model's labels {dict(id2label)} lack {sorted(missing)}")
    return out


class NliSupport:
    """Args:
        model_path: local model directory (tokenizer + weights + config).
        batch_size: (window, claim) pairs per forward pass.
        window_tokens / stride_tokens: premise windowing, in tokenizer tokens.
        entail_min / contra_min: probabilities that make an item supported / contradicted.
    """

    def __init__(self, model_path: str, batch_size: int = 16, window_tokens: int = 384, stride_tokens: int = 192,
                 entail_min: float = 0.5, contra_min: float = 0.5, max_length: int = 512):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._torch = torch
        self._tok = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        self._model = AutoModelForSequenceClassification.from_pretrained(model_path, local_files_only=True).eval()
        self.labels = label_indices(self._model.config.id2label)
        self.batch_size, self.window, self.stride = batch_size, window_tokens, stride_tokens
        self.entail_min, self.contra_min, self.max_length = entail_min, contra_min, max_length
        self.pairs_scored = 0

    def windows(self, premise: str) -> list[str]:
        """The premise cut into overlapping windows of at most ``window_tokens`` tokens."""
        ids = self._tok(premise, add_special_tokens=False)["input_ids"]
        if len(ids) <= self.window:
            return [premise]
        out = []
        for start in range(0, len(ids), self.stride):
            out.append(self._tok.decode(ids[start:start + self.window]))
            if start + self.window >= len(ids):
                break
        return out

    def _scores(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        probs = []
        with self._torch.no_grad():
            for k in range(0, len(pairs), self.batch_size):
                batch = pairs[k:k + self.batch_size]
                enc = self._tok([p for p, _ in batch], [h for _, h in batch], truncation="only_first",
                                max_length=self.max_length, padding=True, return_tensors="pt")
                logits = self._model(**enc).logits
                probs.append(self._torch.softmax(logits, dim=-1).numpy())
        self.pairs_scored += len(pairs)
        return np.concatenate(probs) if probs else np.zeros((0, len(self._model.config.id2label)))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The NLI model reads text, not vectors: nothing to precompute (the protocol's no-op)."""
        return np.zeros((len(texts), 0), dtype=np.float32)

    def check(self, claims: Sequence[str], units: Sequence[EvidenceUnit],
              unit_vectors=None, claim_vectors=None) -> list[SupportResult]:
        """One result per claim; the premise is the units' text in order (vectors are ignored)."""
        if not units:
            return [SupportResult("unsupported", 0.0, ()) for _ in claims]
        premise = " ".join(dict.fromkeys(u.text for u in units))
        ids = tuple(dict.fromkeys(i for u in units for i in u.segment_ids))
        windows = self.windows(premise)
        pairs = [(w, c) for c in claims for w in windows]
        probs = self._scores(pairs).reshape(len(claims), len(windows), -1)
        out = []
        for p in probs:
            entail = float(p[:, self.labels["entailment"]].max())
            contra = float(p[:, self.labels["contradiction"]].max())
            if contra >= self.contra_min and contra > entail:
                out.append(SupportResult("contradicted", contra, ids))
            elif entail >= self.entail_min:
                out.append(SupportResult("supported", entail, ids))
            else:
                out.append(SupportResult("unsupported", entail, ids))
        return out
