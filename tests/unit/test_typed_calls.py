"""Typed calls: every store-client and deployment-client method matches what it calls."""
from __future__ import annotations

import asyncio
import inspect

import pytest

from deployments.asr import ASR
from deployments.flywheel import Flywheel
from deployments.guardrails import Guardrails
from deployments.notes import Notes
from deployments.pii import PII
from deployments.pipeline import Pipeline
from deployments.roles import Roles
from serve_app.clients import (
    AsrClient,
    DeploymentClient,
    FlywheelClient,
    GuardrailsClient,
    NotesClient,
    PiiClient,
    PipelineClient,
    RolesClient,
)
from serve_app.sessions.client import LocalTransport, StoreClient, route
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.store import ROLES, SessionStore


def _params(fn) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def _client_methods(cls) -> list[str]:
    return [n for n, f in vars(cls).items() if inspect.isfunction(f) and not n.startswith("_")]


def test_every_store_method_has_a_typed_client_method_with_its_signature():
    """One client class per store role, method for method, parameter for parameter."""
    from serve_app.sessions.client import ApiCalls, FeedbackCalls, NoteCalls, RetentionCalls, WorkCalls

    clients = {"api": ApiCalls, "work": WorkCalls, "notes": NoteCalls, "feedback": FeedbackCalls,
               "retention": RetentionCalls}
    assert set(clients) == set(ROLES)
    for role, cls in ROLES.items():
        store_methods = {n: f for n, f in vars(cls).items() if inspect.isfunction(f) and not n.startswith("_")}
        assert set(_client_methods(clients[role])) == set(store_methods), role  # nothing unreachable or invented
        for name, fn in store_methods.items():
            assert _params(getattr(clients[role], name)) == _params(fn), name
            assert getattr(StoreClient(LocalTransport(None)), role) is not None


def test_each_client_method_routes_to_the_store_method_it_names(tmp_path):
    calls = []

    class Spy(LocalTransport):
        async def call(self, role, method, *args, **kwargs):
            calls.append((role, method))
            return await super().call(role, method, *args, **kwargs)

    client = StoreClient(Spy(SessionStore(DiskJournal(tmp_path))))
    sid = asyncio.run(client.api.create_session("a"))["session_id"]
    asyncio.run(client.work.next_work(sid))
    asyncio.run(client.notes.note_inputs(sid))
    assert calls == [("api", "create_session"), ("work", "next_work"), ("notes", "note_inputs")]
    assert client.calls == {"create_session": 1, "next_work": 1, "note_inputs": 1}


def test_a_call_can_only_name_a_store_method():
    with pytest.raises(TypeError):
        route(SessionStore.role)
    with pytest.raises(AttributeError):
        asyncio.run(LocalTransport(SessionStore.__new__(SessionStore)).call("journal", "delete", "x"))


@pytest.mark.parametrize("client, deployment", [
    (AsrClient, ASR), (PiiClient, PII), (RolesClient, Roles), (NotesClient, Notes), (GuardrailsClient, Guardrails),
    (FlywheelClient, Flywheel), (PipelineClient, Pipeline), (DeploymentClient, ASR),
])
def test_every_deployment_client_method_exists_on_its_deployment_with_the_same_parameters(client, deployment):
    target = deployment.func_or_class
    for cls in client.__mro__:
        if cls is object:
            continue
        for name in _client_methods(cls):
            assert hasattr(target, name), f"{deployment.name} has no {name}"
            assert [p for p, _ in _params(getattr(cls, name))] == [p for p, _ in _params(getattr(target, name))], name


def test_the_feedback_the_ingress_submits_is_exactly_what_the_flywheel_builds_its_record_from():
    import dataclasses

    from flywheel.records import Feedback
    from serve_app.contracts import FeedbackSubmission

    assert set(FeedbackSubmission.__annotations__) == {f.name for f in dataclasses.fields(Feedback)}
