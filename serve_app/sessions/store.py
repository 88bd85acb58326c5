"""The session store: ownership, ordering, idempotency, durability, events.

Plain Python (no Ray); ``deployments/session_store.py`` runs one in a named Ray
actor and :class:`~serve_app.sessions.client.StoreClient` is the typed way to call
it.  The store is one :class:`~serve_app.sessions.book.SessionBook` (state, events,
journal) seen through four role objects, each a small class of its own:

==============  ===============================================  ==================
attribute       role                                             called by
==============  ===============================================  ==================
``api``         :class:`~.client_api.ClientApi`                  the ingress
``work``        :class:`~.fences.PipelineFences`                 the session processor
``notes``       :class:`~.note_commits.NoteCommits`              note updater, checks
``feedback``    :class:`~.feedback_log.FeedbackLog`              the feedback recorder
``retention``   :class:`~.retention.RetentionSweep`              the pipeline's sweeper
==============  ===============================================  ==================

Every mutating call writes to the journal (and fsyncs) before it returns, so an
acknowledgement means the change is durable.  Client calls carry the clinician id
and see another clinician's session as absent (404).  Pipeline commits are fenced:
committing a step that was already committed changes nothing.
"""
from __future__ import annotations

import time
from typing import Callable

from serve_app.sessions.book import SessionBook
from serve_app.sessions.client_api import ClientApi
from serve_app.sessions.feedback_log import FeedbackLog
from serve_app.sessions.fences import PipelineFences
from serve_app.sessions.note_commits import NoteCommits
from serve_app.sessions.retention import RetentionSweep
from serve_app.sessions.spec import StoreSpec

__all__ = ["SessionStore", "ROLES"]

#: role attribute -> class: the only methods a store client can reach.
ROLES: dict[str, type] = {"api": ClientApi, "work": PipelineFences, "notes": NoteCommits, "feedback": FeedbackLog,
                          "retention": RetentionSweep}


class SessionStore:
    """All sessions of one journal (rebuilt from it on construction), by role.

    Args:
        journal: a :class:`~serve_app.sessions.disk_journal.DiskJournal` (or any
            object with the same methods).
        spec: limits and what a session needs before it finishes.
        clock: seconds since the epoch (injectable for tests).
    """

    def __init__(self, journal, spec: StoreSpec | None = None, clock: Callable[[], float] = time.time):
        self.book = SessionBook(journal, spec or StoreSpec(), clock)
        self.api = ClientApi(self.book)
        self.work = PipelineFences(self.book)
        self.notes = NoteCommits(self.book)
        self.feedback = FeedbackLog(self.book)
        self.retention = RetentionSweep(self.book)

    def role(self, name: str):
        """The role object ``name`` (one of :data:`ROLES`)."""
        if name not in ROLES:
            raise AttributeError(f"the session store has no role {name!r}")
        return getattr(self, name)
