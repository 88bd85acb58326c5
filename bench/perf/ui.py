"""Bench: the clinicians' page in real headless Chromium, and SSE delivery under load.

    python -m bench.perf.ui                     # starts `serve run serve_config.yaml` itself
    python -m bench.perf.ui --url URL --token T # against an app already running

Measures, in one run on one machine (Chromium's clock and the server's are the same clock):

* ``words_on_page_ms``: a fake microphone plays a data/dev consultation; for every transcript
  line, from the moment its last word was spoken (record click + the line's end time in the
  session audio) to the line first appearing in the page (a MutationObserver in the page);
  it includes waiting for the 4 s chunk to fill, the upload, ASR, masking, roles and the SSE hop;
  it is split into the spoken word to the event carrying the line (the service) and that event's
  ``ts`` to the page (SSE, the page's server side, Gradio, the browser);
* ``note_event_to_page_ms``: each ``note_updated`` event's server timestamp to the new
  note version first appearing in the page;
* ``sse_delivery_ms`` at 1 and 16 concurrent sessions: a state change (a batch of text stored;
  the event's own ``ts``) to its event read by an SSE client (httpx);
* ``page_load``: navigation to the sign-in control being usable, DOMContentLoaded, and the
  page's weight (bytes over the wire and decoded, from the Resource Timing API).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from bench.harness.browser import browser, fake_mic_wav, sign_in
from bench.harness.data import RESULTS

__all__ = ["main"]


def _pct(values, q):
    return round(float(np.percentile(values, q)), 1) if values else None


def _summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": _pct(values, 50), "p95": _pct(values, 95),
            "max": round(max(values), 1) if values else None}


def page_load(chromium, url: str, runs: int = 5) -> dict:
    """Cold loads (a new browser context each time: empty cache)."""
    interactive, dom, wire, decoded, count = [], [], [], [], []
    for _ in range(runs):
        context = chromium.new_context()
        page = context.new_page()
        began = time.perf_counter()
        page.goto(f"{url}/ui/")
        page.get_by_role("button", name="Sign in").wait_for(state="visible")
        page.get_by_label("Access token").wait_for(state="visible")
        interactive.append((time.perf_counter() - began) * 1000)
        page.wait_for_timeout(2000)  # Gradio keeps a heartbeat open: "networkidle" never comes
        timing = page.evaluate("""() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const res = performance.getEntriesByType('resource');
            const all = [nav, ...res];
            return {dom: nav.domContentLoadedEventEnd, wire: all.reduce((a, e) => a + (e.transferSize || 0), 0),
                    decoded: all.reduce((a, e) => a + (e.decodedBodySize || 0), 0), count: all.length};
        }""")
        dom.append(timing["dom"])
        wire.append(timing["wire"])
        decoded.append(timing["decoded"])
        count.append(timing["count"])
        context.close()
    return {"to_interactive_ms": _summary(interactive), "dom_content_loaded_ms": _summary(dom),
            "weight_wire_kb": round(statistics.median(wire) / 1024, 1),
            "weight_decoded_kb": round(statistics.median(decoded) / 1024, 1),
            "requests": int(statistics.median(count))}


def recorded_session(chromium, url: str, token: str, record_s: float) -> dict:
    """One session recorded from the fake microphone for ``record_s``, then finished."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["microphone"])
    page = context.new_page()
    sign_in(page, url, token)
    page.get_by_role("button", name="● Record").click()
    page.locator('#rec-state[data-state="recording"]').wait_for(timeout=30_000)
    t0 = page.evaluate("window.scribeRecorder.started")
    page.wait_for_timeout(int(record_s * 1000))
    page.get_by_role("button", name="■ Pause").click()
    page.locator('#rec-state[data-state="paused"]').wait_for(timeout=30_000)
    recorded_s = page.evaluate("window.scribeRecorder.elapsed")
    captured_s = page.evaluate("window.scribeRecorder.captured")
    page.get_by_role("button", name="Finish consultation").click()
    page.locator('#status [data-status="finished"]').wait_for(timeout=600_000)
    page.wait_for_timeout(1000)
    seen = page.evaluate("window.scribeUi.seen")
    status = page.locator("#status").inner_text() + " | " + page.locator("#rec-state").inner_text()
    audio_s = page.evaluate("""async () => {
        const r = window.scribeRecorder;
        const auth = {Authorization: `Bearer ${sessionStorage.scribeToken}`};
        const a = await fetch(`/v1/sessions/${r.sid}`, {headers: auth});
        const s = await a.json();
        return s.segments.length ? s.segments[s.segments.length - 1].end : 0; }""")
    context.close()
    # lines whose last word was spoken while recording (later ones wait for finish, by design)
    words = [s["t"] - (t0 + s["end"] * 1000) for s in seen["segments"].values() if s["end"] < record_s]
    spoken_to_event = [s["ts"] - (t0 + s["end"] * 1000) for s in seen["segments"].values()
                       if s["end"] < record_s and s.get("ts")]
    event_to_page = [s["t"] - s["ts"] for s in seen["segments"].values() if s.get("ts")]
    notes = [n["t"] - n["ts"] for n in seen["notes"].values() if n["ts"] > 0]
    return {"record_s": record_s, "recorded_s": round(recorded_s, 1),
            "captured_audio_s": round(captured_s, 1), "last_word_end_s": audio_s,
            "lines": len(seen["segments"]), "words_on_page_ms": _summary(words),
            "of_which_spoken_to_segment_event_ms": _summary(spoken_to_event),
            "of_which_segment_event_to_page_ms": _summary(event_to_page),
            "note_versions": len(seen["notes"]), "note_event_to_page_ms": _summary(notes), "status": status}


