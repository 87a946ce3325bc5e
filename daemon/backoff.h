/* SPDX-License-Identifier: MIT */
/* backoff: reconnect delays, capped exponential with jitter. Pure.
 * Jitter keeps a classroom of boards from reconnecting in lock-step after
 * the broker restarts. */
#ifndef GPIO2MQTT_BACKOFF_H
#define GPIO2MQTT_BACKOFF_H

struct backoff {
	unsigned int first_ms; /* the first delay is at most this */
	unsigned int max_ms;
	unsigned int step_ms;  /* upper bound of the next delay */
	unsigned int seed;
};

void backoff_init(struct backoff *b, unsigned int first_ms, unsigned int max_ms,
		  unsigned int seed);
/* The next delay, in [1, step]; the step then doubles up to max_ms. The
 * first step is first_ms, or max_ms when that is smaller. */
unsigned int backoff_next(struct backoff *b);
/* After a successful connection: start again from first_ms. */
void backoff_reset(struct backoff *b);

#endif
