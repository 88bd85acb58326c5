"""The clinicians' Gradio page, built from the public API client alone.

Everything the page does goes through :class:`~serve_app.ui.api.ScribeApi` with the
clinician's bearer token, which is held server-side in the Gradio session (``gr.State``)
and never sent back to the browser, put in a URL or logged.  A session is followed with
its event stream (resuming with ``Last-Event-ID``); the views are folded from those events
by :class:`~serve_app.ui.view.SessionView` and rendered by :mod:`serve_app.ui.render`.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from serve_app.config import UiConfig
from serve_app.contracts import SECTIONS
from serve_app.errors import ScribeError
from serve_app.ui.api import ApiError, ScribeApi, plain_words
from serve_app.ui.recorder import ChunkSender, content_type_for, send_chunk, split_recording
from serve_app.ui.render import render_note, render_sessions, render_status, render_transcript
from serve_app.ui.view import ChunkLedger, SessionView

__all__ = ["build_page", "UiSession", "parse_transcript", "note_as_editable", "parse_editable"]

#: The microphone panel; static/scribe.js records, cuts WAV chunks and sends them to the API.
RECORDER_PANEL = (
    '<div id="rec-panel" class="rec-panel" data-chunk-s="{chunk_s}" aria-label="Microphone">'
    '<button type="button" id="rec-start" class="rec-btn">● Record</button>'
    '<button type="button" id="rec-stop" class="rec-btn" disabled>■ Pause</button>'
    '<button type="button" id="rec-finish" class="rec-btn primary">Finish consultation</button>'
    '<p id="rec-state" role="status" aria-live="polite" data-state="idle">Not recording</p></div>'
)
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]{1,255}$")
_SPEAKER = re.compile(r"^\s*(doctor|dr|d|clinician|patient|pt|p)\s*[:\-]\s*(.+)$", re.IGNORECASE)


@dataclass
class UiSession:
    """One browser tab's server-side state: the API client (with the token) and the open session."""

    api: ScribeApi
    sid: str | None = None
    view: SessionView | None = None
    ledger: ChunkLedger = field(default_factory=ChunkLedger)
    sender: ChunkSender | None = None
    names: dict[str, str] | None = None
    follower: int = 0
    edit_version: int | None = None

    def open(self, view: SessionView) -> None:
        self.sid, self.view, self.ledger = view.session_id, view, ChunkLedger()
        self.names, self.edit_version = None, None
        self.sender = ChunkSender(self.api, self.sid, self.ledger)


