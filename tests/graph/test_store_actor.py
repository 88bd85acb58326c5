"""The detached store actor and a redeploy with other settings (review M8): the running actor is
restarted with the new ones, on the same journal, instead of silently keeping the old ones."""
from __future__ import annotations

import asyncio

import pytest
import ray

from deployments.session_store import connect_store
from serve_app.sessions.spec import StoreSpec

pytestmark = pytest.mark.graph


def test_a_store_started_with_other_settings_is_restarted_with_this_deployments(serve_app, tmp_path):
    first = StoreSpec(data_dir=str(tmp_path), actor_name="m8-store", namespace="m8-test", redis_prefix="m8-test:",
                      max_open_sessions=5)
    client = connect_store(first)
    sid = asyncio.run(client.api.create_session("a"))["session_id"]
    actor_id = ray.get_actor("m8-store", namespace="m8-test")._actor_id
    try:
        assert connect_store(first) is not None
        assert ray.get_actor("m8-store", namespace="m8-test")._actor_id == actor_id  # same settings: kept
        changed = first.model_copy(update={"max_open_sessions": 7})
        client = connect_store(changed)
        actor = ray.get_actor("m8-store", namespace="m8-test")
        assert actor._actor_id != actor_id and ray.get(actor.spec.remote()) == changed
        assert asyncio.run(client.api.get_state("a", sid))["session_id"] == sid  # the same journal
    finally:
        ray.kill(ray.get_actor("m8-store", namespace="m8-test"), no_restart=True)
