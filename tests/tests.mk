# SPDX-License-Identifier: MIT
# Test targets, included by the top-level Makefile.

CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
UNIT_SRCS    = $(wildcard tests/unit/*.c)
# tests/unit/test_config_oom.c makes an allocation fail through these.
UNIT_WRAP    = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
# The daemon built against the other libgpiod generation (2.x, unpacked from
# Debian's archive by tests/gpiod2/fetch.sh) when the system's is 1.6.
GPIOD2_O     = build/gpiod2
# What differs between the libgpiod generations is the GPIO side: the tests
# of other brokers (minutes of Erlang starting) run with the system's build.
GPIOD2_TESTS = $(filter-out test-rabbitmq%,$(notdir $(wildcard tests/integration/test-*.sh)))

# deps first, in a make of its own: the flags that pkg-config gives are read
# when make starts, and on a fresh machine the libraries come with deps.
check: deps
	$(MAKE) unit-check integration-check integration-check-gpiod2

deps:
	@tests/install-deps.sh
	@tests/classroom/install-deps.sh
	@tests/brokers/node/prepare.sh >/dev/null
	@tests/brokers/rabbitmq/install-deps.sh

unit-check: $(O)/run-unit
	$(O)/run-unit

$(O)/run-unit: $(UNIT_SRCS) $(UNIT_TESTED_OBJS) daemon/*.h $(wildcard tests/unit/*.h) | $(O)/
	$(CC) $(CPPFLAGS) -Idaemon $(PKG_CFLAGS) $(CHECK_CFLAGS) $(CFLAGS) -o $@ \
		$(UNIT_SRCS) $(UNIT_TESTED_OBJS) $(UNIT_WRAP) $(PKG_LIBS) $(CHECK_LIBS) $(LDLIBS)

integration-check: $(O)/gpio2mqtt
	tests/integration/run-all.sh $(O)/gpio2mqtt

ifeq ($(GPIOD_MAJOR),1)
integration-check-gpiod2:
	PKG_CONFIG_PATH="$$(tests/gpiod2/fetch.sh)" $(MAKE) O=$(GPIOD2_O) $(GPIOD2_O)/gpio2mqtt
	$(GPIOD2_O)/gpio2mqtt --version | grep -q '^libgpiod 2\.'
	tests/integration/run-all.sh $(GPIOD2_O)/gpio2mqtt $(GPIOD2_TESTS)
else
integration-check-gpiod2:
	@echo "libgpiod $(GPIOD_VERSION) is the system's: integration-check covered it"
endif

demo: deps
	$(MAKE) $(O)/gpio2mqtt
	tests/demo.sh $(O)/gpio2mqtt

tests-clean:
	rm -f $(O)/run-unit
	rm -rf $(GPIOD2_O)

.PHONY: check deps unit-check integration-check integration-check-gpiod2 demo tests-clean
