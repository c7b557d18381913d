PYTHON ?= python
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-docs bench-frontend

# The benchmark harness (bench/run.py): mlp against its peers in one run.
# Markdown report on stdout and in bench/results/run.md, raw timings in
# bench/results/run.json, plot in bench/results/benchmarks.png.
# Extra options: make bench BENCH_ARGS="--sizes 100,1000 --skip-peers"
bench:
	@$(PYTHON) bench/run.py $(BENCH_ARGS)

# Small sizes, few repeats (about a minute without the peers).
bench-quick:
	@$(PYTHON) bench/run.py --quick $(BENCH_ARGS)

# A full run that also updates docs/benchmarks.md (between its markers) and docs/img/benchmarks.png.
bench-docs:
	@$(PYTHON) bench/run.py --write-docs $(BENCH_ARGS)

# The front end alone: bench/results/frontend.json.
bench-frontend:
	@$(PYTHON) bench/bench_frontend.py
