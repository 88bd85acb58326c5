"""The clinicians' page in real headless Chromium against `serve run serve_config.yaml`.

A fake microphone plays a data/dev consultation recording: the page records a session, the
transcript and a draft note appear while it records, citations highlight, a role correction
sticks, an edit reaches the flywheel datasets, the FHIR export validates with the names
restored, and another clinician sees none of it.  ``SCRIBE_E2E_URL`` (and
``SCRIBE_E2E_DATA_DIR``) point the test at an app already running, for development.
"""
from __future__ import annotations

import base64
import json
import os
import re
import time
from pathlib import Path

import httpx
import pyarrow.dataset as pads
import pytest
from fhir.resources.R4B.documentreference import DocumentReference

from bench.harness.browser import browser, fake_mic_wav, sign_in
from bench.harness.serve_run import ServeRun

pytestmark = pytest.mark.e2e

OTHER_TOKEN = "e2e-other-clinician-token-987654"
PLANTED_NAME, PLANTED_PHONE = "Walter Kowalski", "617-555-0123"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    if os.environ.get("SCRIBE_E2E_URL"):
        yield {"url": os.environ["SCRIBE_E2E_URL"], "token": os.environ["SCRIBE_E2E_TOKEN"],
               "other": os.environ["SCRIBE_E2E_OTHER_TOKEN"], "data": Path(os.environ["SCRIBE_E2E_DATA_DIR"])}
        return
    tmp = tmp_path_factory.mktemp("ui")
    run = ServeRun(tmp, extra_tokens={"other": OTHER_TOKEN})
    run.start()
    yield {"url": run.url, "token": run.token, "other": OTHER_TOKEN, "data": tmp / "data"}
    run.kill()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    mic = fake_mic_wav(tmp_path_factory.mktemp("mic") / "consultation.wav")
    with browser(mic) as instance:
        yield instance


def _page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["microphone"])
    return context.new_page()


def _wait(predicate, timeout_s: float, step_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step_s)
    raise AssertionError("timed out")


def _rows(root: Path, name: str) -> list[dict]:
    files = [str(p) for p in (root / name).rglob("*.parquet")
             if not any(part.startswith(("_", ".")) for part in p.relative_to(root / name).parts)]
    return pads.dataset(files).to_table().to_pylist() if files else []


