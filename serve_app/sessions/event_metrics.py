"""Live-latency metrics from the store's own events, as they are emitted.

The store is where a chunk's arrival and its commit both happen, so it measures chunk lag, word
latency and pending chunks without a clock shared between processes.  A word's latency counts from
the arrival of the chunk holding its end (the earliest moment the word could be known), to the event
that first shows it: ``words_tentative`` (kind ``tentative``) or the commit (kind ``committed``),
the same definitions as ``bench/perf/capacity.py``.

Only arrival times of pending chunks and the placement of each session's last few processed chunks
are held, and a session's are dropped when it finishes or is erased.  After a store restart, chunks
received before it count in no lag (their arrival times were in memory only).
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable

from serve_app.metrics import record

__all__ = ["EventMetrics"]

Sink = Callable[..., None]  # record(short_name, value, **tags)


class EventMetrics:
    """``observer(sid, event)`` after each emitted event; ``forget(sid)`` when a session is erased.

    Args:
        sink: where observations go (:func:`serve_app.metrics.record`; a list-appender in tests).
        keep: processed chunks remembered per session to place committed words (a commit reaches
            back at most ``asr.max_tail_s`` plus one step).
    """

    def __init__(self, sink: Sink = record, keep: int = 32):
        self._sink = sink
        self._keep = keep
        self._pending: dict[str, dict[int, tuple[float, float]]] = {}  # sid -> seq -> (arrival ts, duration)
        self._placed: dict[str, deque[tuple[float, float, float]]] = {}  # sid -> (start, end, arrival ts)
        self._fresh: dict[str, list[tuple[float, float, float]]] = {}  # processed since the last tentative event
        self._finish: dict[str, float] = {}
        self._count = 0

    def __call__(self, sid: str, event: dict[str, Any]) -> None:
        kind, data, ts = event["type"], event.get("data", {}), event["ts"]
        handler = getattr(self, "_on_" + kind, None)
        if handler is not None:
            handler(sid, data, ts)

    def forget(self, sid: str) -> None:
        self._count -= len(self._pending.pop(sid, {}))
        for held in (self._placed, self._fresh, self._finish):
            held.pop(sid, None)
        self._sink("pending_chunks", self._count)

    # -- chunks -------------------------------------------------------------------------
    def _on_chunk_received(self, sid: str, data: dict, ts: float) -> None:
        self._pending.setdefault(sid, {})[data["seq"]] = (ts, data["duration_s"])
        self._count += 1
        self._sink("pending_chunks", self._count)
        self._sink("audio_seconds_total", data["duration_s"])

    def _arrived(self, sid: str, data: dict) -> tuple[float, float] | None:
        arrival = self._pending.get(sid, {}).pop(data["seq"], None)
        if arrival is not None:
            self._count -= 1
            self._sink("pending_chunks", self._count)
        return arrival

    def _on_chunk_failed(self, sid: str, data: dict, ts: float) -> None:
        self._arrived(sid, data)

    def _on_chunk_processed(self, sid: str, data: dict, ts: float) -> None:
        arrival = self._arrived(sid, data)
        if arrival is not None:
            self._sink("chunk_lag_seconds", max(0.0, ts - arrival[0]))
            place = (data["offset_s"], data["offset_s"] + arrival[1], arrival[0])
            self._placed.setdefault(sid, deque(maxlen=self._keep)).append(place)
            self._fresh.setdefault(sid, []).append(place)
        self._words(sid, _segment_words(data), ts, "committed", self._placed.get(sid, ()))

    def _on_asr_flushed(self, sid: str, data: dict, ts: float) -> None:
        self._words(sid, _segment_words(data), ts, "committed", self._placed.get(sid, ()))

    def _on_words_tentative(self, sid: str, data: dict, ts: float) -> None:
        # a word is first shown by the tentative event that follows its chunk's processing
        self._words(sid, data.get("words") or [], ts, "tentative", self._fresh.pop(sid, ()))

    def _words(self, sid: str, words: list[dict], ts: float, kind: str, chunks) -> None:
        for word in words:
            end = word.get("end")
            arrival = next((a for start, stop, a in chunks if end is not None and start <= end < stop + 1e-6), None)
            if arrival is not None:
                self._sink("word_latency_seconds", max(0.0, ts - arrival), kind=kind)

    # -- notes --------------------------------------------------------------------------
    def _on_finish_requested(self, sid: str, data: dict, ts: float) -> None:
        self._finish.setdefault(sid, ts)

    def _on_note_updated(self, sid: str, data: dict, ts: float) -> None:
        if data.get("final") and sid in self._finish:
            self._sink("final_note_seconds", max(0.0, ts - self._finish.pop(sid)))

    def _on_warnings_updated(self, sid: str, data: dict, ts: float) -> None:
        for warning in data.get("warnings") or []:
            self._sink("note_warnings_total", 1, kind=str(warning.get("kind", "unknown")))

    def _on_finished(self, sid: str, data: dict, ts: float) -> None:
        self.forget(sid)


def _segment_words(data: dict) -> list[dict]:
    return [w for seg in data.get("segments") or [] for w in seg.get("words") or []]
