# make bench [QUICK=1]: the benchmark (tests/bench/), included by the
# top-level Makefile. QUICK=1 is a smoke run with small counts.

BENCH_BUILD  = build/bench
BENCH_OUT    = tests/bench/out
BENCH_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror
MOSQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmosquitto 2>/dev/null)
MOSQ_LIBS   := $(shell $(PKG_CONFIG) --libs libmosquitto 2>/dev/null)

bench:
	@tests/install-deps.sh gnuplot-nox procps
	$(MAKE) $(O)/gpio2mqtt $(BENCH_BUILD)/drive $(BENCH_BUILD)/echo $(BENCH_BUILD)/pulses
	tests/bench/bench.sh $(O)/gpio2mqtt $(BENCH_BUILD) $(BENCH_OUT) $(if $(QUICK),quick,full)

$(BENCH_BUILD)/%: tests/bench/%.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $(MOSQ_CFLAGS) -o $@ $< $(MOSQ_LIBS)

.PHONY: bench