def test_wrong_token_gets_a_clear_message(app, chromium):
    page = _page(chromium)
    page.goto(f"{app['url']}/ui/")
    page.get_by_label("Access token").fill("not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("That token was not accepted").wait_for(timeout=15_000)
    assert page.get_by_role("button", name="New session").is_hidden()
    assert "not-a-real-token" not in page.url and page.get_by_label("Access token").input_value() == ""


def test_a_clinician_records_reviews_and_exports_a_consultation(app, chromium):
    page = _page(chromium)
    sign_in(page, app["url"], app["token"])

    # record: words and then a draft note appear while the microphone is still on
    page.get_by_role("button", name="● Record").click()
    page.locator(".seg").first.wait_for(timeout=120_000)
    page.locator(".note-item").first.wait_for(timeout=240_000)
    recorder = page.locator("#rec-state")
    assert recorder.get_attribute("data-state") == "recording" and "acknowledged" in recorder.inner_text()
    assert int(recorder.get_attribute("data-acked")) >= 3 and recorder.get_attribute("data-failed") == "0"
    page.screenshot(path=str(Path(os.environ.get("SCRIBE_SCREENSHOTS", "/tmp")) / "ui-recording.png"))
    page.get_by_role("button", name="■ Pause").click()
    page.locator('#rec-state[data-state="paused"]').wait_for(timeout=30_000)
    # the recorder keeps what Chromium captures (30.03 s of 30.01 s on an idle box; about 86 % when the
    # browser shares the two cores with the models); a lossy recorder (Gradio's stream
    # lost 40 % with a slow handler) fails here
    captured, elapsed = page.evaluate("[window.scribeRecorder.captured, window.scribeRecorder.elapsed]")
    assert captured >= 0.7 * elapsed, (captured, elapsed)
    page.get_by_role("button", name="Finish consultation").click()
    page.locator('#status [data-status="finished"]').wait_for(timeout=300_000)
    sid = page.locator("#status [data-session]").get_attribute("data-session")
    assert page.locator(".seg").count() >= 3
    # no audio lost on the way: every chunk the page cut was stored, in order, from seq 0
    acked = int(recorder.get_attribute("data-acked"))
    chunks = httpx.get(f"{app['url']}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {app['token']}"},
                       timeout=30).json()["chunks"]
    assert chunks["received"] == acked and chunks["missing"] == [] and chunks["failed"] == []

    # selecting an item highlights exactly the segments it cites, and the reverse
    item = page.locator(".note-item[data-cites]:not([data-cites=''])").first
    cites = item.get_attribute("data-cites").split()
    item.click()
    highlighted = page.locator(".seg.cited")
    assert sorted(highlighted.evaluate_all("els => els.map(e => e.dataset.seg)")) == sorted(cites)
    page.locator(f"#seg-{cites[0]}").click()
    assert page.locator(".note-item.cites-this").count() >= 1
    assert all(cites[0] in el.split() for el in
               page.locator(".note-item.cites-this").evaluate_all("els => els.map(e => e.dataset.cites)"))

    # one-click role correction
    seg = page.locator(".seg").nth(1)
    seg_id, before = seg.get_attribute("data-seg"), seg.get_attribute("class")
    target = seg.locator(".role-fix").get_attribute("data-role")
    seg.locator(".role-fix").click()
    _wait(lambda: f"role-{target}" in (page.locator(f"#seg-{seg_id}").get_attribute("class") or ""), 30, 0.5)
    assert before != page.locator(f"#seg-{seg_id}").get_attribute("class")
    api = httpx.Client(base_url=app["url"], headers={"Authorization": f"Bearer {app['token']}"}, timeout=30)
    assert next(s for s in api.get(f"/v1/sessions/{sid}").json()["segments"] if s["id"] == seg_id)["role"] == target

    # review: edit in place (add an item naming the patient) and submit
    page.get_by_role("button", name="Edit this note").click()
    editor = page.locator("#editor textarea")
    _wait(lambda: "SUBJECTIVE" in editor.input_value(), 15, 0.5)
    edited = editor.input_value().replace(
        "PLAN\n", f"PLAN\n- {PLANTED_NAME} ({PLANTED_PHONE}) to return in one week if not better.\n", 1)
    editor.fill(edited)
    page.get_by_role("button", name="Submit my edit").click()
    page.get_by_text("Your edit is saved").wait_for(timeout=60_000)
    page.locator(".note-meta", has_text="clinician's").wait_for(timeout=60_000)
    assert PLANTED_NAME not in page.locator("#note").inner_text()  # masked until revealed
    page.get_by_label("Show real names").check()
    page.locator("#note", has_text=PLANTED_NAME).wait_for(timeout=30_000)
    page.screenshot(path=str(Path(os.environ.get("SCRIBE_SCREENSHOTS", "/tmp")) / "ui-reviewed.png"),
                    full_page=True)

    # the edit reaches the flywheel, masked: in the datasets, or in the quarantine when the writer's
    # second PHI net flags something else in the row (a cut last word of the recording alone on its line,
    # "luster.", reads to philter as an unknown proper noun); never with the planted PHI
    root, quarantine = app["data"] / "flywheel", app["data"] / "flywheel-quarantine"

    def edit_rows():
        published = [r for r in _rows(root, "feedback") if r.get("action") == "edit"]
        held = [r for r in _rows(quarantine, "quarantine") if r["dataset"] == "feedback"]
        return published + held
    rows = _wait(edit_rows, 120)
    assert PLANTED_NAME not in json.dumps(rows, default=str) and PLANTED_PHONE not in json.dumps(rows, default=str)
    for held in (r for r in rows if "entity_types" in r):
        assert not {"PERSON", "PHONE_NUMBER"} & set(held["entity_types"]), held["entity_types"]
        assert re.search(r"\[PERSON_\d+\] \[PHONE_\d+\] to return", held["row"])  # masked before the writer
    if not any("entity_types" in r for r in rows):
        assert _wait(lambda: _rows(root, "sft"), 60)

    # FHIR export: parses, validates, names restored
    page.get_by_text("Export the note").click()
    page.get_by_role("button", name="Export", exact=True).click()  # text first: the names are readable
    page.locator("#exported", has_text=PLANTED_NAME).wait_for(timeout=30_000)
    page.get_by_label("FHIR R4 (JSON)").check()
    page.get_by_role("button", name="Export", exact=True).click()
    page.locator("#exported", has_text="DocumentReference").wait_for(timeout=30_000)
    exported = api.get(f"/v1/sessions/{sid}/export", params={"format": "fhir"})
    assert exported.headers["content-type"].startswith("application/fhir+json")
    DocumentReference.model_validate(exported.json())
    text = base64.b64decode(exported.json()["content"][0]["attachment"]["data"]).decode()
    assert PLANTED_NAME in text and PLANTED_PHONE in text

    # another clinician sees none of it
    other = _page(chromium)
    sign_in(other, app["url"], app["other"])
    other.get_by_role("button", name="New session").click()
    other.locator("#status [data-session]").wait_for(timeout=30_000)
    own = other.locator("#status [data-session]").get_attribute("data-session")
    other.locator("#sessions input").click()
    options = " ".join(other.get_by_role("option").all_inner_texts())
    assert own[:8] in options and sid[:8] not in options
    other_api = httpx.Client(base_url=app["url"], headers={"Authorization": f"Bearer {app['other']}"}, timeout=30)
    assert [other_api.get(f"/v1/sessions/{sid}{p}").status_code for p in ("", "/names", "/export?format=fhir")] == [404] * 3

    # delete, with a confirmation
    page.get_by_role("button", name="Delete…").click()
    page.get_by_role("button", name="Yes, delete it").click()
    page.get_by_text("were deleted").wait_for(timeout=60_000)
    assert api.get(f"/v1/sessions/{sid}").status_code == 404