def sse_delivery(url: str, token: str, sessions: int, batches: int = 10, every_s: float = 1.0) -> dict:
    """``sessions`` clients each follow their own session's SSE stream while text batches are posted."""
    headers = {"Authorization": f"Bearer {token}"}
    lags: list[float] = []
    lock = threading.Lock()

    def one(k: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            sid = client.post("/v1/sessions", json={}).json()["session_id"]
            got = threading.Event()
            seen = []

            def follow():
                with httpx.Client(base_url=url, headers=headers, timeout=None) as stream_client:
                    with stream_client.stream("GET", f"/v1/sessions/{sid}/events") as response:
                        got.set()
                        for line in response.iter_lines():
                            if line.startswith("data:"):
                                event = json.loads(line[5:])
                                if event["type"] == "batch_received":
                                    seen.append((time.time() - event["ts"]) * 1000)
                                    if len(seen) == batches:
                                        return

            reader = threading.Thread(target=follow, daemon=True)
            reader.start()
            got.wait(30)
            for b in range(batches):
                client.post(f"/v1/sessions/{sid}/segments", json={"segments": [
                    {"text": f"Session {k} line {b}: the cough is worse at night.", "role": "patient"}]})
                time.sleep(every_s)
            reader.join(60)
            client.delete(f"/v1/sessions/{sid}")
            with lock:
                lags.extend(seen)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"sessions": sessions, "events": len(lags), **_summary(lags)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url")
    parser.add_argument("--token")
    parser.add_argument("--record-s", type=float, default=90.0)
    args = parser.parse_args()
    run = None
    if not args.url:
        from bench.harness.serve_run import ServeRun

        run = ServeRun(Path(tempfile.mkdtemp(prefix="scribe-bench-ui-")))
        print(f"serve run healthy after {run.start():.0f} s")
        args.url, args.token = run.url, run.token
    try:
        mic = fake_mic_wav(Path(tempfile.mkdtemp()) / "mic.wav")
        out = {"machine": f"{os.cpu_count()} cores"}
        with browser(mic) as chromium:
            out["page_load"] = page_load(chromium, args.url)
            print(json.dumps(out["page_load"]), flush=True)
            out["recorded_session"] = recorded_session(chromium, args.url, args.token, args.record_s)
            print(json.dumps(out["recorded_session"]), flush=True)
        out["sse_delivery"] = [sse_delivery(args.url, args.token, n) for n in (1, 16)]
        print(json.dumps(out["sse_delivery"]), flush=True)
        (RESULTS / "ui.json").write_text(json.dumps(out, indent=2) + "\n")
    finally:
        if run is not None:
            run.kill()


if __name__ == "__main__":
    main()
