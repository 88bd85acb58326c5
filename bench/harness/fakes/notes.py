"""A deterministic note engine (the LLM behind the real NoteWriter) for the unit and graph tiers.

It answers like a well-behaved model: in ``fact`` mode it echoes the sentence
it was asked to rewrite; in ``section`` mode it returns a scripted answer (or
one item per fact line, citing that line's id).  Every request is recorded, so
tests can inspect prompts and schemas.
"""
from __future__ import annotations

import asyncio
import json
import re

__all__ = ["FakeNoteEngine"]


class FakeNoteEngine:
    """Implements :class:`~serve_app.engines.notes.protocol.NoteEngine`; records every request."""

    def __init__(self, section_answers: dict[str, str] | None = None, delay_s: float = 0.0,
                 fail: Exception | None = None):
        self.requests: list[dict] = []
        self.section_answers = section_answers or {}
        self.delay_s = delay_s
        self.fail = fail
        self.in_flight = 0
        self.max_in_flight = 0
        self.dead = False  # set to make the engine report itself dead, as a crashed vLLM engine core does

    async def complete(self, messages, schema, max_tokens):
        self.requests.append({"messages": messages, "schema": schema, "max_tokens": max_tokens})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.fail is not None:
                raise self.fail
            user = messages[-1]["content"]
            if "items" not in schema["properties"]:  # fact mode: echo the sentence
                sentence = user.split("Sentence:", 1)[1].split(":", 1)[1].strip()
                return json.dumps({"text": sentence})
            title = re.search(r"Write the (\w+) section", user).group(1).lower()
            if title in self.section_answers:
                return self.section_answers[title]
            items = [{"text": text, "citations": [label]}
                     for label, text in re.findall(r"^\[(s\d+)\] \w+: (.*)$", user, re.M)]
            return json.dumps({"items": items})
        finally:
            self.in_flight -= 1

    async def check_health(self):
        if self.dead:
            raise RuntimeError("engine dead")

    async def close(self):
        pass
