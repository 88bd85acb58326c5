"""Streaming ASR over chunks: which words to commit, and where the next pass starts.

Chunks are transcribed together with the uncommitted tail of audio before them
(``buffer = audio[cursor:end of chunk]``).  Words ending close to the end of the
audio received so far may be cut by the chunk boundary, so they are held back
and decoded again with the next chunk.  Committed words never come back: the
next buffer starts after the last committed word.  Hence a word straddling a
boundary is neither lost nor duplicated.

Words commit when Whisper ends a segment before the held-back tail, word by word at
a pause once the uncommitted tail is longer than ``max_tail_s``, and (with the
previous pass's uncommitted words given) when two passes in a row agree on them:
the "local agreement" policy of Machacek et al., *Turning Whisper into Real-Time
Transcription System* (2023), which commits sooner than waiting for a segment end;
(``confident``) the leading words Whisper itself is sure of, without waiting for a second pass; and
(``boundary``, on by default) every word but the last one decoded, held-back tail or not, since a
chunk boundary can cut only the word it falls in (:class:`BoundaryRule`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from serve_app.engines.asr.protocol import AsrSegment, Word, segment_from_words

__all__ = ["BoundaryRule", "CommitDecision", "boundary_rule", "decide_commit", "segments_after"]

_SPOKEN = re.compile(r"[^\W_]")  # a letter or a digit, in any script


@dataclass(frozen=True)
class CommitDecision:
    """Segments to commit (absolute times), the new cursor (start of the next buffer), and the
    words decoded after the cursor that wait for more audio (shown as tentative words)."""

    segments: list[AsrSegment] = field(default_factory=list)
    cursor: float = 0.0
    pending: list[Word] = field(default_factory=list)


@dataclass(frozen=True)
class BoundaryRule:
    """Commit every uncommitted word but the last one decoded: a chunk boundary can cut only the
    word it falls in, and Whisper decodes that one last, so a word followed by another in the same
    pass was heard whole.  The last word commits too when the buffer goes on for at least
    ``last_gap_s`` after it (None: never).  The run stops at the first word under ``min_probability``
    (it waits for a later pass, as before)."""

    min_probability: float = 0.0
    last_gap_s: float | None = None


def boundary_rule(asr_config) -> BoundaryRule | None:
    """The :class:`BoundaryRule` an :class:`~serve_app.config.AsrConfig` asks for (None: off)."""
    if not asr_config.boundary_commit:
        return None
    return BoundaryRule(asr_config.boundary_min_probability, asr_config.boundary_last_gap_s)


def segments_after(raw: Sequence[AsrSegment], buffer_start: float, start: float) -> list[AsrSegment]:
    """A buffer's segments in session time, without the words of its left context.

    ``raw`` has times relative to the buffer, which begins at ``buffer_start``; words whose
    midpoint lies before ``start`` were committed by an earlier step and are dropped, and so are
    "words" with no letter or digit (a lone "." Whisper decodes from the silence after the last
    word: punctuation that belongs to speech comes attached to a word).
    """
    segments = []
    for seg in raw:
        words = [w.shifted(buffer_start) for w in seg.words
                 if buffer_start + (w.start + w.end) / 2 >= start and _SPOKEN.search(w.text)]
        if words:
            segments.append(segment_from_words(words))
    return segments


def _cursor_after(last_end: float, next_word: Word | None) -> float:
    if next_word is None:
        return last_end
    return max(last_end, min(next_word.start, (last_end + next_word.start) / 2))


def decide_commit(
    segments: Sequence[AsrSegment],
    buffer_start: float,
    buffer_end: float,
    holdback_s: float,
    max_tail_s: float,
    final: bool,
    min_gap_s: float = 0.15,
    previous: Sequence[Word] | None = None,
    confident: float | None = None,
    boundary: BoundaryRule | None = None,
) -> CommitDecision:
    """Decide what to commit from a buffer's transcription.

    Args:
        segments: the buffer's segments, times already absolute (session seconds).
        buffer_start, buffer_end: the buffer's span in session seconds.
        holdback_s: words ending after ``buffer_end - holdback_s`` wait for more audio.
        max_tail_s: if holding back would leave more uncommitted audio than this,
            commit word by word instead of waiting for a segment to end.
        final: no more audio will come: commit everything.
        min_gap_s: a cut between committed and held-back words needs at least
            this much silence between them.
        previous: the words the previous pass decoded after this buffer's ``buffer_start``
            and did not commit (its ``pending``); the leading words this pass agrees on
            (same text, ending before the held-back tail) are committed.
        confident: also commit the leading uncommitted words whose probability is at least this and
            that end before the held-back tail (None: off).
        boundary: also commit every word but the last one decoded, held-back tail or not (see
            :class:`BoundaryRule`; None: off).
    """
    words = [w for seg in segments for w in seg.words]
    if final:
        return CommitDecision([s for s in segments if s.words], buffer_end)
    limit = buffer_end - holdback_s
    if not words:
        # Nothing recognised: keep only the last ``holdback_s`` of audio, in case
        # a word is starting there.
        return CommitDecision([], max(buffer_start, limit))
    decision = _commit(segments, words, buffer_start, buffer_end, limit, max_tail_s, min_gap_s)
    if previous:
        decision = _agree(decision, words, previous, buffer_start, limit)
    if confident is not None:
        decision = _confident(decision, words, buffer_start, limit, confident)
    if boundary is not None:
        decision = _before_last(decision, words, buffer_start, buffer_end, boundary)
    return CommitDecision(decision.segments, decision.cursor, words[_count(decision):])


def _norm(text: str) -> str:
    return re.sub(r"[^\w']+", "", text.lower())


def _agree(decision: CommitDecision, words: list[Word], previous: Sequence[Word], buffer_start: float,
           limit: float) -> CommitDecision:
    """``decision`` extended by the words after it that ``previous`` also decoded, in the same
    order with the same text, that end before ``limit`` (local agreement of two passes)."""
    done = _count(decision)
    agreed = 0
    for new, old in zip(words, previous):
        if _norm(new.text) != _norm(old.text) or new.end > limit:
            break
        agreed += 1
    return _extended(decision, words, agreed, buffer_start) if agreed > done else decision


def _extended(decision: CommitDecision, words: list[Word], upto: int, buffer_start: float) -> CommitDecision:
    """``decision`` with the words after it up to ``words[upto]`` committed as one more segment."""
    following = words[upto] if upto < len(words) else None
    cursor = _cursor_after(words[upto - 1].end, following)
    return CommitDecision([*decision.segments, segment_from_words(words[_count(decision):upto])],
                          max(buffer_start, cursor))


def _count(decision: CommitDecision) -> int:
    """How many words ``decision`` commits (always a prefix of the buffer's words)."""
    return sum(len(seg.words) for seg in decision.segments)


def _confident(decision: CommitDecision, words: list[Word], buffer_start: float, limit: float,
               threshold: float) -> CommitDecision:
    """``decision`` extended by the words after it that Whisper is at least ``threshold`` sure of and
    that end before ``limit``.  No pause is needed after them (a sure word away from the buffer's end
    was not cut by it; requiring 0.15 s of silence committed almost nothing more: bench.perf.asr_stream,
    ``confident_tune*``); the cut backs off only where the next word overlaps the last one."""
    done = sure = _count(decision)
    while sure < len(words) and words[sure].probability >= threshold and words[sure].end <= limit:
        sure += 1
    for cut in range(sure, done, -1):
        if cut == len(words) or words[cut].start >= words[cut - 1].end:
            return _extended(decision, words, cut, buffer_start)
    return decision


def _before_last(decision: CommitDecision, words: list[Word], buffer_start: float, buffer_end: float,
                 rule: BoundaryRule) -> CommitDecision:
    """``decision`` extended by the words after it up to (not including) the last one decoded, or
    through it when the buffer runs on ``rule.last_gap_s`` past its end; see :class:`BoundaryRule`."""
    done = _count(decision)
    last_whole = rule.last_gap_s is not None and buffer_end - words[-1].end >= rule.last_gap_s - 1e-6  # float sums
    stop = len(words) if last_whole else len(words) - 1
    upto = done
    while upto < stop and words[upto].probability >= rule.min_probability:
        upto += 1
    return _extended(decision, words, upto, buffer_start) if upto > done else decision


def _commit(segments: Sequence[AsrSegment], words: list[Word], buffer_start: float, buffer_end: float,
            limit: float, max_tail_s: float, min_gap_s: float) -> CommitDecision:
    """The commit of :func:`decide_commit` when some words were recognised (``pending`` not set)."""
    committed: list[AsrSegment] = []
    n_words = 0
    for seg in segments:
        if seg.words and seg.words[-1].end <= limit:
            committed.append(seg)
            n_words += len(seg.words)
        else:
            break
    # Cut only in a pause: a boundary with no gap before the next word may have
    # split a word (or its onset), so back off to an earlier boundary.
    while committed and n_words < len(words) and words[n_words].start - words[n_words - 1].end < min_gap_s:
        n_words -= len(committed.pop().words)
    rest = words[n_words:]
    if rest and buffer_end - rest[0].start > max_tail_s:
        early = [w for w in rest if w.end <= limit]
        if early:
            cut = len(early)
            for i in range(len(early), 0, -1):
                following = rest[i] if i < len(rest) else None
                if following is None or following.start - early[i - 1].end >= min_gap_s:
                    cut = i
                    break
            committed.append(segment_from_words(early[:cut]))
            n_words += cut
            rest = words[n_words:]
    if not committed:
        return CommitDecision([], buffer_start)
    last_end = committed[-1].words[-1].end
    next_word = rest[0] if rest else None
    cursor = _cursor_after(last_end, next_word)
    if next_word is None:
        cursor = max(cursor, min(limit, buffer_end))
    return CommitDecision(committed, max(buffer_start, cursor))
