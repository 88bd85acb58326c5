# The two commands: `make run` (set up, then serve the CPU default) and `make test`.
.PHONY: setup run test bench
setup:
	bash scripts/setup.sh
run: setup
	bash scripts/run.sh
test: setup
	bash scripts/test.sh
bench: setup
	bash scripts/bench.sh
