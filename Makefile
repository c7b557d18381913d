PYTHON ?= python

.PHONY: bench

# Front-end benchmark: markdown report on stdout, JSON in bench/results/frontend.json.
bench:
	@$(PYTHON) bench/bench_frontend.py
