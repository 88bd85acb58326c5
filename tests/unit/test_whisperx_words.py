"""WhisperX's aligned output as the engine protocol's segments (no WhisperX needed: its output shape)."""
from __future__ import annotations

from serve_app.engines.asr.whisperx_engine import interpolate_missing, segments_from_aligned


def test_words_whisperx_could_not_align_share_the_gap_between_their_neighbours():
    words = [{"word": "took", "start": 1.0, "end": 1.2}, {"word": "20"}, {"word": "mg"},
             {"word": "daily", "start": 2.0, "end": 2.4}]
    filled = interpolate_missing(words, 0.5, 3.0)
    assert [(w["start"], w["end"]) for w in filled[1:3]] == [(1.2, 1.6), (1.6, 2.0)]
    assert "start" not in words[1]  # the input is left alone
    # unaligned at either end: the region's bounds
    edge = interpolate_missing([{"word": "5"}, {"word": "days", "start": 1.0, "end": 1.5}, {"word": "%"}], 0.0, 2.0)
    assert [(w["start"], w["end"]) for w in edge] == [(0.0, 1.0), (1.0, 1.5), (1.5, 2.0)]


def test_aligned_regions_become_segments_with_whispers_leading_space():
    regions = [{"start": 0.0, "end": 2.0, "text": " Take two tablets.",
                "words": [{"word": "Take", "start": 0.1, "end": 0.4, "score": 0.9},
                          {"word": "two", "start": 0.5, "end": 0.7, "score": 0.8},
                          {"word": "tablets.", "start": 0.8, "end": 1.3, "score": 0.95}]},
               {"start": 2.5, "end": 3.0, "text": " ", "words": []}]  # a region with no words is dropped
    [seg] = segments_from_aligned(regions)
    assert seg.text == "Take two tablets." and (seg.start, seg.end) == (0.1, 1.3)
    assert [w.text for w in seg.words] == [" Take", " two", " tablets."]
    assert [w.probability for w in seg.words] == [0.9, 0.8, 0.95]



def test_with_a_local_alignment_model_the_engine_uses_whisperxs_own_alignment(monkeypatch):
    """``align_model`` set: WhisperX's ``align`` on the VAD regions, local files only, and its words (one
    it could not align included) come back as segments; Whisper's cross-attention path is not taken.
    A stand-in ``whisperx`` module records the calls (the real one lives in its own virtualenv)."""
    import sys
    import types

    import numpy as np

    from serve_app.engines.asr.whisperx_engine import WhisperXEngine

    calls = {}

    class Pipeline:
        def transcribe(self, audio, batch_size, language, chunk_size):
            calls["transcribe"] = (audio.shape, batch_size, language, chunk_size)
            return {"segments": [{"start": 0.2, "end": 1.4, "text": " Take 20 mg."}, {"start": 1.5, "end": 1.9,
                                                                                     "text": " "}]}

    def load_model(path, device, **kwargs):
        calls["load_model"] = (path, device, kwargs["local_files_only"], kwargs["vad_method"])
        return Pipeline()

    def load_align_model(language_code, device, model_name):
        calls["load_align_model"] = (language_code, device, model_name)
        return "wav2vec2", {"language": language_code}

    def align(regions, model, metadata, audio, device, return_char_alignments):
        calls["align"] = ([r["text"] for r in regions], model, device)
        return {"segments": [{"start": 0.2, "end": 1.4, "words": [
            {"word": "Take", "start": 0.25, "end": 0.5, "score": 0.9}, {"word": "20"},
            {"word": "mg.", "start": 0.9, "end": 1.3, "score": 0.7}]}]}

    fake = types.SimpleNamespace(load_model=load_model, load_align_model=load_align_model, align=align)
    monkeypatch.setitem(sys.modules, "whisperx", fake)
    import torch

    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.setdefault("threads", n))
    engine = WhisperXEngine("/models/tiny.en", align_model="/models/wav2vec2-base-960h", chunk_size_s=4)
    [seg] = engine.transcribe(np.zeros(32000, dtype=np.float32))
    assert calls["load_model"] == ("/models/tiny.en", "cpu", True, "pyannote")
    assert calls["load_align_model"] == ("en", "cpu", "/models/wav2vec2-base-960h")
    assert calls["align"] == ([" Take 20 mg."], "wav2vec2", "cpu")  # the empty region is not aligned
    assert calls["transcribe"][3] == 4 and calls["threads"] == 1
    assert [(w.text, w.start, w.end) for w in seg.words] == [(" Take", 0.25, 0.5), (" 20", 0.5, 0.9),
                                                             (" mg.", 0.9, 1.3)]
