"""Idempotency-Key scoping, fingerprints, bounds and expiry, and request ids that make Ray's retries
of store calls harmless (review M1, M2)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bench.harness.fakes.local_store import local_client
from serve_app.config import LimitsConfig
from serve_app.errors import ValidationFailed
from serve_app.ingress.auth import TokenAuth
from serve_app.ingress.routes import create_api
from serve_app.ingress.service import ScribeService
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.idempotency import TTL_S, fingerprint
from serve_app.sessions.store import SessionStore

TOKENS = {"alice-token-0123456789": "alice", "bob-token-0123456789": "bob"}
SEG = {"segments": [{"text": "Any chest pain?", "role": "doctor"}]}


class Clock:
    t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture()
def app(tmp_path):
    clock = Clock()
    store = SessionStore(DiskJournal(tmp_path), clock=clock)
    service = ScribeService(local_client(store), lambda sid: None, LimitsConfig(), {})
    return TestClient(create_api(service, TokenAuth(TOKENS), 15.0)), store, clock


def _h(key=None, who="alice"):
    h = {"Authorization": f"Bearer {who}-token-0123456789"}
    return {**h, "Idempotency-Key": key} if key else h


def test_a_segments_key_never_returns_another_patients_session(app):
    client, _, _ = app
    a = client.post("/v1/sessions", headers=_h(), json={}).json()["session_id"]
    assert client.post(f"/v1/sessions/{a}/segments", headers=_h("visit-x"), json=SEG).status_code == 202
    b = client.post("/v1/sessions", headers=_h("visit-x"), json={})
    assert b.status_code == 201 and b.json()["session_id"] != a


def test_the_create_key_reused_for_segments_stores_them(app):
    client, _, _ = app
    sid = client.post("/v1/sessions", headers=_h("enc-x"), json={}).json()["session_id"]
    r = client.post(f"/v1/sessions/{sid}/segments", headers=_h("enc-x"), json=SEG)
    assert r.status_code == 202 and r.json()["batch"] == 0
    assert client.post(f"/v1/sessions/{sid}/segments", headers=_h("enc-x"), json=SEG).json()["batch"] == 0


def test_same_key_other_body_is_422_same_body_replays(app):
    client, _, _ = app
    first = client.post("/v1/sessions", headers=_h("k1"), json={}).json()["session_id"]
    assert client.post("/v1/sessions", headers=_h("k1"), json={}).json()["session_id"] == first
    other = client.post("/v1/sessions", headers=_h("k1"), json={"channels": {"0": "doctor", "1": "patient"}})
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    client.post(f"/v1/sessions/{first}/segments", headers=_h("b1"), json=SEG)
    changed = {"segments": [{"text": "Any chest pain at night?", "role": "doctor"}]}
    r = client.post(f"/v1/sessions/{first}/segments", headers=_h("b1"), json=changed)
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused"
    assert len(client.get(f"/v1/sessions/{first}", headers=_h()).json()["segments"]) == 0  # none processed yet
    assert client.post(f"/v1/sessions/{first}/segments", headers=_h("b2"), json=changed).json()["batch"] == 1


def test_keys_are_per_clinician(app):
    client, _, _ = app
    mine = client.post("/v1/sessions", headers=_h("same"), json={}).json()["session_id"]
    theirs = client.post("/v1/sessions", headers=_h("same", "bob"), json={}).json()["session_id"]
    assert mine != theirs


@pytest.mark.parametrize("key", ["x" * 129, "has space", "caf\xe9".encode("latin-1"), "a/b"])
def test_keys_are_bounded(app, key):
    client, _, _ = app
    r = client.post("/v1/sessions", headers=_h(key), json={})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_idempotency_key"


def test_keys_expire(app):
    client, _, clock = app
    first = client.post("/v1/sessions", headers=_h("day-1"), json={}).json()["session_id"]
    clock.t += TTL_S + 1
    assert client.post("/v1/sessions", headers=_h("day-1"), json={}).json()["session_id"] != first


def test_a_retried_store_call_with_the_same_request_id_has_one_effect(tmp_path):
    store = SessionStore(DiskJournal(tmp_path))
    created = store.api.create_session("alice", None, None, None, "req-1")
    again = store.api.create_session("alice", None, None, None, "req-1")  # Ray re-running a call after a crash
    assert again == {**created, "replayed": True}
    sid = created["session_id"]
    segments = [{"text": "hello", "role": "doctor", "start": None, "end": None}]
    one = store.api.add_segments("alice", sid, segments, None, None, "req-2")
    two = store.api.add_segments("alice", sid, segments, None, None, "req-2")
    assert two == {**one, "replayed": True} and len(store.book.sessions[sid].batches) == 1
    restarted = SessionStore(DiskJournal(tmp_path))  # records live in the journal
    assert restarted.api.add_segments("alice", sid, segments, None, None, "req-2")["replayed"]
    assert restarted.api.create_session("alice", None, None, None, "req-1")["session_id"] == sid
    assert restarted.api.create_session("bob", None, None, None, "req-1")["session_id"] != sid


def test_feedback_keys_have_fingerprints(tmp_path):
    store = SessionStore(DiskJournal(tmp_path))
    sid = store.api.create_session("alice")["session_id"]
    store.feedback.record_feedback("alice", sid, "fb-1", "reject", 0, None, "fk", None, "fp-a")
    assert store.feedback.feedback_replay("alice", sid, "fk", "fp-a") == {"feedback_id": "fb-1"}
    with pytest.raises(ValidationFailed) as exc:
        store.feedback.feedback_replay("alice", sid, "fk", "fp-b")
    assert exc.value.code == "idempotency_key_reused"
    assert store.feedback.feedback_replay("alice", sid, "other", "fp-a") is None


def test_the_journal_keeps_only_a_keyed_fingerprint_of_the_body(tmp_path):
    """Events are not sealed: a plain SHA-256 of a short raw line ('My name is John Smith') could be
    reversed by guessing, so the fingerprint is an HMAC under the deployment's pseudonym key."""
    import hashlib
    import json

    from serve_app.ingress.pseudonymizer import Pseudonymizer

    store = SessionStore(DiskJournal(tmp_path))
    keyed = Pseudonymizer(b"k" * 32).fingerprint
    service = ScribeService(local_client(store), lambda sid: None, LimitsConfig(), {}, fingerprint=keyed)
    client = TestClient(create_api(service, TokenAuth(TOKENS), 15.0))
    sid = client.post("/v1/sessions", headers=_h(), json={}).json()["session_id"]
    body = {"segments": [{"text": "My name is John Smith", "role": "patient"}]}
    assert client.post(f"/v1/sessions/{sid}/segments", headers=_h("k-1"), json=body).status_code == 202
    journal = (tmp_path / "sessions" / sid / "events.jsonl").read_text()
    posted = [{"text": "My name is John Smith", "role": "patient", "start": None, "end": None}]
    canonical = json.dumps(posted, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() not in journal
    assert fingerprint(posted) not in journal  # nor one anyone can compute without the key
    assert keyed(posted) in journal and "John Smith" not in journal
