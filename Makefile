# The two commands: `make run` (set up, then serve the CPU default) and `make test`.
.PHONY: setup run test bench bench-whisperx
setup:
	bash scripts/setup.sh
run: setup
	bash scripts/run.sh
test: setup
	bash scripts/test.sh
bench: setup
	. scripts/env.sh && python -m bench.perf.pii && python -m bench.perf.pipeline && python -m bench.perf.roles && python -m bench.perf.notes && python -m bench.perf.feedback
bench-whisperx: setup
	bash scripts/whisperx_env.sh && . scripts/env.sh && python -m bench.perf.whisperx_compare
