"""deploy/rayservice.yaml, validated offline: its pod templates and volumes against Kubernetes' own
OpenAPI schemas (kubernetes-validate, strict: no unknown field), its serveConfigV2 against Ray Serve's
schema and the app's own argument model, and the product's rules (one fractional-GPU Notes replica capped
at 0.85, autoscaled CPU stages with back-pressure, secrets only by reference, Ray token auth, GCS FT).

KubeRay's RayService CRD schema itself is not on PyPI, Debian or npm, so the RayService object's own
fields are checked here by rule, not by a schema."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "rayservice.yaml"
K8S = "1.30"


def _docs() -> list[dict]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def _service() -> dict:
    return next(d for d in _docs() if d["kind"] == "RayService")


def _templates() -> dict[str, dict]:
    cluster = _service()["spec"]["rayClusterConfig"]
    out = {"head": cluster["headGroupSpec"]["template"]}
    out.update({g["groupName"]: g["template"] for g in cluster["workerGroupSpecs"]})
    return out


def test_pod_templates_and_volumes_pass_the_kubernetes_schemas():
    kv = pytest.importorskip("kubernetes_validate")
    for doc in _docs():
        if doc["apiVersion"] == "v1":
            kv.validate(doc, K8S, strict=True)
    for name, template in _templates().items():
        kv.validate({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": name}, "template": template},
                    K8S, strict=True)
    broken = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "x"},
              "template": {"spec": {"containers": [{"name": "c", "imagee": "typo"}]}}}
    with pytest.raises(kv.ValidationError):  # the validator does catch a misspelt field
        kv.validate(broken, K8S, strict=True)


def test_serve_config_passes_ray_serve_and_the_apps_own_models():
    from ray.serve.schema import ServeDeploySchema

    from serve_app.config import AppArgs

    config = yaml.safe_load(_service()["spec"]["serveConfigV2"])
    ServeDeploySchema.model_validate(config)
    app = config["applications"][0]
    assert app["import_path"] == "serve_app.app:build_app" and app["logging_config"]["encoding"] == "JSON"
    args = AppArgs.model_validate(app["args"])  # extra fields are refused: a typo fails here
    assert args.notes.gpu_memory_utilization == 0.85 and args.resources.notes.num_gpus == 0.85
    assert args.resources.notes.autoscaling is None and args.resources.notes.num_replicas == 1
    for stage in ("asr", "pii", "roles", "guardrails"):
        res = getattr(args.resources, stage)
        assert res.autoscaling is not None and res.autoscaling.max_replicas > res.autoscaling.min_replicas >= 1
        assert res.max_queued_requests > 0 and res.retry_after_s  # a clear 503 + Retry-After, not a queue
    assert config["http_options"]["ssl_certfile"] and config["http_options"]["ssl_keyfile"]


def test_gpu_group_holds_the_notes_replica_and_the_cluster_is_fault_tolerant():
    cluster = _service()["spec"]["rayClusterConfig"]
    gpu = next(g for g in cluster["workerGroupSpecs"] if g["groupName"] == "gpu")
    assert gpu["rayStartParams"]["num-gpus"] == "1"
    assert gpu["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert cluster["gcsFaultToleranceOptions"]["redisAddress"]
    assert cluster["gcsFaultToleranceOptions"]["redisPassword"]["valueFrom"]["secretKeyRef"]["name"] == "scribe-redis"
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"


def test_secrets_are_referenced_never_written_and_ray_token_auth_is_on():
    from serve_app.settings import Settings

    header = MANIFEST.read_text().split("apiVersion", 1)[0]
    created = {(name, key) for name, keys in re.findall(r"create secret generic (\S+) \\\n((?:#.*\n)+?)(?=# and|#   kubectl)",
                                                          header) for key in re.findall(r"--from-literal=([\w-]+)=", keys)}
    fields = set(Settings.model_fields)
    for template in _templates().values():
        env = {e["name"]: e for e in template["spec"]["containers"][0]["env"]}
        assert env["RAY_AUTH_MODE"]["value"] == "token"
        for name, entry in env.items():
            secretish = re.search(r"TOKEN|KEY|REDIS_URL|PASSWORD", name)
            assert not (secretish and "value" in entry), f"{name} is written in the manifest"
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert (ref["name"], ref["key"]) in created, f"{name}: secret {ref} is not in the set-up steps"
            if name.startswith("SCRIBE_"):
                assert name.removeprefix("SCRIBE_").lower() in fields, f"{name} is not a setting the app reads"
    assert ("scribe-secrets", "api-tokens") in created and ("scribe-redis", "url") in created
