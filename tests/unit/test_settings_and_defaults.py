"""One source for every setting: the environment only through Settings, defaults only in the code."""
from __future__ import annotations

import ast
from pathlib import Path

import yaml
from pydantic import BaseModel

from serve_app.config import AppArgs
from serve_app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _scribe_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("SCRIBE_")


def _environment_reads(path: Path) -> list[str]:
    """Reads of SCRIBE_* variables in ``path``: ``os.environ[...]`` (not assignments),
    ``os.environ.get(...)``, ``os.getenv(...)``, ``os.environ.setdefault(...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        read = (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _scribe_name(node.slice)) or \
               (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"get", "getenv", "setdefault"} and node.args and _scribe_name(node.args[0]))
        if read:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_settings_reads_scribe_variables():
    offenders = []
    for package in ("serve_app", "deployments", "flywheel", "bench"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "settings.py":
                offenders += _environment_reads(path)
    assert offenders == []


def test_settings_reads_every_variable_it_documents(monkeypatch, tmp_path):
    monkeypatch.setenv("SCRIBE_API_TOKENS", "a:secret-token-1")
    monkeypatch.setenv("SCRIBE_PSEUDONYM_KEY", "k" * 32)
    monkeypatch.setenv("SCRIBE_HOME", str(tmp_path))
    monkeypatch.setenv("SCRIBE_FLYWHEEL_ROOT", "s3://bucket/fw")
    monkeypatch.setenv("SCRIBE_SHARED_DIR", str(tmp_path / "shared"))
    s = Settings()
    assert s.tokens_spec() == "a:secret-token-1" and s.pseudonym_key.get_secret_value() == "k" * 32
    assert s.resolved_data_dir() == tmp_path / "data" and s.resolved_flywheel_root() == "s3://bucket/fw"
    assert s.resolved_shared_dir() == tmp_path / "shared"
    assert "a:secret-token-1" not in repr(s) and "k" * 32 not in repr(s)
    doc = Settings.__module__ and __import__("serve_app.settings", fromlist=["x"]).__doc__
    for name in Settings.model_fields:
        assert f"SCRIBE_{name.upper()}" in doc


def test_the_shipped_yaml_is_the_code_default():
    """An empty args block and serve_config.yaml run the same graph (beam_size and max_tail_s used to differ)."""
    args = yaml.safe_load((ROOT / "serve_config.yaml").read_text())["applications"][0]["args"]
    assert AppArgs.model_validate(args) == AppArgs()


def test_every_config_field_has_a_description():
    missing = []

    def walk(model: type[BaseModel], path: str) -> None:
        for name, field in model.model_fields.items():
            if not field.description:
                missing.append(path + name)
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(field.annotation, f"{path}{name}.")

    walk(AppArgs, "")
    assert missing == []


def test_asr_context_is_bounded_by_whispers_window_not_by_a_store_constant():
    assert AppArgs.model_validate({"asr": {"context_s": 8.0, "max_tail_s": 12.0}}).asr.context_s == 8.0
    try:
        AppArgs.model_validate({"asr": {"context_s": 10.0, "max_tail_s": 20.0}})
    except ValueError as exc:
        assert "30 s window" in str(exc)
    else:
        raise AssertionError("a buffer longer than Whisper's window was accepted")
