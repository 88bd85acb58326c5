"""Kill tests under load: clinicians streaming sessions while parts of the running app are killed.

:class:`StreamingLoad` plays clinicians as a real client behaves: each stream creates a session
(with an ``Idempotency-Key``), sends 2 s chunks whose audio encodes the words the fake ASR hears
(``w1``, ``w2``, ... in order), finishes it, waits for the final note and accepts it, and
retries every failure (connection lost, 5xx, 503/507 with ``Retry-After``, the Serve proxy's own
plain-text 404 while the app is redeployed) with the same request.
It records every acknowledgement and every 5xx it saw.  :func:`kill` kills one part (the store
actor, a replica of one deployment, the Redis server, or the whole app) and
:func:`recovery_s` measures how long until a new session's first chunk is transcribed again.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from bench.harness.fakes.asr import encoded_wav

__all__ = ["StreamingLoad", "kill", "recovery_s", "replica_names", "run_kills", "SessionRecord", "TARGETS",
           "published_feedback", "assert_nothing_lost"]

#: every part the kill test kills, in order: the store actor, Redis, one replica of each deployment, the app
TARGETS = ("store", "redis", "Ingress", "Pipeline", "ASR", "PII", "Roles", "Notes", "Guardrails", "Flywheel", "app")

_RETRY = {502, 503, 504, 507}


@dataclass
class SessionRecord:
    sid: str
    acked: dict[int, float] = field(default_factory=dict)  # seq -> when its 202 arrived
    finished: bool = False
    feedback_id: str | None = None
    feedback_at: float | None = None


class StreamingLoad:
    """``streams`` clinicians' sessions of ``chunks`` chunks each, back to back, until :meth:`stop`."""

    def __init__(self, url: str, token: str, streams: int = 3, chunks: int = 6, pause_s: float = 0.3):
        self.url, self.token, self.streams, self.chunks, self.pause_s = url, token, streams, chunks, pause_s
        self.sessions: list[SessionRecord] = []
        self.server_errors: list[dict] = []  # every 5xx answer seen: what, status, body, when
        self.retries = 0
        self.failures: list[str] = []  # a stream that gave up (a non-retryable answer, no success in 300 s)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- a client that retries like a real one ------------------------------------------------------
    def _call(self, http: httpx.Client, method: str, path: str, ok: set[int], **kwargs) -> httpx.Response:
        deadline = time.monotonic() + 300
        while True:
            try:
                r = http.request(method, path, **kwargs)
                if r.status_code in ok:
                    return r
                if r.status_code >= 500:
                    self.server_errors.append({"what": f"{method} {path.rsplit('/', 2)[-2]}/…", "status": r.status_code,
                                               "body": r.text[:160], "at": time.monotonic()})
                proxy_404 = r.status_code == 404 and "json" not in r.headers.get("content-type", "")
                if not proxy_404 and r.status_code not in _RETRY and r.status_code not in (429, 500):
                    raise AssertionError(f"{method} {path}: {r.status_code} {r.text[:200]}")
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path}: no success in 300 s")
            self.retries += 1
            time.sleep(0.3)

    def _session(self, http: httpx.Client) -> None:
        r = self._call(http, "POST", "/v1/sessions", {201}, json={},
                       headers={"Idempotency-Key": f"kill-{uuid.uuid4().hex}"})
        record = SessionRecord(r.json()["session_id"])
        self.sessions.append(record)
        for seq in range(self.chunks):
            self._call(http, "PUT", f"/v1/sessions/{record.sid}/audio/{seq}", {202},
                       content=encoded_wav(2 * seq + 1, 2), headers={"Content-Type": "audio/wav"})
            record.acked[seq] = time.monotonic()
            time.sleep(self.pause_s)
        self._call(http, "POST", f"/v1/sessions/{record.sid}/finish", {202}, json={})
        state = self.wait_finished(http, record.sid)
        record.finished = True
        r = self._call(http, "POST", f"/v1/sessions/{record.sid}/feedback", {201},
                       json={"action": "accept", "note_version": state["note_version"]},
                       headers={"Idempotency-Key": f"fb-{record.sid}"})
        record.feedback_id, record.feedback_at = r.json()["feedback_id"], time.monotonic()

    def wait_finished(self, http: httpx.Client, sid: str, timeout_s: float = 300) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self._call(http, "GET", f"/v1/sessions/{sid}", {200}).json()
            if state["status"] == "finished":
                return state
            time.sleep(0.3)
        raise AssertionError(f"session {sid} did not finish")

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {self.token}"}) as http:
            try:
                while not self._stop.is_set():
                    self._session(http)
            except AssertionError as exc:
                self.failures.append(str(exc))

    def start(self) -> "StreamingLoad":
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.streams)]
        for t in self._threads:
            t.start()
        return self

    def acked(self) -> int:
        return sum(len(s.acked) for s in self.sessions)

    def wait_progress(self, since: int, timeout_s: float = 120) -> None:
        """Wait until every stream has had another chunk acknowledged after ``since`` acks in all."""
        deadline = time.monotonic() + timeout_s
        while self.acked() < since + self.streams and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop(self, timeout_s: float = 600) -> None:
        """Let every stream complete the session it is in (finish, feedback), then stop."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout_s)
        assert not any(t.is_alive() for t in self._threads), "a stream did not complete its session"


# -- killing parts of the app -----------------------------------------------------------------------
def replica_names(deployment: str, app: str = "scribe") -> list[tuple[str, str]]:
    """(name, namespace) of the live replica actors of ``deployment``."""
    import ray

    prefix = f"SERVE_REPLICA::{app}#{deployment}#"
    return [(a["name"], a["namespace"]) for a in ray.util.list_named_actors(all_namespaces=True)
            if a["name"].startswith(prefix)]


def kill(target: str, serve_app) -> None:
    """Kill one part of the running app as a crash would (SIGKILL-like, no clean shutdown).

    ``store``: the session-store actor (Ray restarts it); ``redis``: the Redis server (restarted
    2 s later on its AOF); ``app``: the whole Serve app and the store, redeployed; any other
    name: one replica of that deployment (Serve starts a new one)."""
    import ray

    if target == "store":
        ray.kill(ray.get_actor("scribe_session_store", namespace="scribe"), no_restart=False)
    elif target == "redis":
        serve_app.redis.kill()
        time.sleep(2.0)
        serve_app.redis.start()
    elif target == "app":
        serve_app.kill_everything()
    else:
        names = replica_names(target)
        assert names, f"no replica of {target} is running"
        name, namespace = names[0]
        ray.kill(ray.get_actor(name, namespace=namespace), no_restart=True)


def recovery_s(url: str, token: str, since: float, timeout_s: float = 300) -> float:
    """Seconds from ``since`` until a new session's first chunk is acknowledged and transcribed."""
    load = StreamingLoad(url, token)
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        sid = load._call(http, "POST", "/v1/sessions", {201}, json={},
                         headers={"Idempotency-Key": f"probe-{uuid.uuid4().hex}"}).json()["session_id"]
        load._call(http, "PUT", f"/v1/sessions/{sid}/audio/0", {202}, content=encoded_wav(1, 2),
                   headers={"Content-Type": "audio/wav"})
        deadline, state = time.monotonic() + timeout_s, {}
        while time.monotonic() < deadline:
            state = load._call(http, "GET", f"/v1/sessions/{sid}", {200}).json()
            if state["chunks"]["processed"] == 1:
                return time.monotonic() - since
            time.sleep(0.1)
    raise AssertionError(f"the app did not recover: the probe session's chunks stayed {state.get('chunks')}, "
                         f"status {state.get('status')!r}")


