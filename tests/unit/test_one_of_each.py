"""The shared helpers: per-session tasks and locks, retry, durable writes, text utilities."""
from __future__ import annotations

import asyncio
import json
import logging
import os

import pytest

from serve_app.durable import atomic_write
from serve_app.engines.notes.citations import CitationChecker, SectionResult, support
from serve_app.engines.notes.facts import Fact, content_words
from serve_app.engines.text import (
    ALIGNMENT_STOP_WORDS,
    NEGATION_WORDS,
    NOTE_STOP_WORDS,
    PLACEHOLDER,
    is_negation,
    split_sentences,
)
from serve_app.pipeline.tasks import Attempts, PerSessionTasks, SessionLocks

log = logging.getLogger("test")


def test_per_session_tasks_run_once_at_a_time_look_again_on_a_kick_and_leave_nothing_behind():
    runs, active, peak = [], [0], [0]

    async def work(sid):
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        await asyncio.sleep(0.01)
        active[0] -= 1
        runs.append(sid)
        return False

    async def main():
        tasks = PerSessionTasks(work, "test", log)
        tasks.kick("a")
        tasks.kick("b")
        await asyncio.sleep(0.005)
        for _ in range(3):
            tasks.kick("a")  # arriving while "a" runs: one more pass, not more tasks
        while len(tasks):
            await asyncio.sleep(0.005)
        return tasks

    tasks = asyncio.run(main())
    assert sorted(runs) == ["a", "a", "b"] and peak[0] == 2 and len(tasks) == 0


def test_session_locks_serialise_and_are_dropped_when_free():
    order = []

    async def hold(locks, sid, tag):
        async with locks.hold(sid):
            order.append(f"{tag}+")
            await asyncio.sleep(0.01)
            order.append(f"{tag}-")

    async def main():
        locks = SessionLocks()
        await asyncio.gather(hold(locks, "s", 1), hold(locks, "s", 2))
        return locks

    locks = asyncio.run(main())
    assert order == ["1+", "1-", "2+", "2-"] and len(locks) == 0


def test_attempts_reraise_until_the_limit_then_give_up_once():
    given_up = []

    async def fail():
        raise RuntimeError("boom")

    async def give_up(reason):
        given_up.append(reason)

    attempts = Attempts(3, log)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            asyncio.run(attempts.run("k", "step", fail, give_up))
    asyncio.run(attempts.run("k", "step", fail, give_up))
    assert given_up == ["RuntimeError"] and len(attempts) == 0


def test_atomic_write_replaces_whole_files_with_private_mode(tmp_path):
    target = tmp_path / "names.json"
    atomic_write(target, b'{"a": 1}')
    atomic_write(target, json.dumps({"b": 2}).encode())
    assert json.loads(target.read_text()) == {"b": 2}
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["names.json"]  # no temporary file left


def test_negation_is_content_for_the_citation_check():
    """The note writer's stop list used to drop "no" and "not": a rewrite that lost the negation
    passed the citation check with full support."""
    assert {"no", "not"} <= set(content_words("No chest pain, not short of breath."))
    assert support("No chest pain.", "I have chest pain.") < 1.0
    fact = Fact("s3", ("s3",), "patient", "No chest pain.", "subjective", 1.0)
    result = SectionResult()
    CitationChecker([{"id": "s3", "text": "No chest pain."}], [fact]).check_rewrite(
        json.dumps({"text": "Reports chest pain."}), fact, result, set(), fallback=True)
    assert result.kept == 0 and result.fallback == 1 and result.items[0]["text"] == "No chest pain."
    kept = SectionResult()
    CitationChecker([{"id": "s3", "text": "No chest pain."}], [fact]).check_rewrite(
        json.dumps({"text": "Denies chest pain."}), fact, kept, set(), fallback=True)
    assert kept.kept == 1


def test_one_definition_of_placeholders_sentences_and_stop_words():
    assert [m.group(1) for m in PLACEHOLDER.finditer("[PERSON_1] at [STREET_ADDRESS_2]")] == ["PERSON",
                                                                                            "STREET_ADDRESS"]
    assert split_sentences("No fever.  Any cough? Yes!") == ["No fever.", "Any cough?", "Yes!"]
    assert not (NOTE_STOP_WORDS | ALIGNMENT_STOP_WORDS) & NEGATION_WORDS
    assert is_negation("doesn't") and is_negation("Never") and not is_negation("knee")
