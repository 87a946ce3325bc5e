/* SPDX-License-Identifier: MIT */
#include "backoff.h"

#include <stdlib.h>

void backoff_init(struct backoff *b, unsigned int first_ms, unsigned int max_ms,
		  unsigned int seed)
{
	b->first_ms = first_ms;
	b->max_ms = max_ms < first_ms ? first_ms : max_ms;
	b->seed = seed;
	backoff_reset(b);
}

void backoff_reset(struct backoff *b)
{
	b->step_ms = b->first_ms;
}

unsigned int backoff_next(struct backoff *b)
{
	unsigned int half = b->step_ms / 2;
	unsigned int delay = half + (unsigned int)rand_r(&b->seed) % (b->step_ms - half + 1);

	b->step_ms = b->step_ms > b->max_ms / 2 ? b->max_ms : b->step_ms * 2;
	return delay;
}
