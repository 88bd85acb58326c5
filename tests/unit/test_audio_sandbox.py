"""Uploads are decoded in a bounded child process: a decoder that crashes, hogs memory or spins costs
a typed 422 and a new worker, never the replica (no Ray)."""
from __future__ import annotations

import asyncio
import os
import time

import pytest

from bench.harness.fakes.asr import encoded_wav
from serve_app.engines.audio_sandbox import DecoderSandbox, probe_audio
from serve_app.errors import InvalidAudio, PayloadTooLarge, UnsupportedMediaType


def crash(*_):
    os.abort()  # a crash in native code


def hog(*_):
    return len(bytearray(4 << 30))  # 4 GiB, far past the limit


def spin(*_):
    while True:
        pass


def worker_pid(*_):
    return os.getpid()


def run(sandbox, *args):
    return asyncio.run(sandbox.run(*args))


def test_a_good_chunk_is_probed_and_typed_errors_come_back_as_themselves():
    sandbox = DecoderSandbox()
    try:
        assert run(sandbox, encoded_wav(1, 3), "audio/wav", 30.0) == (3.0, 1)
        with pytest.raises(PayloadTooLarge) as too_long:
            run(sandbox, encoded_wav(1, 5), "audio/wav", 2.0)
        assert too_long.value.code == "chunk_too_long"
        with pytest.raises(UnsupportedMediaType):
            run(sandbox, b"RIFF", "video/mp4", 30.0)
        with pytest.raises(InvalidAudio):
            run(sandbox, b"RIFF\x00\x00garbage", "audio/wav", 30.0)
        assert sandbox.restarts == 0
    finally:
        sandbox.close()


@pytest.mark.parametrize("fn, code", [(crash, "undecodable_audio"), (hog, "decode_memory"),
                                      (spin, "decode_timeout")])
def test_a_crashing_hogging_or_spinning_decoder_is_a_422_and_the_next_upload_works(fn, code):
    sandbox = DecoderSandbox(memory_mb=512, timeout_s=3.0, fn=fn)
    try:
        started = time.monotonic()
        with pytest.raises(InvalidAudio) as err:
            run(sandbox, b"x", "audio/wav", 30.0)
        assert err.value.code == code and err.value.status_code == 422
        assert time.monotonic() - started < 60  # bounded, not a hang
        sandbox.fn = probe_audio
        assert run(sandbox, encoded_wav(1, 2), "audio/wav", 30.0) == (2.0, 1)  # a fresh worker if needed
    finally:
        sandbox.close()


def test_the_decoder_runs_in_another_process_with_its_memory_capped():
    sandbox = DecoderSandbox(memory_mb=512, fn=worker_pid)
    try:
        assert run(sandbox) != os.getpid()
    finally:
        sandbox.close()
