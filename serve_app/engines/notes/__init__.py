"""SOAP notes: the :class:`NoteEngine` protocol (:mod:`.protocol`), the writer that turns
masked segments into a cited note (:mod:`.writer`, with :mod:`.facts`, :mod:`.prompt`,
:mod:`.schema`, :mod:`.citations`), and its backends (:mod:`.vllm_engine`,
:mod:`.openai_engine`; packaged model in :mod:`.models`).  Importing the package
loads neither vLLM nor a model."""
from serve_app.engines.notes.protocol import NoteEngine
from serve_app.engines.notes.writer import NoteWriter, WriterSettings

__all__ = ["NoteEngine", "NoteWriter", "WriterSettings"]
