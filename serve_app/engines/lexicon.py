"""Clinical vocabularies shipped in ``configs/`` and shared by engines (PII keeps these words
unmasked; guardrails recognise drugs by them)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["load_drug_lexicon", "clinical_terms"]


@lru_cache(maxsize=1)
def load_drug_lexicon() -> dict[str, str]:
    """Lower-case drug name (generic or brand) -> generic name, from ``configs/drug_lexicon.yaml``."""
    import yaml

    data = yaml.safe_load(resources.files("configs").joinpath("drug_lexicon.yaml").read_text())
    out = {}
    for generic, brands in data["drugs"].items():
        out[generic.lower()] = generic.lower()
        for brand in brands or []:
            out[brand.lower()] = generic.lower()
    return out


@lru_cache(maxsize=1)
def clinical_terms() -> frozenset[str]:
    """Casefolded clinical words from ``configs/clinical_terms.txt`` (findings, procedures, imaging)."""
    text = resources.files("configs").joinpath("clinical_terms.txt").read_text(encoding="utf-8")
    return frozenset(t for t in (line.split("#", 1)[0].strip().casefold() for line in text.splitlines()) if t)
