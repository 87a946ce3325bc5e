# SPDX-License-Identifier: MIT
# Memory and undefined-behaviour checks, included by the top-level Makefile.
#
#   make sanitize-check   the daemon and the unit tests built with
#                         AddressSanitizer (leak detection on) and
#                         UndefinedBehaviorSanitizer: the unit tests on this
#                         machine, then the integration tests in the test
#                         kernel; any sanitizer report fails the test
#   make valgrind-check   the integration tests with the daemon under
#                         valgrind memcheck: no error, no definite or
#                         indirect leak (VALGRIND_TESTS="test-x.sh ..." to
#                         pick some)
#
# AddressSanitizer needs the test kernel's 4-level page tables (see
# tests/uml/build-kernel.sh): its x86_64 runtime puts shadow memory at fixed
# addresses up to 0x10007fff7fff, beyond the 512 GiB that 3-level UML kernels
# give a process.

SANITIZE_CC   ?= clang
SANITIZE_TOOLS = clang libclang-rt-dev
ASAN_O         = build/asan
ASAN_FLAGS     = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
VALGRIND_O     = build/valgrind
# Every integration test that starts the daemon but the soak test: valgrind's
# own memory makes its RSS check meaningless, and test-lifecycle covers the
# same reconnection code.
VALGRIND_TESTS ?= $(notdir $(filter-out %/test-soak.sh,$(shell \
	grep -l -e daemon_start -e '"$$GPIO2MQTT"' tests/integration/test-*.sh)))

# The flags go through the environment: on make's command line, CFLAGS would
# replace the warning flags the Makefile adds instead of coming before them.
sanitize-check: deps
	@tests/install-deps.sh $(SANITIZE_TOOLS)
	CFLAGS="-O1 -g $(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(MAKE) CC=$(SANITIZE_CC) O=$(ASAN_O) $(ASAN_O)/gpio2mqtt unit-check
	tests/memcheck/run.sh sanitizer $(ASAN_O)/gpio2mqtt

valgrind-check: deps
	@tests/install-deps.sh valgrind
	$(MAKE) O=$(VALGRIND_O) $(VALGRIND_O)/gpio2mqtt
	tests/memcheck/run.sh valgrind $(VALGRIND_O)/gpio2mqtt $(VALGRIND_TESTS)

sanitize-clean:
	rm -rf $(ASAN_O) $(VALGRIND_O)

.PHONY: sanitize-check valgrind-check sanitize-clean
