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

