# Test targets, included by the top-level Makefile.

CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
UNIT_SRCS    = $(wildcard tests/unit/*.c)

check: deps unit-check integration-check

deps:
	@tests/install-deps.sh

unit-check: $(O)/run-unit
	$(O)/run-unit

$(O)/run-unit: $(UNIT_SRCS) $(PURE_OBJS) daemon/*.h | $(O)/
	$(CC) $(CPPFLAGS) -Idaemon $(PKG_CFLAGS) $(CHECK_CFLAGS) $(CFLAGS) -o $@ \
		$(UNIT_SRCS) $(PURE_OBJS) $(PKG_LIBS) $(CHECK_LIBS) $(LDLIBS)

integration-check: $(O)/gpio2mqtt
	tests/integration/run-all.sh $(O)/gpio2mqtt

demo: deps $(O)/gpio2mqtt
	tests/demo.sh $(O)/gpio2mqtt

tests-clean:
	rm -f $(O)/run-unit

.PHONY: check deps unit-check integration-check demo tests-clean
