/* SPDX-License-Identifier: MIT */
#include "bridge_harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gpio_mem.h"
#include "log.h"

void harness_setup(struct harness *h, const char *const *names, unsigned int n)
{
	int fd;

	*h = (struct harness){ .path = "/tmp/gpio2mqtt-bridge-XXXXXX" };
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	log_init(0);
	gpio_mem_reset();
	ck_assert_int_eq(gpio_mem_add_chip("gpiochip0", "unit", n, names), 0);
	fd = mkstemp(h->path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

void harness_teardown(struct harness *h)
{
	bridge_free(h->bridge);
	h->bridge = NULL;
	unlink(h->path);
	gpio_mem_reset();
}

void harness_write_mapping(const struct harness *h, const char *text)
{
	FILE *f = fopen(h->path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

void harness_start(struct harness *h, const char *text)
{
	int status;

	harness_write_mapping(h, text);
	h->bridge = bridge_new(h->path, &status);
	ck_assert_ptr_nonnull(h->bridge);
	bridge_start(h->bridge);
	h->mqtt = mqtt_fake_client();
	ck_assert_ptr_nonnull(h->mqtt);
	mqtt_fake_accept(h->mqtt);
	mqtt_fake_suback(h->mqtt);
	ck_assert_int_eq(bridge_poll(h->bridge, 0), 0);
}
