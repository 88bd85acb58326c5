"""Which words are committed across chunk boundaries (no model needed)."""
from serve_app.engines.asr.protocol import Word, segment_from_words
from serve_app.engines.asr.streaming import decide_commit


def seg(*words):
    return segment_from_words([Word(t, s, e) for t, s, e in words])


S1 = seg((" He", 0.1, 0.4), (" hoped", 0.4, 0.9))
S2 = seg((" there", 1.3, 1.6), (" would", 1.6, 1.9))


def test_words_near_the_end_are_held_back():
    d = decide_commit([S1, S2], 0.0, 2.0, holdback_s=1.0, max_tail_s=12, final=False)
    assert [s.text for s in d.segments] == ["He hoped"]
    assert 0.9 <= d.cursor <= 1.3  # inside the pause before "there"


def test_final_commits_everything():
    d = decide_commit([S1, S2], 0.0, 2.0, 1.0, 12, final=True)
    assert [s.text for s in d.segments] == ["He hoped", "there would"] and d.cursor == 2.0


def test_no_cut_without_a_pause():
    tight = seg((" out", 0.1, 0.9))
    nxt = seg((" in", 0.9, 1.2), (" thick", 1.2, 3.0))
    d = decide_commit([tight, nxt], 0.0, 3.5, 1.0, 12, final=False)
    assert d.segments == [] and d.cursor == 0.0


def test_long_tail_commits_word_by_word_at_a_pause():
    words = [(f" w{i}", i * 1.0, i * 1.0 + 0.6) for i in range(15)]
    d = decide_commit([seg(*words)], 0.0, 15.0, 1.0, max_tail_s=12, final=False)
    committed = [w.text for s in d.segments for w in s.words]
    assert committed == [f" w{i}" for i in range(14)]
    assert 13.6 <= d.cursor <= 14.0


def test_silence_only_moves_the_cursor_but_keeps_the_holdback():
    d = decide_commit([], 4.0, 10.0, 1.0, 12, final=False)
    assert d.segments == [] and d.cursor == 9.0


def test_cursor_never_moves_back():
    d = decide_commit([S1, S2], 0.5, 2.0, 1.0, 12, final=False)
    assert d.cursor >= 0.5


def test_held_back_words_are_pending_and_committed_ones_are_not():
    d = decide_commit([S1, S2], 0.0, 2.0, holdback_s=1.0, max_tail_s=12, final=False)
    assert [w.text for w in d.pending] == [" there", " would"]
    assert all(w.start >= d.cursor for w in d.pending)


def test_nothing_is_pending_after_the_final_pass_or_in_silence():
    assert decide_commit([S1, S2], 0.0, 2.0, 1.0, 12, final=True).pending == []
    assert decide_commit([], 0.0, 2.0, 1.0, 12, final=False).pending == []


def test_every_word_is_pending_when_nothing_can_be_committed_yet():
    tight = seg((" out", 0.1, 0.9))
    nxt = seg((" in", 0.9, 1.2), (" thick", 1.2, 3.0))
    d = decide_commit([tight, nxt], 0.0, 3.5, 1.0, 12, final=False)
    assert d.segments == [] and [w.text for w in d.pending] == [" out", " in", " thick"]


def _words(*texts, start=0.0, step=0.5):
    return [Word(f" {t}", start + i * step, start + i * step + 0.4) for i, t in enumerate(texts)]


def test_words_two_passes_agree_on_commit_before_the_segment_ends():
    before = _words("my", "knee", "hurts")  # the previous pass's uncommitted words
    now = seg(*[(w.text, w.start, w.end) for w in _words("my", "knee", "hurts", "when", "i", "walk")])
    alone = decide_commit([now], 0.0, 3.5, 1.0, max_tail_s=12, final=False)
    assert alone.segments == []  # one long open segment: nothing commits without agreement
    d = decide_commit([now], 0.0, 3.5, 1.0, max_tail_s=12, final=False, previous=before)
    assert [w.text for s in d.segments for w in s.words] == [" my", " knee", " hurts"]
    assert [w.text for w in d.pending] == [" when", " i", " walk"]
    assert 1.4 <= d.cursor <= 1.5  # between "hurts" and "when"


def test_agreement_stops_at_the_first_difference_and_at_the_held_back_tail():
    now = seg(*[(w.text, w.start, w.end) for w in _words("my", "knee", "hurts", "when", "i", "walk")])
    d = decide_commit([now], 0.0, 3.5, 1.0, 12, False, previous=_words("My,", "need", "hurts"))
    assert [w.text for s in d.segments for w in s.words] == [" my"]  # case and punctuation aside, same word
    d = decide_commit([now], 0.0, 2.0, 1.0, 12, False, previous=_words("my", "knee", "hurts", "when", "i", "walk"))
    assert all(w.end <= 1.0 for s in d.segments for w in s.words)  # nothing after end - holdback commits


