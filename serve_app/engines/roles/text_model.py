"""Doctor/patient probability of each segment from its words and its neighbours.

:class:`RoleTextModel` is a scikit-learn logistic regression over TF-IDF
features (hashed, so no vocabulary is shipped) of a segment (word 1-2
grams, character 2-4 grams) and of the segments
just before and after it (unigrams), so turn-taking and question/answer pairs
count: an answer after "how long have you had it?" reads as the patient even
when it is only "two weeks".  The first segment of a session carries a marker
(who speaks first).  Input is *masked* text; placeholders (``[PERSON_1]``) are
normalised to their type so the model never depends on a session's numbering.

The fitted model ships with the project (``serve_app/engines/roles/resources/role_model.skops``,
made by ``python -m bench fit roles`` from ../shared/data/train) and is loaded with
skops, which refuses any type it was not told to trust.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from serve_app.engines.text import PLACEHOLDER

__all__ = ["RoleTextModel", "normalise", "DEFAULT_MODEL_PATH"]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "resources" / "role_model.skops"
_TOKENS = r"(?u)\b\w[\w']*\b|\?"
_FIRST = "xxfirstxx"
_CONTEXT_WEIGHT = 0.5


def normalise(text: str) -> str:
    """Masked text with placeholders reduced to their type (``[PERSON_3]`` -> ``xxpersonxx``)."""
    return PLACEHOLDER.sub(lambda m: f" xx{m.group(1).lower().replace('_', '')}xx ", text)


def _columns(texts: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(segment, previous, next) texts of a session in order."""
    cur = [normalise(t) for t in texts]
    prev = [_FIRST] + cur[:-1]
    nxt = cur[1:] + [""]
    return cur, prev, nxt


def _hashed(n_features: int, **options):
    """Hashed n-gram counts -> sublinear TF-IDF (no vocabulary to ship: the file stays small)."""
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(HashingVectorizer(n_features=n_features, alternate_sign=False, norm=None, **options),
                         TfidfTransformer(sublinear_tf=True))


class RoleTextModel:
    """P(doctor) per segment of one session, from text alone.

    Use :meth:`fit` on sessions (lists of ``(masked_text, role)``) or
    :meth:`load` the shipped model; :meth:`predict` takes one session's texts
    in order and returns P(doctor) for each (the last segment simply has no
    following context yet while a session is recording).
    """

    def __init__(self, vectorizers=None, classifier=None, meta: dict | None = None):
        self._vec = vectorizers
        self._clf = classifier
        self.meta = meta or {}

    # -- fitting ----------------------------------------------------------
    @classmethod
    def fit(cls, sessions: Sequence[Sequence[tuple[str, str]]], c: float = 4.0,
            meta: dict | None = None) -> "RoleTextModel":
        from sklearn.linear_model import LogisticRegression

        cur, prev, nxt, labels = [], [], [], []
        for session in sessions:
            a, b, n = _columns([t for t, _ in session])
            cur += a
            prev += b
            nxt += n
            labels += [r for _, r in session]
        vec = {
            "words": _hashed(2 ** 17, ngram_range=(1, 2), token_pattern=_TOKENS),
            "chars": _hashed(2 ** 17, analyzer="char_wb", ngram_range=(2, 4)),
            "prev": _hashed(2 ** 15, token_pattern=_TOKENS),
            "next": _hashed(2 ** 15, token_pattern=_TOKENS),
        }
        for name, texts in (("words", cur), ("chars", cur), ("prev", prev), ("next", nxt)):
            vec[name].fit(texts)
        model = cls(vec, None, meta)
        x = model._features(cur, prev, nxt)
        model._clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, labels)
        return model

    def _features(self, cur, prev, nxt):
        from scipy.sparse import hstack

        return hstack([
            self._vec["words"].transform(cur), self._vec["chars"].transform(cur),
            self._vec["prev"].transform(prev) * _CONTEXT_WEIGHT,
            self._vec["next"].transform(nxt) * _CONTEXT_WEIGHT,
        ]).tocsr()

    # -- use --------------------------------------------------------------
    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """P(doctor) for each segment of one session (texts in spoken order)."""
        if not len(texts):
            return np.zeros(0)
        proba = self._clf.predict_proba(self._features(*_columns(texts)))
        return proba[:, list(self._clf.classes_).index("doctor")]

    # -- persistence --------------------------------------------------------
    def save(self, path: str | Path) -> None:
        import skops.io as sio

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        sio.dump({"vectorizers": self._vec, "classifier": self._clf, "meta": self.meta}, path)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH) -> "RoleTextModel":
        """Load a model written by :meth:`save`; only scikit-learn/numpy types are trusted."""
        import skops.io as sio

        untrusted = sio.get_untrusted_types(file=path)
        allowed = [t for t in untrusted if t.startswith(("sklearn.", "numpy.", "scipy.", "builtins."))]
        if set(untrusted) - set(allowed):
            raise ValueError(f"{path} holds types that are not trusted: {sorted(set(untrusted) - set(allowed))}")
        obj = sio.load(path, trusted=allowed)
        return cls(obj["vectorizers"], obj["classifier"], obj["meta"])
