"""Runtime-tunable thresholds (``serve_app.tunables``): the builder binds each deployment with its
tunables at their defaults and sends the configured values as Serve's ``user_config``, so a changed
threshold retunes live replicas (``reconfigure``) instead of restarting them; bad values are refused."""
from __future__ import annotations

import pytest

from serve_app.config import GuardrailsConfig, PiiConfig
from serve_app.tunables import applied, split
from tests.unit.test_builder_and_config import _graph


def test_a_threshold_change_leaves_init_args_alone_and_changes_only_user_config(monkeypatch, tmp_path):
    a = _graph(monkeypatch, tmp_path, gpus=0.0)
    b = _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"guardrails": {"support_min": 0.42, "top_k": 3},
                                                          "pii": {"score_threshold": 0.6}})
    for name in ("Guardrails", "PII"):
        assert a[name].init_args == b[name].init_args  # Serve does not restart these replicas
    assert a["Guardrails"]._deployment_config.user_config["support_min"] == 0.3
    assert b["Guardrails"]._deployment_config.user_config == {"support_min": 0.42, "align_min": 0.3, "top_k": 3,
                                                               "entail_min": 0.5, "contra_min": 0.5}
    assert b["PII"]._deployment_config.user_config == {"score_threshold": 0.6}
    c = _graph(monkeypatch, tmp_path, gpus=0.0, overrides={"guardrails": {"nli_model": "/models/nli"}})
    assert c["Guardrails"].init_args != a["Guardrails"].init_args  # a new model is a restart, as it must be


class Support:
    support_min, align_min, top_k = 0.3, 0.3, 2


def test_reconfigure_retunes_the_live_engine_and_refuses_what_is_not_tunable():
    from deployments.guardrails import Guardrails
    from serve_app.engines.guardrails.engine import GuardrailEngine

    support = Support()
    replica = Guardrails.func_or_class(split(GuardrailsConfig(), "guardrails")[0], lambda: GuardrailEngine(support))
    replica.reconfigure({"support_min": 0.55, "top_k": 4})
    assert (support.support_min, support.top_k, support.align_min) == (0.55, 4, 0.3)
    with pytest.raises(ValueError):
        replica.reconfigure({"support_min": 1.5})  # out of range: the config model's own bounds
    with pytest.raises(ValueError):
        replica.reconfigure({"nli_model": "/elsewhere"})  # a model change is not a runtime tunable
    assert support.support_min == 0.55  # a refused update leaves the values in force


def test_pii_threshold_is_applied_to_the_masker():
    from deployments.pii import PII

    class Masker:
        threshold = None

        def tune(self, score_threshold):
            self.threshold = score_threshold

    masker = Masker()
    replica = PII.func_or_class(split(PiiConfig(), "pii")[0], lambda: masker)
    replica.reconfigure({"score_threshold": 0.7})
    assert masker.threshold == 0.7
    assert applied(PiiConfig(), "pii", None).score_threshold == PiiConfig().score_threshold
