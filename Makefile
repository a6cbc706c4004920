# make bench            every script under bench/, one table of figures (bench/run_all.py)
# make bench QUICK=1    the same, shorter runs
# BENCH_ARGS="--only booking.py --markdown" passes more options to bench/run_all.py.
.PHONY: bench
bench:
	@bash -c 'source bin/_venv.sh && python bench/run_all.py $(if $(QUICK),--quick) $(BENCH_ARGS)'
