# The two commands: `make run` (set up, then serve the CPU default) and `make test`.
.PHONY: setup run test bench
setup:
	bash scripts/setup.sh
run: setup
	bash scripts/run.sh
test: setup
	bash scripts/test.sh
bench: setup
	. scripts/env.sh && python -m bench.bench_pii && python -m bench.bench_pipeline && python -m bench.bench_roles && python -m bench.bench_notes && python -m bench.bench_feedback
