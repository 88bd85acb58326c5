"""HTML for the page's live views: the transcript, the note with its warnings, the status line.

Everything that comes from a session (masked text, revealed names, warning messages) is
HTML-escaped here: a transcript is untrusted input.  Elements carry ``data-*`` attributes
that the page's script uses to link note items and the segments they cite, both ways.
"""
from __future__ import annotations

import html
from typing import Any

from serve_app.contracts import SECTIONS
from serve_app.ingress.export import restore_names
from serve_app.ui.view import ChunkLedger, SessionView

__all__ = ["render_transcript", "render_note", "render_status", "render_sessions"]

_ROLE_LABEL = {"doctor": "Doctor", "patient": "Patient", None: "Unknown"}
_OTHER_ROLE = {"doctor": "patient", "patient": "doctor", None: "doctor"}


def _text(text: str, names: dict[str, str] | None) -> str:
    return html.escape(restore_names(text, names) if names else text)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def _warning_li(warning: dict[str, Any], names: dict[str, str] | None) -> str:
    evidence = " ".join(warning.get("evidence") or [])
    kind = html.escape(warning.get("kind", "warning"))
    cites = f' data-cites="{html.escape(evidence)}"' if evidence else ""
    see = f" (see {html.escape(', '.join(warning.get('evidence') or []))})" if evidence else ""
    return (f'<li class="warn kind-{kind}"{cites}><strong>{kind}</strong>: '
            f'{_text(warning.get("message", ""), names)}{see}</li>')


def render_transcript(view: SessionView | None, names: dict[str, str] | None = None) -> str:
    """The transcript: one line per segment with its role, time, a one-click role correction,
    a mark on uncertain roles and injection warnings beside the segment they concern; words heard
    but not committed yet follow in grey italics."""
    if view is None:
        return '<div class="empty">Open or start a session to see its transcript.</div>'
    tentative = (f'<p class="tentative" aria-live="polite" title="Heard, not final yet">'
                 f'{_text(view.tentative, names)}</p>' if view.tentative else "")
    if not view.segments:
        return f'<div class="empty" data-session="{html.escape(view.session_id)}">No speech yet.{tentative}</div>'
    by_segment: dict[str, list[dict[str, Any]]] = {}
    for warning in view.warnings:
        if warning.get("note_item") is None:
            for sid in warning.get("evidence") or []:
                by_segment.setdefault(sid, []).append(warning)
    rows = []
    for seg in view.segments.values():
        sid, role = seg["id"], seg.get("role")
        other = _OTHER_ROLE.get(role, "doctor")
        uncertain = bool(seg.get("role_uncertain"))
        mark = ('<abbr class="uncertain-mark" title="Role uncertain: please check">?</abbr>'
                if uncertain else "")
        warns = "".join(_warning_li(w, names) for w in by_segment.get(sid, []))
        warns = f'<ul class="seg-warnings">{warns}</ul>' if warns else ""
        esid = html.escape(sid)
        rows.append(
            f'<li class="seg role-{html.escape(str(role))}{" uncertain" if uncertain else ""}" id="seg-{esid}" '
            f'data-seg="{esid}" data-end="{seg.get("end") or ""}" data-event-ts="{seg.get("event_ts") or 0:.3f}" '
            f'tabindex="0" '
            f'aria-label="{_ROLE_LABEL.get(role, "Unknown")}{", role uncertain" if uncertain else ""}, '
            f'{_clock(seg.get("start"))}">'
            f'<span class="role-badge">{_ROLE_LABEL.get(role, "Unknown")}{mark}</span>'
            f'<span class="seg-time">{_clock(seg.get("start"))}</span>'
            f'<span class="seg-text">{_text(seg.get("text", ""), names)}</span>'
            f'<button type="button" class="role-fix" data-seg="{esid}" data-role="{other}" '
            f'aria-label="Set the speaker of this line to {other}">→ {other}</button>{warns}</li>')
    return (f'<ol class="transcript" data-session="{html.escape(view.session_id)}" '
            f'aria-label="Transcript">{"".join(rows)}</ol>{tentative}')


