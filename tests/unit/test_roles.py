"""Role engine without Ray: the shipped text model, voices, channels, fixed roles."""
from __future__ import annotations

import numpy as np
import pytest

from serve_app.engines.roles.engine import RoleEngine, RoleSettings
from serve_app.engines.roles.speaker_turns import split_runs
from serve_app.engines.roles.text_model import RoleTextModel, normalise

RATE = 16000
CONSULTATION = [
    ("Good morning, what brings you in today?", "doctor"),
    ("I've had a bad cough for about two weeks and it keeps me up at night.", "patient"),
    ("I'm sorry to hear that. Are you bringing up any phlegm?", "doctor"),
    ("Yes, it's sort of yellow, mostly in the mornings.", "patient"),
    ("Any fever or shortness of breath?", "doctor"),
    ("No fever, but I get a bit breathless on the stairs.", "patient"),
    ("Okay, I'd like to listen to your chest and then we'll talk about treatment.", "doctor"),
]


@pytest.fixture(scope="module")
def engine():
    return RoleEngine(RoleTextModel.load(), RoleSettings())


def test_placeholders_are_normalised_to_their_type():
    assert "xxpersonxx" in normalise("Hello [PERSON_12], I'm Dr [PERSON_1]")
    assert "12" not in normalise("Hello [PERSON_12]")


def test_text_model_labels_a_consultation_and_marks_confidence(engine):
    out = engine.label([], [{"text": t, "role": None} for t, _ in CONSULTATION])
    roles = [s["role"] for s in out["segments"]]
    assert roles == [r for _, r in CONSULTATION]
    for seg in out["segments"]:
        assert seg["role_source"] == "model" and 0.5 <= seg["role_confidence"] <= 1.0
        assert seg["role_uncertain"] == (seg["role_confidence"] < 0.7)


def test_short_answer_takes_its_role_from_the_question_before_it(engine):
    # "Two weeks." alone says little; after a doctor's question it is the patient's answer.
    out = engine.label([], [{"text": "How long have you had the pain in your knee?", "role": None},
                            {"text": "Two weeks.", "role": None}])
    assert [s["role"] for s in out["segments"]] == ["doctor", "patient"]
    model = RoleTextModel.load()
    alone = model.predict(["Two weeks."])[0]
    after = model.predict(["How long have you had the pain in your knee?", "Two weeks."])[1]
    assert alone - after > 0.3, (alone, after)  # the question before it moves it towards the patient


def test_client_roles_are_kept_even_against_the_model(engine):
    out = engine.label([], [{"text": "What brings you in today?", "role": "patient", "role_source": "client"}])
    seg = out["segments"][0]
    assert seg["role"] == "patient" and seg["role_source"] == "client" and seg["role_confidence"] == 1.0


def test_earlier_roles_are_revised_but_corrections_never(engine):
    context = [
        {"id": "s0", "text": "How long have you had the pain in your knee?", "role": "doctor",
         "role_confidence": 0.97, "role_source": "model"},
        {"id": "s1", "text": "Two weeks.", "role": "doctor", "role_confidence": 0.55, "role_source": "model"},
        {"id": "s2", "text": "Yes.", "role": "doctor", "role_confidence": 1.0, "role_source": "clinician"},
    ]
    out = engine.label(context, [{"text": "Okay, and has the pain got worse since then?", "role": None}])
    assert "s2" not in out["revisions"] and "s0" not in out["revisions"]
    assert out["revisions"]["s1"]["role"] == "patient"


def _tone_words(pitches, word_s=0.4, gap_s=0.1):
    """Harmonic 'words' at the given pitches, one after another; returns samples and word dicts."""
    t = np.arange(int(word_s * RATE)) / RATE
    parts, words, now = [], [], 0.0
    rng = np.random.default_rng(0)
    for i, f0 in enumerate(pitches):
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * np.hanning(t.size)
        parts += [0.1 * wave + 0.001 * rng.standard_normal(t.size), np.zeros(int(gap_s * RATE))]
        words.append({"text": f"w{i}", "start": round(now, 3), "end": round(now + word_s, 3)})
        now += word_s + gap_s
    return np.concatenate(parts).astype(np.float32), words


def test_a_segment_is_split_where_the_voice_changes(engine):
    low, high = [100 + 3 * (i % 4) for i in range(12)], [230 + 4 * (i % 3) for i in range(12)]
    samples, words = _tone_words(low + high + low)
    doc_words, pat_words, doc2_words = words[:12], words[12:24], words[24:]
    segs = [
        {"text": "Hello, what brings you in today? Tell me about the pain.", "role": None, "words": doc_words},
        {"text": "I have had a sore knee for two weeks and it hurts when I walk.", "role": None,
         "words": pat_words},
        # one Whisper segment holding both voices: the patient's answer and the doctor's next question
        {"text": " ".join(w["text"] for w in pat_words[:6] + doc2_words[:6]), "role": None,
         "words": [dict(w) for w in pat_words[:6]] + doc2_words[:6]},
    ]
    # the mixed segment re-uses the patient's audio for its first half
    engine.attach_audio(segs, samples[None, :], RATE, 0.0)
    out = engine.label([], segs)
    parts = out["segments"]
    assert len(parts) == 4, [p["text"] for p in parts]
    assert [p["role"] for p in parts] == ["doctor", "patient", "patient", "doctor"]
    assert parts[2]["text"] == " ".join(w["text"] for w in pat_words[:6])
    assert parts[3]["start"] == doc2_words[0]["start"]


def test_channel_map_gives_roles_without_inference_and_splits_at_changes(engine):
    samples, words = _tone_words([150] * 8)
    stereo = np.zeros((2, samples.size), dtype=np.float32)
    cut = int(words[4]["start"] * RATE)
    stereo[1, :cut], stereo[0, cut:] = samples[:cut], samples[cut:]  # patient (ch 1) then doctor (ch 0)
    seg = {"text": " ".join(w["text"] for w in words), "role": None, "words": words}
    engine.attach_audio([seg], stereo, RATE, 0.0)
    out = engine.label([], [seg], channels={"0": "doctor", "1": "patient"})
    parts = out["segments"]
    assert [(p["role"], p["role_source"]) for p in parts] == [("patient", "channel"), ("doctor", "channel")]
    assert parts[0]["text"] == "w0 w1 w2 w3" and parts[1]["role_confidence"] > 0.99


def test_short_runs_do_not_split_a_segment():
    times = [(i * 0.5, i * 0.5 + 0.4) for i in range(10)]
    p0 = np.array([0.9] * 4 + [0.1] + [0.9] * 5)  # one odd word
    assert split_runs(p0, times) == [(0, 10)]
    p0 = np.array([0.9] * 5 + [0.05] * 5)
    assert split_runs(p0, times) == [(0, 5), (5, 10)]
