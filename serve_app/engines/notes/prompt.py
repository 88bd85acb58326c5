"""Chat messages for the note model, from ``configs/note_prompt.yaml``.

Two prompt shapes (see the YAML): ``fact`` rewrites one candidate fact into a
note statement; ``section`` writes a whole section from its facts.  Both hold
only masked transcript text; the pseudonym map, audio and anything outside the
session's masked transcript never reach the model.
"""
from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from serve_app.engines.notes.facts import Fact

__all__ = ["PromptBuilder"]


def _shots(spec: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for ex in spec.get("examples") or []:
        out += [{"role": "user", "content": ex["user"]}, {"role": "assistant", "content": ex["answer"]}]
    return out


class PromptBuilder:
    """Builds chat messages: system, few-shot examples, then the request."""

    def __init__(self, path: str | None = None):
        if path:
            raw = yaml.safe_load(open(path, encoding="utf-8"))
        else:
            raw = yaml.safe_load(resources.files("configs").joinpath("note_prompt.yaml").read_text("utf-8"))
        self.sections: dict[str, dict[str, str]] = raw["sections"]
        self._fact, self._section = raw["fact"], raw["section"]

    @staticmethod
    def fact_line(fact: Fact, with_label: bool = True) -> str:
        line = f"{fact.role or 'speaker'}: {fact.text}"
        return f"[{fact.label}] {line}" if with_label else line

    def _wrap(self, spec: dict[str, Any], user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": spec["system"].strip()}, *_shots(spec),
                {"role": "user", "content": user}]

    def fact_messages(self, section: str, fact: Fact) -> list[dict[str, str]]:
        sec = self.sections[section]
        user = self._fact["user"].format(section_title=sec["title"], guidance=sec["guidance"],
                                         fact=self.fact_line(fact, with_label=False))
        return self._wrap(self._fact, user)

    def section_messages(self, section: str, facts: list[Fact]) -> list[dict[str, str]]:
        sec = self.sections[section]
        user = self._section["user"].format(section_title=sec["title"], guidance=sec["guidance"],
                                            facts="\n".join(self.fact_line(f) for f in facts))
        return self._wrap(self._section, user)
