# SPDX-License-Identifier: MIT
# libFuzzer harnesses, included by the top-level Makefile.
#
#   make fuzz                    build and run each harness for FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=600   longer
#   make fuzz-build              build only (build/fuzz/fuzz_NAME)
#
# Each harness starts from a temporary copy of tests/fuzz/corpus/NAME, so a
# run never adds files to the repository. Inputs kept under
# tests/fuzz/regressions/NAME are replayed first. A crash, a leak, a timeout
# or a sanitizer report fails the target; the input is saved under
# build/fuzz/artifacts/. tests/fuzz/regressions/open holds inputs of known,
# unfixed problems, not replayed (see the README there).

FUZZ_CC      ?= clang
FUZZ_TOOLS    = clang libclang-rt-dev
FUZZ_SECONDS ?= 60
FUZZ_O        = build/fuzz
FUZZ_NAMES    = payload config topic_table
FUZZ_BINS     = $(addprefix $(FUZZ_O)/fuzz_,$(FUZZ_NAMES))
FUZZ_SANITIZE = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags libconfig libcjson 2>/dev/null)
FUZZ_PKG_LIBS   := $(shell $(PKG_CONFIG) --libs libconfig libcjson 2>/dev/null)
# The module each harness drives.
FUZZ_SRC_payload = daemon/payload.c
FUZZ_SRC_config  = daemon/config.c daemon/config_lines.c daemon/config_checks.c daemon/config_read.c daemon/config_mqtt.c daemon/config_ha.c \
                   daemon/template.c daemon/hints.c daemon/topics.c
FUZZ_SRC_topic_table = daemon/topic_table.c

# The tools first, in a make of its own: pkg-config's flags are read when
# make starts.
fuzz:
	@tests/install-deps.sh $(FUZZ_TOOLS)
	$(MAKE) fuzz-run

fuzz-run: fuzz-build
	@failed=""; for name in $(FUZZ_NAMES); do \
		tests/fuzz/run.sh "$$name" $(FUZZ_O)/fuzz_$$name $(FUZZ_SECONDS) || failed="$$failed $$name"; \
	done; [ -z "$$failed" ] || { echo "fuzz: FAILED:$$failed" >&2; exit 1; }

fuzz-build: $(FUZZ_BINS)

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c daemon/*.c daemon/*.h | $(FUZZ_O)/
	$(FUZZ_CC) $(CPPFLAGS) -Idaemon $(FUZZ_PKG_CFLAGS) $(CFLAGS) $(FUZZ_SANITIZE) -o $@ \
		$< $(FUZZ_SRC_$*) $(FUZZ_PKG_LIBS)

$(FUZZ_O)/:
	mkdir -p $@

fuzz-clean:
	rm -rf $(FUZZ_O)

.PHONY: fuzz fuzz-run fuzz-build fuzz-clean
