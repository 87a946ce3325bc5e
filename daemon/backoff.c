/* SPDX-License-Identifier: MIT */
#include "backoff.h"

#include <stdlib.h>

void backoff_init(struct backoff *b, unsigned int first_ms, unsigned int max_ms,
		  unsigned int seed)
{
	b->first_ms = first_ms < max_ms ? first_ms : max_ms;
	b->max_ms = max_ms;
	b->seed = seed;
	backoff_reset(b);
}

void backoff_reset(struct backoff *b)
{
	b->step_ms = b->first_ms;
}

/* Anywhere in the step ("full jitter"), not in its upper half: boards that
 * lost the broker at the same moment are in the same step, and only a wide
 * window spreads them (100 boards, a broker back after 0.05 to 4 s: at most
 * a fifth of them in any first 100 ms with a first step of 1.5 s). */
unsigned int backoff_next(struct backoff *b)
{
	unsigned int delay = 1 + (unsigned int)rand_r(&b->seed) % (b->step_ms ? b->step_ms : 1);

	b->step_ms = b->step_ms > b->max_ms / 2 ? b->max_ms : b->step_ms * 2;
	return delay;
}