def parse_transcript(text: str) -> list[dict[str, Any]]:
    """Pasted lines as API segments: ``Doctor: ...`` / ``Patient: ...`` (or D:/P:) set the role,
    other lines leave it to the service to infer."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _SPEAKER.match(line)
        if match:
            who = match.group(1).lower()
            role = "doctor" if who in ("doctor", "dr", "d", "clinician") else "patient"
            out.append({"text": match.group(2).strip(), "role": role})
        else:
            out.append({"text": line.strip(), "role": None})
    return out


def _api_base(cfg: UiConfig, request: gr.Request | None) -> str:
    """Where the page reaches the API: ``ui.api_url`` if set, else the host the page was served from."""
    if cfg.api_url:
        return cfg.api_url
    host = (request.headers.get("host") if request is not None else None) or ""
    if not _HOST.match(host):
        raise ApiError(0, "unreachable", "bad host")
    return f"http://{host}"


def _views(state: UiSession | None) -> tuple[str, str, str]:
    if state is None:
        return render_status(None, None), render_transcript(None), render_note(None)
    return (render_status(state.view, state.ledger), render_transcript(state.view, state.names),
            render_note(state.view, state.names))


_HEADING = re.compile(r"^\s*(subjective|objective|assessment|plan)\s*:?\s*$", re.IGNORECASE)
_CITES = re.compile(r"\s*\[((?:s\d+)(?:\s*,\s*s\d+)*)\]\s*$")


def note_as_editable(note: dict[str, Any] | None) -> str:
    """The note as plain text a clinician edits: a heading per section, one ``- item [s1, s2]`` per line."""
    lines = []
    for section in SECTIONS:
        lines.append(section.upper())
        for item in (note or {}).get(section) or []:
            cites = f" [{', '.join(item.get('citations') or [])}]" if item.get("citations") else ""
            lines.append(f"- {item['text']}{cites}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def parse_editable(text: str) -> dict[str, list[dict[str, Any]]]:
    """The edited text as an API note: lines under a section heading are its items (a leading
    ``-`` is optional); a trailing ``[s1, s2]`` keeps the citations.  Text before any heading
    is refused rather than guessed."""
    note: dict[str, list[dict[str, Any]]] = {s: [] for s in SECTIONS}
    section = None
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(1).lower()
            continue
        if section is None:
            raise gr.Error("Start the note with a section heading: SUBJECTIVE, OBJECTIVE, ASSESSMENT or PLAN.")
        body = line.strip().removeprefix("-").strip()
        cites = _CITES.search(body)
        citations = [c.strip() for c in cites.group(1).split(",")] if cites else []
        body = body[:cites.start()].strip() if cites else body
        if body:
            note[section].append({"text": body, "citations": citations})
    return note


def build_page(cfg: UiConfig) -> gr.Blocks:
    """The page (mount it with :func:`serve_app.ui.mount_ui`)."""
    with gr.Blocks(title="Clinical scribe", analytics_enabled=False) as page:
        state = gr.State(None)
        gr.Markdown("# Clinical scribe\nA live, masked transcript and a SOAP note you can check line by line.")
        notice = gr.Markdown("", elem_id="notice")

        with gr.Group(visible=True) as signin:
            token = gr.Textbox(label="Access token", type="password", elem_id="token",
                               placeholder="Your clinician token", max_lines=1)
            signin_btn = gr.Button("Sign in", variant="primary", elem_id="signin")

        with gr.Column(visible=False) as main:
            with gr.Row(equal_height=True):
                sessions = gr.Dropdown(label="Your sessions", choices=[], elem_id="sessions", scale=4)
                refresh_btn = gr.Button("Refresh list", elem_id="refresh", scale=1)
                open_btn = gr.Button("Open", elem_id="open", scale=1)
                new_btn = gr.Button("New session", variant="primary", elem_id="new-session", scale=1)
                delete_btn = gr.Button("Delete…", variant="stop", elem_id="delete", scale=1)
                signout_btn = gr.Button("Sign out", elem_id="signout", scale=1)
            with gr.Row(visible=False) as confirm_row:
                gr.Markdown("**Delete this session and everything recorded in it? This cannot be undone.**")
                confirm_btn = gr.Button("Yes, delete it", variant="stop", elem_id="confirm-delete")
                cancel_btn = gr.Button("Keep it", elem_id="cancel-delete")
            status = gr.HTML(render_status(None, None), elem_id="status")
            with gr.Row():
                gr.HTML(RECORDER_PANEL.format(chunk_s=cfg.chunk_s), elem_id="recorder", js_on_load=None,
                        label="Microphone")
                with gr.Column():
                    retry_btn = gr.Button("Resend failed audio", elem_id="retry")
                    names_box = gr.Checkbox(label="Show real names", value=False, elem_id="names")
            with gr.Row():
                with gr.Column():
                    gr.Markdown("### Transcript\nSelect a line to see the note items that cite it.")
                    transcript = gr.HTML(render_transcript(None), elem_id="transcript")
                with gr.Column():
                    gr.Markdown("### Note\nSelect an item to see the transcript lines it rests on.")
                    note = gr.HTML(render_note(None), elem_id="note")
            with gr.Accordion("Upload a recording or paste a transcript", open=False):
                upload = gr.Audio(sources=["upload"], type="filepath", label="Recording (wav, flac, ogg, webm)",
                                  elem_id="upload")
                upload_btn = gr.Button("Transcribe the recording", elem_id="upload-go")
                pasted = gr.Textbox(label="Transcript, one line per turn (Doctor: … / Patient: …)", lines=6,
                                    elem_id="paste")
                paste_btn = gr.Button("Use this transcript", elem_id="paste-go")
            with gr.Accordion("Review the note", open=True):
                edit_btn = gr.Button("Edit this note", elem_id="edit")
                editor = gr.Textbox(label="The note, one item per line under its section (add, change or delete "
                                    "lines; [s3] keeps a citation)", lines=12, elem_id="editor")
                reason = gr.Textbox(label="Reason (needed to reject)", elem_id="reason", max_lines=3)
                with gr.Row():
                    accept_btn = gr.Button("Accept", variant="primary", elem_id="accept")
                    submit_btn = gr.Button("Submit my edit", elem_id="submit-edit")
                    reject_btn = gr.Button("Reject", variant="stop", elem_id="reject")
            with gr.Accordion("Export the note", open=False):
                fmt = gr.Radio([("Text", "text"), ("FHIR R4 (JSON)", "fhir")], value="text", label="Format",
                               elem_id="export-format")
                export_btn = gr.Button("Export", elem_id="export")
                exported = gr.Code(label="Exported note (names restored)", elem_id="exported", interactive=False)
            finish_go = gr.Button("finish", visible="hidden", elem_id="finish-go")
            open_sid = gr.Textbox(visible="hidden", elem_id="open-sid-box")
            open_sid_go = gr.Button("open recorded session", visible="hidden", elem_id="open-sid-go")
            role_fix = gr.Textbox(visible="hidden", elem_id="role-fix-box")
            role_fix_btn = gr.Button("apply role", visible="hidden", elem_id="role-fix-go")

        views = [status, transcript, note]

        # --- handlers -------------------------------------------------------------------------
        async def sign_in(value: str, request: gr.Request):
            value = (value or "").strip()
            if not value:
                return None, "Enter your access token.", gr.update(), gr.update(), gr.update(), gr.update()
            try:
                api = ScribeApi(_api_base(cfg, request), value)
                listed = await api.list_sessions()
            except ApiError as exc:
                return None, plain_words(exc), gr.update(), gr.update(), gr.update(value=""), gr.update()
            return (UiSession(api=api), "", gr.update(visible=False), gr.update(visible=True),
                    gr.update(value=""), gr.update(choices=render_sessions(listed), value=None))

        def sign_out():
            return (None, "Signed out.", gr.update(visible=True), gr.update(visible=False), *_views(None),
                    gr.update(choices=[], value=None))

        async def refresh(st: UiSession | None):
            if st is None:
                return gr.update()
            try:
                return gr.update(choices=render_sessions(await st.api.list_sessions()), value=st.sid)
            except ApiError as exc:
                gr.Warning(plain_words(exc))
                return gr.update()

        async def _open(st: UiSession, sid: str) -> None:
            st.open(SessionView.from_state(await st.api.state(sid)))

        async def open_recorded(st: UiSession | None, sid: str | None):
            """The page's recorder made ``sid`` (browser side, with the API); open and follow it."""
            return await open_session(st, (sid or "").strip() or None)

        async def open_session(st: UiSession | None, sid: str | None):
            if st is None or not sid:
                return "Choose a session first.", *_views(st)
            try:
                await _open(st, sid)
            except ApiError as exc:
                return plain_words(exc), *_views(st)
            return "", *_views(st)

        async def new_session(st: UiSession | None):
            if st is None:
                return "Sign in first.", *_views(st), gr.update()
            try:
                await _open(st, await st.api.create_session())
                listed = await st.api.list_sessions()
            except ApiError as exc:
                return plain_words(exc), *_views(st), gr.update()
            return "", *_views(st), gr.update(choices=render_sessions(listed), value=st.sid)

        async def follow(st: UiSession | None):
            """Follow the open session's events until it finishes, is deleted, or another opens."""
            if st is None or st.view is None:
                return
            st.follower += 1
            mine, view = st.follower, st.view
            try:
                async for event in st.api.events(view.session_id, after=view.last_event_id):
                    if st.follower != mine or st.view is not view:
                        return
                    view.apply(event)
                    yield gr.update(), *_views(st)
            except ApiError as exc:
                if st.follower == mine:
                    yield plain_words(exc), *_views(st)
                return
            if st.follower == mine:
                yield gr.update(), *_views(st)

        async def _send(st: UiSession, chunks: list[bytes], wait: bool = False) -> None:
            for data in chunks:
                st.sender.submit(data)
            if wait:
                await st.sender.drain()

        async def retry_failed(st: UiSession | None):
            if st is None or st.sid is None:
                return "No session open.", *_views(st)
            for seq in sorted(st.ledger.failed):
                data = st.ledger.pending.get(seq)
                if data is not None:
                    await send_chunk(st.api, st.sid, st.ledger, seq, data)
            left = len(st.ledger.failed)
            return (f"{left} chunk(s) still failing." if left else "All audio is stored."), *_views(st)

        async def finish(st: UiSession | None):
            if st is None or st.sid is None:
                return "No session open.", *_views(st)
            try:
                await st.api.finish(st.sid)
            except ApiError as exc:
                return plain_words(exc), *_views(st)
            return "Finishing: the final note is being written.", *_views(st)

        async def upload_recording(st: UiSession | None, path: str | None, progress=gr.Progress()):  # noqa: B008 (Gradio's way)
            if st is None:
                return "Sign in first.", *_views(st)
            if not path:
                return "Choose a recording first.", *_views(st)
            try:
                with open(path, "rb") as fh:
                    chunks = split_recording(fh.read(), content_type_for(path), cfg.chunk_s)
                await _open(st, await st.api.create_session())
                for data in progress.tqdm(chunks, desc="Sending the recording"):
                    await _send(st, [data], wait=True)
                if st.ledger.failed:
                    return (f"{len(st.ledger.failed)} piece(s) of the recording could not be sent; "
                            "use “Resend failed audio”, then finish."), *_views(st)
                await st.api.finish(st.sid)
            except ScribeError as exc:
                return exc.message, *_views(st)
            except ApiError as exc:
                return plain_words(exc), *_views(st)
            return f"Recording sent in {len(chunks)} pieces; transcribing and writing the note…", *_views(st)

        async def use_transcript(st: UiSession | None, text: str):
            if st is None:
                return "Sign in first.", *_views(st)
            segments = parse_transcript(text or "")
            if not segments:
                return "Paste a transcript first.", *_views(st)
            try:
                await _open(st, await st.api.create_session())
                await st.api.post_segments(st.sid, segments, key=f"ui-{uuid.uuid4().hex}")
                await st.api.finish(st.sid)
            except ApiError as exc:
                return plain_words(exc), *_views(st)
            return "Transcript sent; the note is being written…", *_views(st)

        async def correct_role(st: UiSession | None, value: str):
            parts = (value or "").split(":")
            if st is None or st.sid is None or len(parts) < 2:
                return gr.update(), *_views(st)
            try:
                await st.api.correct_role(st.sid, parts[0], parts[1])
            except ApiError as exc:
                return plain_words(exc), *_views(st)
            return f"Line {parts[0]} is now marked as the {parts[1]}; the note will follow.", *_views(st)

        async def toggle_names(st: UiSession | None, show: bool):
            if st is None or st.sid is None:
                return "", *_views(st)
            try:
                st.names = await st.api.names(st.sid) if show else None
            except ApiError as exc:
                return plain_words(exc), *_views(st)
            return "", *_views(st)

        def start_edit(st: UiSession | None):
            if st is None or st.view is None or st.view.note is None:
                return "There is no note to edit yet.", gr.update()
            st.edit_version = st.view.note_version
            return f"Editing version {st.edit_version}.", gr.update(value=note_as_editable(st.view.note))

        async def _feedback(st: UiSession | None, body: dict[str, Any]) -> str:
            if st is None or st.view is None or st.view.note is None:
                return "There is no note to review yet."
            try:
                await st.api.feedback(st.sid, body, key=f"ui-{uuid.uuid4().hex}")
            except ApiError as exc:
                return plain_words(exc)
            return {"accept": "Accepted: this is now the final note.",
                    "edit": "Your edit is saved: it is now the final note.",
                    "reject": "Rejected, with your reason recorded."}[body["action"]]

        async def accept(st: UiSession | None):
            version = st.view.note_version if st and st.view else 0
            return await _feedback(st, {"action": "accept", "note_version": version})

        async def submit_edit(st: UiSession | None, rows: str, why: str):
            if st is None or st.edit_version is None:
                return "Press “Edit this note” first."
            body = {"action": "edit", "note_version": st.edit_version, "note": parse_editable(rows)}
            if (why or "").strip():
                body["reason"] = why.strip()
            return await _feedback(st, body)

        async def reject(st: UiSession | None, why: str):
            if not (why or "").strip():
                return "Say why you reject the note (the reason box above)."
            version = st.view.note_version if st and st.view else 0
            return await _feedback(st, {"action": "reject", "note_version": version, "reason": why.strip()})

        async def export(st: UiSession | None, kind: str):
            if st is None or st.sid is None:
                return "No session open.", gr.update()
            try:
                body = await st.api.export(st.sid, kind)
            except ApiError as exc:
                return plain_words(exc), gr.update(value="")
            return "", gr.update(value=body, language="json" if kind == "fhir" else None)

        async def delete(st: UiSession | None):
            if st is None or st.sid is None:
                return "No session open.", *_views(st), gr.update(visible=False), gr.update()
            try:
                pending = await st.api.delete(st.sid)
                listed = await st.api.list_sessions()
            except ApiError as exc:
                return plain_words(exc), *_views(st), gr.update(visible=False), gr.update()
            st.sid, st.view, st.names = None, None, None
            st.follower += 1
            done = "The session and everything recorded in it were deleted." if not pending else \
                "The session was deleted; removing it from the training data is still under way " \
                "and will finish shortly."
            return (done, *_views(st),
                    gr.update(visible=False), gr.update(choices=render_sessions(listed), value=None))

        # --- wiring (every event private: the page is not an API) ------------------------------
        private = {"api_visibility": "private"}
        live = {"concurrency_limit": None, "show_progress": "hidden", **private}
        signin_ev = dict(fn=sign_in, inputs=[token], outputs=[state, notice, signin, main, token, sessions],
                         js="(t) => window.scribeRecorder ? window.scribeRecorder.remember(t) : t", **private)
        signin_btn.click(**signin_ev)
        token.submit(**signin_ev)
        signout_btn.click(sign_out, None, [state, notice, signin, main, *views, sessions], **private,
                          js="() => { if (window.scribeRecorder) { window.scribeRecorder.forgetSession(); "
                             "window.scribeRecorder.forget(); } }")
        refresh_btn.click(refresh, [state], [sessions], **private)
        open_btn.click(open_session, [state, sessions], [notice, *views], **private).then(
            follow, [state], [notice, *views], **live)
        new_btn.click(new_session, [state], [notice, *views, sessions], **private).then(
            follow, [state], [notice, *views], **live)
        open_sid_go.click(open_recorded, [state, open_sid], [notice, *views], **private).then(
            refresh, [state], [sessions], **private).then(
            follow, [state], [notice, *views], **live)
        finish_go.click(finish, [state], [notice, *views], **private)
        retry_btn.click(retry_failed, [state], [notice, *views], **private)
        upload_btn.click(upload_recording, [state, upload], [notice, *views], **private).then(
            refresh, [state], [sessions], **private).then(
            follow, [state], [notice, *views], **live)
        paste_btn.click(use_transcript, [state, pasted], [notice, *views], **private).then(
            refresh, [state], [sessions], **private).then(
            follow, [state], [notice, *views], **live)
        # The event stream of a finished session ends; following again after a change catches up
        # with the events it caused (and takes over from the running follower on a live session).
        catch_up = dict(fn=follow, inputs=[state], outputs=[notice, *views], **live)
        role_fix_btn.click(correct_role, [state, role_fix], [notice, *views], **private).then(**catch_up)
        names_box.change(toggle_names, [state, names_box], [notice, *views], **private)
        edit_btn.click(start_edit, [state], [notice, editor], **private)
        accept_btn.click(accept, [state], [notice], **private).then(**catch_up)
        submit_btn.click(submit_edit, [state, editor, reason], [notice], **private).then(**catch_up)
        reject_btn.click(reject, [state, reason], [notice], **private).then(**catch_up)
        export_btn.click(export, [state, fmt], [notice, exported], **private)
        delete_btn.click(lambda st: gr.update(visible=st is not None and st.sid is not None), [state],
                         [confirm_row], **private)
        cancel_btn.click(lambda: gr.update(visible=False), None, [confirm_row], **private)
        confirm_btn.click(delete, [state], [notice, *views, confirm_row, sessions], **private)
    return page