def render_note(view: SessionView | None, names: dict[str, str] | None = None, now: float | None = None) -> str:
    """The note section by section; each item lists its citations and, beneath it, its warnings.
    Items new or changed in the latest version carry ``changed`` for a few seconds."""
    if view is None:
        return '<div class="empty">No session open.</div>'
    if view.note is None:
        return '<div class="empty note-pending">No note yet: it appears once there is enough to write from.</div>'
    fresh = view.recently_changed(now)
    by_item: dict[str, list[dict[str, Any]]] = {}
    for warning in view.warnings:
        if warning.get("note_item") is not None:
            by_item.setdefault(warning["note_item"], []).append(warning)
    kind = "final" if view.note_final else "draft"
    source = " (clinician's)" if view.note_source == "clinician" else ""
    parts = [f'<div class="note" data-version="{view.note_version}" data-event-ts="{view.note_event_ts:.3f}">',
             f'<p class="note-meta">Version {view.note_version}, {kind}{source}. '
             f'{html.escape(view.last_change)}</p>']
    for section in SECTIONS:
        items = view.note.get(section) or []
        parts.append(f'<h3>{section.capitalize()}</h3>')
        if not items:
            parts.append('<p class="empty">Nothing recorded.</p>')
            continue
        parts.append(f'<ul class="note-section" aria-label="{section}">')
        for item in items:
            iid = html.escape(item["id"])
            cites = " ".join(item.get("citations") or [])
            warns = by_item.get(item["id"], [])
            warn_html = (f'<ul class="item-warnings">{"".join(_warning_li(w, names) for w in warns)}</ul>'
                         if warns else "")
            classes = "note-item" + (" changed" if item["id"] in fresh else "") + (" warned" if warns else "")
            cite_text = (f'[{html.escape(", ".join(item["citations"]))}]' if item.get("citations")
                         else "(no citation)")
            label = f"Note item; cites {', '.join(item.get('citations') or []) or 'nothing'}"
            if warns:
                label += f"; {len(warns)} warning{'s' if len(warns) > 1 else ''}"
            parts.append(
                f'<li class="{classes}" data-item="{iid}" data-cites="{html.escape(cites)}" tabindex="0" '
                f'role="button" aria-label="{html.escape(label)}">'
                f'<span class="item-text">{_text(item["text"], names)}</span> '
                f'<span class="cites">{cite_text}</span>'
                f'{warn_html}</li>')
        parts.append("</ul>")
    others = [w for w in view.warnings if w.get("note_item") is None and w.get("kind") != "injection"]
    if others:
        parts.append(f'<h3>Other findings</h3><ul class="item-warnings">'
                     f'{"".join(_warning_li(w, names) for w in others)}</ul>')
    parts.append("</div>")
    return "".join(parts)


def render_status(view: SessionView | None, ledger: ChunkLedger | None, recording_s: float | None = None) -> str:
    """The status line: progress in plain words, the recording state and the chunks' fate."""
    if view is None:
        return '<p class="status" role="status">No session open.</p>'
    bits = [f'<span class="progress">{html.escape(view.progress())}</span>']
    if recording_s is not None:
        bits.append(f'<span class="rec-state recording">● Recording {_clock(recording_s)}</span>')
    if ledger is not None and (ledger.next_seq or ledger.failed):
        bits.append(f'<span class="chunks">Audio chunks: {html.escape(ledger.summary())}; '
                    f'{len(view.chunks_processed)} transcribed</span>')
    return (f'<p class="status" role="status" aria-live="polite" data-session="{html.escape(view.session_id)}" '
            f'data-status="{html.escape(view.status)}">{" · ".join(bits)}</p>')


def render_sessions(sessions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Dropdown choices ``(label, session id)``: newest first, with status and time."""
    import datetime as dt

    choices = []
    for s in sessions:
        when = dt.datetime.fromtimestamp(s["created_at"]).strftime("%Y-%m-%d %H:%M")
        choices.append((f"{when} · {s['status']} · {s['segments']} lines · {s['session_id'][:8]}",
                        s["session_id"]))
    return choices
