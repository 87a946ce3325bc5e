# Memory and undefined-behaviour checks, included by the top-level Makefile.
#
#   make sanitize-check   unit tests built with AddressSanitizer and
#                         UndefinedBehaviorSanitizer, on this machine; then the
#                         integration tests with the daemon built with
#                         UndefinedBehaviorSanitizer, in the test kernel
#   make valgrind-check   the integration tests with the daemon under
#                         valgrind memcheck: no error, no definite or
#                         indirect leak (VALGRIND_TESTS="test-x.sh ..." to
#                         pick some)
#
# Why not AddressSanitizer inside the test kernel: User-Mode Linux 6.12 gives
# its processes 512 GiB of address space (3-level page tables), and the
# x86_64 ASan runtime needs its fixed 47-bit layout (shadow memory from
# 0x7fff8000 up to 0x10007fff7fff, allocator at 0x600000000000); it aborts
# with "Shadow memory range interleaves with an existing memory mapping".
# valgrind-check covers memory errors and leaks of the daemon there instead.

SANITIZE_CC   ?= clang
SANITIZE_TOOLS = clang libclang-rt-dev
ASAN_O         = build/asan
UBSAN_O        = build/ubsan
ASAN_FLAGS     = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UBSAN_FLAGS    = -fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
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
	CFLAGS="-O1 -g $(UBSAN_FLAGS)" LDFLAGS="$(UBSAN_FLAGS)" \
		$(MAKE) CC=$(SANITIZE_CC) O=$(UBSAN_O) $(UBSAN_O)/gpio2mqtt
	tests/memcheck/run.sh sanitizer $(UBSAN_O)/gpio2mqtt

valgrind-check: deps
	@tests/install-deps.sh valgrind
	$(MAKE) O=$(VALGRIND_O) $(VALGRIND_O)/gpio2mqtt
	tests/memcheck/run.sh valgrind $(VALGRIND_O)/gpio2mqtt $(VALGRIND_TESTS)

sanitize-clean:
	rm -rf $(ASAN_O) $(UBSAN_O) $(VALGRIND_O)

.PHONY: sanitize-check valgrind-check sanitize-clean
