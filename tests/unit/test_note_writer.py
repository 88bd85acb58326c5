"""Candidate facts, prompts, citation validation/repair and the note writer, with a fake engine."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bench.harness.fakes.notes import FakeNoteEngine
from serve_app.engines.notes.citations import CitationChecker, SectionResult, support
from serve_app.engines.notes.facts import FactExtractor
from serve_app.engines.notes.openai_engine import OpenAINoteEngine
from serve_app.engines.notes.prompt import PromptBuilder
from serve_app.engines.notes.schema import Note, section_schema
from serve_app.engines.notes.writer import NoteWriter, WriterSettings

pytestmark = pytest.mark.unit

SEGMENTS = [
    {"id": "s0", "role": "doctor", "text": "Hi [PERSON_1], how are you?"},
    {"id": "s1", "role": "patient", "text": "Okay."},
    {"id": "s2", "role": "patient", "text": "I've had a sharp pain in my lower back for four days since golfing."},
    {"id": "s3", "role": "doctor", "text": "Any numbness or tingling in your legs?"},
    {"id": "s4", "role": "patient", "text": "No, none at all."},
    {"id": "s5", "role": "doctor", "text": "On exam, your blood pressure is 130 over 80 and there is tenderness over the lumbar spine."},
    {"id": "s6", "role": "doctor", "text": "I think this is consistent with a lumbar strain."},
    {"id": "s7", "role": "doctor", "text": "I'm going to prescribe meloxicam 15 mg once a day and refer you to physical therapy."},
    {"id": "s8", "role": "patient", "text": "Mm-hmm."},
]


def test_facts_land_in_the_right_sections_with_their_segments():
    facts = FactExtractor().extract(SEGMENTS)
    by_id = {s: [f.segment_ids for f in facts[s]] for s in facts}
    assert ("s2",) in by_id["subjective"]
    assert ("s3", "s4") in by_id["subjective"]  # a question and its short answer stay together
    assert ("s5",) in by_id["objective"]
    assert ("s6",) in by_id["assessment"]
    assert ("s7",) in by_id["plan"]
    cited = {i for s in facts for f in facts[s] for i in f.segment_ids}
    assert not cited & {"s0", "s1", "s8"}  # greetings and fillers are not facts


def test_prompt_holds_only_masked_facts_and_the_section():
    builder = PromptBuilder()
    facts = FactExtractor().extract(SEGMENTS)
    messages = builder.section_messages("plan", facts["plan"])
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
    assert "[s7] doctor: I'm going to prescribe meloxicam" in messages[-1]["content"]
    assert "PLAN" in messages[-1]["content"]
    fact_msgs = builder.fact_messages("subjective", facts["subjective"][0])
    assert "Sentence: patient: I've had a sharp pain" in fact_msgs[-1]["content"]
    assert fact_msgs[1]["role"] == "user" and fact_msgs[2]["role"] == "assistant"  # few-shot examples


def test_section_schema_limits_citations_to_shown_ids():
    schema = section_schema(["s2", "s5"], max_items=4, max_chars=100)
    item = schema["properties"]["items"]
    assert item["maxItems"] == 4
    assert item["items"]["properties"]["citations"]["items"]["enum"] == ["s2", "s5"]
    assert item["items"]["properties"]["text"]["maxLength"] == 100


def _checker():
    facts = FactExtractor().extract(SEGMENTS)
    return CitationChecker(SEGMENTS, [f for s in facts for f in facts[s]], min_support=0.5)


def test_citations_are_validated_repaired_or_dropped():
    raw = json.dumps({"items": [
        {"text": "Lower back pain for four days after golfing.", "citations": ["s2"]},        # kept
        {"text": "Prescribe meloxicam 15 mg once a day.", "citations": ["s99"]},             # bad id -> repaired
        {"text": "Lumbar strain.", "citations": ["s0"]},                                       # unsupported -> repaired
        {"text": "Patient has a history of asthma and takes an inhaler.", "citations": ["s2"]},  # invented -> dropped
        {"text": "Lower back pain for four days after golfing.", "citations": ["s2"]},        # repeat -> dropped
        {"text": "   ", "citations": ["s2"]},                                                 # empty -> dropped
    ]})
    result = _checker().check(raw)
    texts = [i["text"] for i in result.items]
    assert texts == ["Lower back pain for four days after golfing.", "Prescribe meloxicam 15 mg once a day.",
                     "Lumbar strain."]
    assert result.items[1]["citations"] == ["s7"] and result.items[2]["citations"] == ["s6"]
    assert (result.kept, result.repaired, result.dropped, result.bad_citations) == (1, 2, 3, 1)


@pytest.mark.parametrize("raw", ["", "not json", '{"items": "x"}', '{"text": "x"}', "[1, 2]"])
def test_bad_outputs_give_an_empty_invalid_section(raw):
    result = _checker().check(raw)
    assert result.items == [] and not result.schema_valid


def test_rewrite_that_drifts_from_its_fact_is_dropped():
    facts = FactExtractor().extract(SEGMENTS)
    plan = facts["plan"][0]
    checker, result, seen = _checker(), SectionResult(), set()
    checker.check_rewrite('{"text": "Prescribe meloxicam 15 mg daily; refer to physical therapy."}', plan, result, seen)
    checker.check_rewrite('{"text": "Start insulin glargine 10 units nightly."}', plan, result, seen)
    checker.check_rewrite('{"oops": 1}', plan, result, seen)
    assert [i["citations"] for i in result.items] == [["s7"]]
    assert result.dropped == 2 and not result.schema_valid
    assert support("meloxicam daily", "prescribe meloxicam 15 mg once a day") == 0.5
    fallback, seen = SectionResult(), set()
    checker.check_rewrite('{"text": "Start insulin glargine 10 units nightly."}', plan, fallback, seen, fallback=True)
    checker.check_rewrite(None, plan, fallback, seen, fallback=True)  # same fact again: not repeated
    assert [(i["text"], i["citations"]) for i in fallback.items] == [(plan.text, ["s7"])]
    assert (fallback.fallback, fallback.dropped, fallback.answers, fallback.answers_valid) == (1, 1, 2, 1)


@pytest.mark.parametrize("mode", ["fact", "section"])
def test_writer_produces_a_schema_valid_note_with_existing_citations(mode):
    engine = FakeNoteEngine()
    writer = NoteWriter(engine, settings=WriterSettings(mode=mode))
    out = asyncio.run(writer.write(SEGMENTS))
    note = Note.model_validate(out["note"])
    ids = {s["id"] for s in SEGMENTS}
    assert all(set(item.citations) <= ids for _, item in note.items())
    assert [item.id for _, item in note.items()] == [f"n{i}" for i in range(len(note.items()))]
    assert {s for s, _ in note.items()} == {"subjective", "objective", "assessment", "plan"}
    assert out["stats"]["sections_schema_valid"] == 4
    prompts = " ".join(m["content"] for r in engine.requests for m in r["messages"])
    assert "Hi [PERSON_1]" not in prompts  # only candidate facts reach the model


def test_fact_mode_only_asks_about_new_facts_on_an_update():
    engine = FakeNoteEngine()
    writer = NoteWriter(engine)
    asyncio.run(writer.write(SEGMENTS[:5]))
    first = len(engine.requests)
    asyncio.run(writer.write(SEGMENTS))
    assert 0 < len(engine.requests) - first < first + 3  # s5..s7 only
    assert all("meloxicam" in r["messages"][-1]["content"] or "lumbar" in r["messages"][-1]["content"].lower()
               or "blood pressure" in r["messages"][-1]["content"] for r in engine.requests[first:])


def test_section_answer_citing_unknown_ids_is_repaired_or_dropped():
    answers = {"plan": json.dumps({"items": [{"text": "Meloxicam 15 mg once a day.", "citations": ["s42"]},
                                             {"text": "Colonoscopy next year.", "citations": ["s7"]}]})}
    writer = NoteWriter(FakeNoteEngine(section_answers=answers), settings=WriterSettings(mode="section"))
    note = asyncio.run(writer.write(SEGMENTS))["note"]
    assert [(i["text"], i["citations"]) for i in note["plan"]] == [("Meloxicam 15 mg once a day.", ["s7"])]


def test_openai_backend_sends_the_schema_and_reads_the_answer(monkeypatch):
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"choices": [{"message": {"content": '{"text": "ok"}'}}]})

    monkeypatch.setenv("NOTE_LLM_KEY", "k-123")
    engine = OpenAINoteEngine("http://llm.test/v1/", "big-model", api_key_env="NOTE_LLM_KEY",
                              transport=httpx.MockTransport(handler))
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    answer = asyncio.run(engine.complete([{"role": "user", "content": "hi"}], schema, 50))
    assert answer == '{"text": "ok"}'
    assert seen["url"] == "http://llm.test/v1/chat/completions" and seen["auth"] == "Bearer k-123"
    assert seen["body"]["response_format"]["json_schema"]["schema"] == schema
    assert seen["body"]["model"] == "big-model" and seen["body"]["max_tokens"] == 50
