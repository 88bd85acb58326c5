"""serve_config.yaml through the builder's config, placement for both cluster shapes, auth."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from serve_app.auth import TokenAuth, ensure_dev_token
from serve_app.config import AppArgs, DeploymentResources
from serve_app.errors import NotFound, Unauthorized
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
    res = DeploymentResources(num_cpus=0.5)
    assert "num_gpus" not in deployment_options(res, gpus_available=0, wants_gpu=0.85)["ray_actor_options"]
    opts = deployment_options(res, gpus_available=1, wants_gpu=0.85)
    assert opts["ray_actor_options"]["num_gpus"] == 0.85


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
    assert TokenAuth.from_environment(None, str(path)).clinician(f"Bearer {token}") == "dev"
    assert ensure_dev_token(path).read_text().strip() == token  # not regenerated


def test_errors_pickle_with_status():
    import pickle

    err = pickle.loads(pickle.dumps(NotFound("No such session.", code="session_not_found")))
    assert err.status_code == 404 and err.code == "session_not_found"
    assert err.body() == {"error": {"code": "session_not_found", "message": "No such session."}}
