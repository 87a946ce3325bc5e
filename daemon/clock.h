/* SPDX-License-Identifier: MIT */
/* clock: the one clock the daemon measures with, CLOCK_MONOTONIC (it does
 * not jump when the wall clock is set). */
#ifndef GPIO2MQTT_CLOCK_H
#define GPIO2MQTT_CLOCK_H

#include <time.h>

static inline long long clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline long long clock_now_us(void)
{
	return clock_now_ns() / 1000;
}

static inline long long clock_now_ms(void)
{
	return clock_now_us() / 1000;
}

#endif
