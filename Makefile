# The two commands: `make run` (set up, then serve the CPU default) and `make test`.
.PHONY: setup run test test-whisperx bench bench-whisperx
setup:
	bash scripts/setup.sh
run: setup
	bash scripts/run.sh
test: setup
	bash scripts/test.sh
bench: setup
	. scripts/env.sh && python -m bench.perf.pii && python -m bench.perf.pipeline && python -m bench.perf.roles && python -m bench.perf.notes && python -m bench.perf.feedback
test-whisperx: setup  # opt-in: WhisperX's own virtualenv (about 8 GB), then its test tier
	bash scripts/whisperx_env.sh && . scripts/env.sh && python -m pytest tests/whisperx -q -p no:cacheprovider -s
bench-whisperx: setup
	bash scripts/whisperx_env.sh && . scripts/env.sh && python -m bench.perf.whisperx_compare && python -m bench.perf.asr_backends
