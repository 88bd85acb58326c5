"""Name and common-word lists for PHI detection, read from the ``philter-lite`` package.

philter-lite (BSD, a fork of UCSF's Philter) ships ``filters/set.toml`` with three lists
built from public sources: ~97k first names and ~161k surnames (US census and SSA
records) and ~195k "nonames", English and medical words that are not names (drugs,
anatomy, findings).  The lists are read with a regular expression rather than a TOML
parser, and located without importing the package (its ``__init__`` imports nltk and parses
every filter: 4 s); 0.4 s here, once per process.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["NameLists", "name_lists"]

_ARRAY = re.compile(r'^(\w+)\s*=\s*\[(.*?)\]\s*$', re.MULTILINE | re.DOTALL)
_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class NameLists:
    """Casefolded word sets: ``first`` and ``last`` names, and ``common`` words that are not names."""

    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str]

    def is_name(self, word: str) -> bool:
        """A first or last name that is not also a common word ("Saxena" yes, "Will" no)."""
        folded = word.casefold()
        return (folded in self.first or folded in self.last) and folded not in self.common

    def is_common(self, word: str) -> bool:
        return word.casefold() in self.common


@lru_cache(maxsize=1)
def name_lists() -> NameLists:
    """The lists from the installed philter-lite (raises ``ModuleNotFoundError`` if it is absent)."""
    spec = importlib.util.find_spec("philter_lite")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("philter-lite is not installed (pip install philter-lite)")
    text = (Path(spec.submodule_search_locations[0]) / "filters" / "set.toml").read_text(encoding="utf-8")
    sets = {key: frozenset(item.casefold() for item in _ITEM.findall(body)) for key, body in _ARRAY.findall(text)}
    return NameLists(sets["firstnames"], sets["lastnames"], sets["nonames"])