def run_kills(serve_app, targets=TARGETS, streams: int = 3, chunks: int = 6) -> tuple[StreamingLoad, list[dict]]:
    """Stream while killing each of ``targets`` in turn; returns the load's records and the kill table."""
    from bench.harness.serve import TOKENS

    load = StreamingLoad(serve_app.url, TOKENS["alice"], streams=streams, chunks=chunks).start()
    time.sleep(3.0)
    table = []
    for target in targets:
        t0, before = time.monotonic(), load.acked()
        kill(target, serve_app)
        table.append({"killed": target, "at": t0,
                      "recovery_s": round(recovery_s(serve_app.url, TOKENS["bob"], t0), 2)})
        load.wait_progress(before)  # the streams went on through this kill before the next one
    load.stop()
    ends = [row["at"] for row in table[1:]] + [float("inf")]
    for row, end in zip(table, ends):  # what was acknowledged while this kill and its recovery happened
        row["chunks_acked"] = sum(1 for s in load.sessions for t in s.acked.values() if row["at"] <= t < end)
        row["feedback_acked"] = sum(1 for s in load.sessions if s.feedback_at and row["at"] <= s.feedback_at < end)
        row["answers_5xx"] = sorted({f"{e['status']} {e['what']}" for e in load.server_errors
                                     if row["at"] <= e["at"] < end})
    return load, table


def published_feedback(data_dir) -> list[str]:
    """Every feedback id row in the flywheel's feedback dataset under ``data_dir`` (duplicates kept)."""
    import pyarrow.dataset as pads

    path = data_dir / "flywheel" / "feedback"
    files = [str(p) for p in path.rglob("*.parquet") if not any(x.startswith(("_", ".")) for x in p.parts[-2:])]
    if not files:
        return []
    return pads.dataset(files, format="parquet").to_table(columns=["feedback_id"]).column("feedback_id").to_pylist()


def assert_nothing_lost(load: StreamingLoad, data_dir, client, timeout_s: float = 60) -> None:
    """After ``load.stop()``: no stream gave up; every session finished with every acknowledged chunk
    in its transcript exactly once, in order (the fake ASR's ``w1..wN``); every acknowledged feedback
    is in the feedback dataset exactly once.  ``client``: a :class:`bench.harness.client.ScribeClient`."""
    assert load.failures == []
    chunks = load.chunks
    expected_words = [f"w{i}" for i in range(1, 2 * chunks + 1)]
    for record in load.sessions:
        assert record.finished and sorted(record.acked) == list(range(chunks))
        state = client.state(record.sid)
        assert state["status"] == "finished"
        assert state["chunks"]["received"] == state["chunks"]["processed"] == chunks
        assert state["chunks"]["failed"] == [] and state["chunks"]["missing"] == []
        assert client.transcript(state).split() == expected_words, record.sid
    acked = [s.feedback_id for s in load.sessions if s.feedback_id]
    deadline = time.monotonic() + timeout_s
    while set(acked) - set(published_feedback(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    rows = published_feedback(data_dir)
    assert all(rows.count(fid) == 1 for fid in acked), "a feedback is missing or published twice"
