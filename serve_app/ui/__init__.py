"""The clinicians' web page (Gradio), mounted at ``/ui/`` on the ingress's FastAPI app.

Gradio is imported only when the page is mounted, so the API and the tests that do not
need the page never pay for it.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from serve_app.config import UiConfig

__all__ = ["mount_ui", "UI_PATH"]

UI_PATH = "/ui"
_STATIC = Path(__file__).with_name("static")


def mount_ui(app: FastAPI, cfg: UiConfig) -> FastAPI:
    """Mount the page on ``app`` at :data:`UI_PATH` (no-op when ``cfg.enabled`` is false)."""
    if not cfg.enabled:
        return app
    import gradio as gr

    from serve_app.ui.page import build_page

    page = build_page(cfg)
    page.queue(default_concurrency_limit=8)
    script = (_STATIC / "scribe.js").read_text()
    return gr.mount_gradio_app(app, page, path=UI_PATH, footer_links=[], ssr_mode=False, pwa=False,
                               mcp_server=False, enable_monitoring=False,
                               max_file_size=cfg.max_upload,
                               css=(_STATIC / "scribe.css").read_text(), js=f"() => {{ {script} }}")