def test_a_lone_punctuation_word_decoded_from_silence_is_not_a_segment():
    from serve_app.engines.asr.streaming import segments_after

    raw = [seg((" sauce.", 0.0, 0.5)), seg((" .", 1.0, 1.2)), seg((" 40", 1.3, 1.5), (" -", 1.5, 1.6), (" été", 1.6, 1.9))]
    out = segments_after(raw, 10.0, 10.0)
    assert [[w.text for w in s.words] for s in out] == [[" sauce."], [" 40", " été"]]
    assert out[1].start == 11.3 and out[0].end == 10.5


def _sure(*words):  # (text, start, end, probability)
    return segment_from_words([Word(t, s, e, p) for t, s, e, p in words])


def test_words_whisper_is_sure_of_commit_at_once_up_to_the_first_unsure_one():
    open_segment = _sure((" the", 0.0, 0.3, 0.95), (" cough", 0.3, 0.8, 0.9), (" started", 0.8, 1.2, 0.4),
                         (" Monday", 1.2, 1.6, 0.99), (" night", 1.75, 1.95, 0.99))
    off = decide_commit([open_segment], 0.0, 2.0, 0.3, 12, final=False)
    on = decide_commit([open_segment], 0.0, 2.0, 0.3, 12, final=False, confident=0.7)
    assert off.segments == []  # one open segment, a short tail: without the gate everything waits
    assert [w.text for s in on.segments for w in s.words] == [" the", " cough"]  # not past the unsure word
    assert on.cursor == 0.8 and [w.text for w in on.pending] == [" started", " Monday", " night"]


def test_a_sure_word_in_the_held_back_tail_still_waits_and_overlaps_back_off():
    tail = _sure((" ache", 0.0, 0.5, 0.99), (" in", 0.5, 1.0, 0.99), (" chest", 1.85, 2.0, 0.99))
    d = decide_commit([tail], 0.0, 2.0, 0.3, 12, final=False, confident=0.7)
    assert [w.text for s in d.segments for w in s.words] == [" ache", " in"]  # "chest" ends in the last 0.3 s
    overlapping = _sure((" ache", 0.0, 0.6, 0.99), (" in", 0.5, 1.0, 0.2), (" chest", 1.8, 2.0, 0.9))
    d = decide_commit([overlapping], 0.0, 2.0, 0.3, 12, final=False, confident=0.7)
    assert d.segments == []  # the next word starts inside "ache": no cut there


def test_boundary_rule_commits_all_but_the_last_word_decoded_even_inside_the_held_back_tail():
    from serve_app.engines.asr.streaming import BoundaryRule

    words = _sure((" the", 0.0, 0.3, 0.95), (" cough", 0.3, 0.8, 0.9), (" started", 1.5, 1.75, 0.6),
                  (" Mon", 1.8, 2.0, 0.5))
    off = decide_commit([words], 0.0, 2.0, 0.3, 12, final=False)
    on = decide_commit([words], 0.0, 2.0, 0.3, 12, final=False, boundary=BoundaryRule())
    assert off.segments == []
    # "started" ends in the last 0.3 s but a word follows it: only "Mon", which the boundary may cut, waits
    assert [w.text for s in on.segments for w in s.words] == [" the", " cough", " started"]
    assert 1.75 <= on.cursor <= 1.8 and [w.text for w in on.pending] == [" Mon"]
    unsure = decide_commit([words], 0.0, 2.0, 0.3, 12, final=False, boundary=BoundaryRule(min_probability=0.7))
    assert [w.text for s in unsure.segments for w in s.words] == [" the", " cough"]  # stops at "started" (0.6)


def test_boundary_rule_commits_the_last_word_once_the_buffer_runs_on_after_it():
    from serve_app.engines.asr.streaming import BoundaryRule

    words = _sure((" my", 0.0, 0.3, 0.9), (" knee", 0.3, 1.7, 0.9))
    near = decide_commit([words], 0.0, 1.85, 0.3, 12, final=False, boundary=BoundaryRule(last_gap_s=0.2))
    assert [w.text for s in near.segments for w in s.words] == [" my"]  # 0.15 s after "knee": it waits
    far = decide_commit([words], 0.0, 2.0, 0.3, 12, final=False, boundary=BoundaryRule(last_gap_s=0.2))
    assert [w.text for s in far.segments for w in s.words] == [" my", " knee"] and far.pending == []
    assert 1.7 <= far.cursor <= 2.0
