# SPDX-License-Identifier: MIT
# gpio2mqtt — MQTT <-> GPIO bridge for Linux single-board computers.
#
#   make            build daemon/gpio2mqtt
#   make check      every test (unit tests, then integration tests under UML)
#   make demo       boot the test rig and show an LED and a button at work
#   make install    install binary, default mapping, man pages, systemd unit,
#                   udev rule and sysusers file
#   make dist       the upstream tarball, build/gpio2mqtt-VERSION.tar.gz
#   make deb        the Debian source and binary packages, into build/deb
#                   (see debian/), checked with lintian
#   make deb ARCH=arm64|armhf|amd64 [SUITE=bookworm|trixie]
#                   the same for that architecture and Debian release, built
#                   in a cached build chroot, into build/deb/SUITE-ARCH
#   make e2e        install and use that package on booted Debian bookworm
#                   and trixie under the test kernel
#   make e2e-arm    the arm64 and armhf packages installed and used on an
#                   emulated arm64 board (qemu-system-aarch64) running bookworm
#
# Build against another libgpiod by pointing PKG_CONFIG_PATH at its .pc file
# and O= at a build directory of its own (see docs/building.md).

VERSION    = 0.1.0
PREFIX    ?= /usr
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# Where systemd.pc says units go: /lib/systemd/system on bookworm, whose
# debhelper looks for units nowhere else, /usr/lib/systemd/system later. The
# udev rules directory is its sibling (/lib/udev/rules.d, /usr/lib/...).
SYSTEMD_PC = $(shell $(PKG_CONFIG) --variable=$(1) systemd 2>/dev/null)
UNITDIR   ?= $(or $(call SYSTEMD_PC,systemdsystemunitdir),$(PREFIX)/lib/systemd/system)
UDEVRULESDIR ?= $(patsubst %/systemd/system,%/udev/rules.d,$(UNITDIR))
SYSUSERSDIR ?= $(or $(call SYSTEMD_PC,sysusersdir),$(PREFIX)/lib/sysusers.d)
DESTDIR   ?=
O         ?= daemon

CC        ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS    ?= -O2 -g
# override: a distribution's CFLAGS/CPPFLAGS on make's command line come
# first, the project's own flags are still added.
override CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
override CPPFLAGS += -D_GNU_SOURCE -DGPIO2MQTT_VERSION='"$(VERSION)"'

PKGS       = libmosquitto libgpiod libconfig libcjson openssl
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
GPIOD_VERSION := $(shell $(PKG_CONFIG) --modversion libgpiod 2>/dev/null)
GPIOD_MAJOR := $(firstword $(subst ., ,$(GPIOD_VERSION)))
ifeq ($(GPIOD_MAJOR),1)
GPIO_SRC   = gpio_v1.c
else
GPIO_SRC   = gpio_v2.c
endif
override CPPFLAGS += -DGPIOD_BUILT_VERSION='"$(GPIOD_VERSION)"'

# What the unit tests link: everything but the two modules that touch a GPIO
# chip or a broker (the tests put an in-memory GPIO backend and a recording
# MQTT client in their place, tests/unit/) and main().
UNIT_TESTED_SRCS = config.c config_lines.c config_checks.c config_read.c config_mqtt.c config_ha.c hints.c template.c topics.c \
	topic_table.c board.c ha_discovery.c \
	subscriptions.c payload.c linenames.c chiptable.c backoff.c broker.c log.c notify.c \
	problems.c loop.c timer.c publish.c lineset.c plan.c output.c input.c press.c queries.c bridge.c \
	statefile.c wholefile.c ha_memory.c
DAEMON_SRCS = $(UNIT_TESTED_SRCS) $(GPIO_SRC) mqtt.c mqtt_ends.c mqtt_keepalive.c forget.c main.c
DAEMON_OBJS = $(addprefix $(O)/,$(DAEMON_SRCS:.c=.o))
UNIT_TESTED_OBJS = $(addprefix $(O)/,$(UNIT_TESTED_SRCS:.c=.o))

all: $(O)/gpio2mqtt

$(O)/gpio2mqtt: $(DAEMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(PKG_LIBS) $(LDLIBS)

$(O)/%.o: daemon/%.c daemon/*.h | $(O)/
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/:
	mkdir -p $@

include tests/tests.mk
include tests/bench/bench.mk
include tests/fuzz/fuzz.mk
include tests/sanitize.mk

install: $(O)/gpio2mqtt
	install -D -m 0755 $(O)/gpio2mqtt $(DESTDIR)$(SBINDIR)/gpio2mqtt
	install -D -m 0644 mappings/gpio2mqtt.conf $(DESTDIR)$(SYSCONFDIR)/gpio2mqtt/gpio2mqtt.conf
	install -D -m 0644 daemon/gpio2mqtt.8 $(DESTDIR)$(MANDIR)/man8/gpio2mqtt.8
	install -D -m 0644 daemon/gpio2mqtt.conf.5 $(DESTDIR)$(MANDIR)/man5/gpio2mqtt.conf.5
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/sbin/gpio2mqtt|$(SBINDIR)/gpio2mqtt|g' systemd/gpio2mqtt.service \
		>$(DESTDIR)$(UNITDIR)/gpio2mqtt.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/gpio2mqtt.service
	install -D -m 0644 systemd/gpio2mqtt.rules $(DESTDIR)$(UDEVRULESDIR)/60-gpio2mqtt.rules
	install -D -m 0644 systemd/gpio2mqtt.sysusers $(DESTDIR)$(SYSUSERSDIR)/gpio2mqtt.conf

clean: tests-clean
	rm -f daemon/*.o daemon/gpio2mqtt

dist:
	@tests/e2e/make-dist.sh build

# Built from the upstream tarball and debian/, so the tree stays as it is.
DEB_DIR   ?= build/deb

# make deb ARCH=... [SUITE=...]: another architecture or Debian release,
# cross-built in a chroot (tests/arm/cross-deb.sh); this machine's packages
# and apt sources stay as they are.
ARCH      ?=
SUITE     ?= $(shell . /etc/os-release 2>/dev/null && echo $$VERSION_CODENAME)

deb:
ifeq ($(ARCH),)
	tests/e2e/build-deb.sh $(DEB_DIR)
else
	tests/arm/cross-deb.sh $(SUITE) $(ARCH) $(DEB_DIR)/$(SUITE)-$(ARCH)
endif

e2e:
	tests/e2e/run.sh

e2e-arm:
	tests/arm/run.sh

.PHONY: all install clean dist deb e2e e2e-arm
